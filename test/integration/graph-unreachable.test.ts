/**
 * The Graph API cannot be reached (connection refused): sending pauses (circuit breaker), refused
 * connections do not use up a message's attempts, and everything goes out once the API is back. With a
 * budget of 2 attempts and 20 ms backoff, the old behaviour failed every message within a fraction of a
 * second; here they wait as long as the outage lasts.
 */
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSandbox, type Sandbox } from '../../src/sandbox/build-sandbox.js';
import {
  DIALECTS,
  eventually,
  isPostgresAvailable,
  startTestApp,
  type TestApp,
} from '../helpers/test-app.js';

const hasPostgres = await isPostgresAvailable();
const TOKEN = 'graph-unreachable-token-0123456789';
const PHONE_NUMBER_ID = '106540352242922';

/** A loopback port nothing listens on (yet). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address !== 'object') throw new Error('no port');
  return address.port;
}

describe.each(DIALECTS)('the Graph API unreachable on %s', (dialect) => {
  const skip = dialect === 'postgres' && !hasPostgres;
  let t: TestApp;
  let sandbox: Sandbox | null = null;
  let port = 0;

  beforeAll(async () => {
    if (skip) return;
    port = await freePort();
    t = await startTestApp({
      dialect,
      env: {
        WHATSAPP_MODE: 'cloud',
        WHATSAPP_TOKEN: TOKEN,
        WHATSAPP_PHONE_NUMBER_ID: PHONE_NUMBER_ID,
        WHATSAPP_API_URL: `http://127.0.0.1:${port}`,
        WHATSAPP_MAX_ATTEMPTS: '2',
        WHATSAPP_RETRY_BASE_MS: '20',
      },
    });
  });
  afterAll(async () => {
    await t?.close();
    await sandbox?.app.close();
  });

  it.skipIf(skip)(
    'pauses while it is down and sends everything when it is back, within 2 attempts',
    async () => {
      const ids: string[] = [];
      for (let i = 0; i < 20; i += 1) {
        const res = await t.request('POST', '/api/whatsapp/notify', {
          body: { to: `31000000${String(i).padStart(2, '0')}`, message: `mensaje ${i}` },
          headers: { prefer: 'respond-async' },
        });
        expect(res.status).toBe(202);
        ids.push(res.body.data.id as string);
      }
      // Down long enough for the breaker to open and probe a few times.
      await eventually(() => t.logs.some((line) => line.includes('"event":"whatsapp.unreachable"')), 20_000);
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const waiting = await Promise.all(
        ids.map(async (id) => (await t.request('GET', `/api/messages/${id}`)).body.data),
      );
      expect(waiting.filter((m: { status: string }) => m.status === 'failed')).toEqual([]);

      sandbox = buildSandbox({ tokens: [TOKEN], phoneNumberIds: [PHONE_NUMBER_ID] });
      await sandbox.app.listen({ port, host: '127.0.0.1' });
      const sent = await eventually(async () => {
        const all = await Promise.all(
          ids.map(async (id) => (await t.request('GET', `/api/messages/${id}`)).body.data),
        );
        return all.every((m: { status: string }) => m.status === 'sent') ? all : undefined;
      }, 60_000);
      for (const message of sent) expect(message.attempts).toBeLessThanOrEqual(2);
      expect(sandbox.state.stats().accepted).toBe(20);
      expect(t.logs.some((line) => line.includes('"event":"whatsapp.reachable"'))).toBe(true);
    },
  );
});
