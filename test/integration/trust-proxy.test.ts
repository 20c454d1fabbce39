/**
 * Behind a reverse proxy every request comes from the proxy's address: with TRUST_PROXY the client address
 * (rate limits, logs) is taken from X-Forwarded-For instead; without it the header is ignored, so a client
 * cannot pick its own rate-limit bucket.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

describe('TRUST_PROXY and per-client rate limits', () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  /** Wrong-key requests (counted per address) from a forwarded client address. */
  const from = (app: TestApp, address: string) =>
    app.request('GET', '/api/messages', {
      headers: { 'x-api-key': 'not-the-key-0123456789', 'x-forwarded-for': address },
    });

  it('gives each forwarded client its own budget when the proxy is trusted', async () => {
    t = await startTestApp({ dialect: 'sqlite', env: { RATE_LIMIT_MAX: '2', TRUST_PROXY: '127.0.0.1' } });
    const first = [await from(t, '203.0.113.7'), await from(t, '203.0.113.7'), await from(t, '203.0.113.7')];
    expect(first.map((res) => res.status)).toEqual([401, 401, 429]);
    expect((await from(t, '198.51.100.9')).status).toBe(401);
  });

  it('ignores X-Forwarded-For by default: one budget for the socket address', async () => {
    t = await startTestApp({ dialect: 'sqlite', env: { RATE_LIMIT_MAX: '2' } });
    const statuses = [
      (await from(t, '203.0.113.7')).status,
      (await from(t, '198.51.100.9')).status,
      (await from(t, '192.0.2.1')).status,
    ];
    expect(statuses).toEqual([401, 401, 429]);
  });
});
