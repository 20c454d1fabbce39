import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signWebhookBody } from '../../src/whatsapp/webhook-signature.js';
import { metricValue, parsePrometheus } from '../helpers/prometheus.js';
import { assertNoSecretsInLogs } from '../helpers/log-secrets.js';
import { startTestApp, TEST_API_KEY, type TestApp } from '../helpers/test-app.js';

const APP_SECRET = 'security-app-secret-0123456789abcdef';

describe('security headers, CORS closed by default, body limits, 500s without internals', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ dialect: 'sqlite', env: { WHATSAPP_APP_SECRET: APP_SECRET } });
  });
  afterAll(async () => {
    if (t !== undefined) assertNoSecretsInLogs(t.logs, { secrets: [TEST_API_KEY, APP_SECRET] });
    await t?.close();
  });

  it.each([
    ['an unknown route', 'GET', '/nowhere'],
    ['the health check', 'GET', '/healthz'],
    ['the API docs', 'GET', '/docs/static/index.html'],
  ])("puts helmet's document headers on %s", async (_name, method, path) => {
    const res = await t.request(method, path);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("img-src 'self' data: blob:");
    expect(csp).toMatch(/script-src 'self'(;|$)/);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("object-src 'none'");
    expect(csp).not.toContain('upgrade-insecure-requests');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    expect(res.headers.get('strict-transport-security')).toMatch(/max-age=\d+/);
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(res.headers.get('cross-origin-opener-policy')).toBe('same-origin');
    expect(res.headers.get('x-powered-by')).toBeNull();
  });

  it.each([
    ['an API answer', 'GET', '/api/messages'],
    ['a refusal', 'POST', '/api/whatsapp/notify'],
    ['an unknown API route', 'GET', '/api/nowhere'],
  ])(
    'puts the API headers on %s: nothing cached, nothing allowed, no framing',
    async (_name, method, path) => {
      const res = await t.request(method, path, method === 'POST' ? { body: {} } : {});
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(res.headers.get('content-security-policy')).toBe("default-src 'none'; frame-ancestors 'none'");
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('cross-origin-resource-policy')).toBe('same-origin');
      expect(res.headers.get('strict-transport-security')).toMatch(/max-age=\d+/);
      expect(res.headers.get('x-powered-by')).toBeNull();
      // helmet's document-only headers stay on documents (ADR 0014).
      for (const name of ['cross-origin-opener-policy', 'origin-agent-cluster', 'x-dns-prefetch-control']) {
        expect(res.headers.get(name), name).toBeNull();
      }
    },
  );

  it('keeps the API docs working under the policy: no inline scripts, assets from the same origin', async () => {
    const page = await fetch(`${t.url}/docs/static/index.html`);
    expect(page.status).toBe(200);
    const html = await page.text();
    const scripts = [...html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attributes, body] of scripts) {
      expect(attributes).toMatch(/src="\.?\/?[^":]*"/);
      expect(body?.trim()).toBe('');
    }
    for (const asset of ['swagger-ui-bundle.js', 'swagger-initializer.js', 'swagger-ui.css']) {
      expect((await fetch(`${t.url}/docs/static/${asset}`)).status, asset).toBe(200);
    }
    const spec = await fetch(`${t.url}/docs/json`);
    expect(spec.status).toBe(200);
    expect(((await spec.json()) as { paths: Record<string, unknown> }).paths).toHaveProperty('/metrics');
  });

  it('gives no other origin access: no Access-Control-Allow-Origin, preflights included', async () => {
    const origin = 'https://evil.example';
    const simple = await t.request('GET', '/api/messages', { headers: { origin } });
    expect(simple.headers.get('access-control-allow-origin')).toBeNull();
    const preflight = await fetch(`${t.url}/api/whatsapp/notify`, {
      method: 'OPTIONS',
      headers: {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'x-api-key',
      },
    });
    expect(preflight.status).toBeLessThan(500);
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    expect(preflight.headers.get('access-control-allow-headers')).toBeNull();
  });

  it.each([
    ['POST', '/api/whatsapp/notify'],
    ['POST', '/api/tickets'],
    ['POST', '/api/tickets/00000000-0000-0000-0000-000000000000/reassign'],
    ['POST', '/api/providers'],
    ['PATCH', '/api/providers/00000000-0000-0000-0000-000000000000'],
    ['POST', '/api/sandbox/inbox/573103055424/reply'],
    ['POST', '/api/sandbox/scenarios'],
  ])('refuses a JSON body over the limit on %s %s with 413', async (method, path) => {
    const res = await t.request(method, path, { body: { description: 'x'.repeat(70_000) } });
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('payload_too_large');
  });

  it('refuses a CSV import over its limit with 413', async () => {
    const res = await t.request('POST', '/api/providers/import', {
      raw: `name,phone,location,specialties\n${'a,3001234567,Bogotá,plomería\n'.repeat(200_000)}`,
      headers: { 'content-type': 'text/csv' },
    });
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('payload_too_large');
  });

  it('answers an unexpected error with 500, a request id and no internals, and logs it under that id', async () => {
    // Break the database under the app: reading a message now fails inside SQLite.
    const sent = await t.request('POST', '/api/whatsapp/notify', {
      body: { to: '3005550990', message: 'x' },
      headers: { prefer: 'respond-async' },
    });
    await sql`drop table message_events`.execute(t.app.database.db);
    const res = await t.request('GET', `/api/messages/${sent.body.data.id}`);
    expect(res.status).toBe(500);
    expect(res.body).toEqual({
      success: false,
      error: {
        code: 'internal_error',
        message: 'Internal server error',
        details: { requestId: expect.any(String) },
      },
    });
    const text = JSON.stringify(res.body);
    for (const leak of ['message_events', 'SQLITE', 'at ', '.ts:', TEST_API_KEY, APP_SECRET]) {
      expect(text).not.toContain(leak);
    }
    const logged = t.logs.find((line) => line.includes('"event":"http.unexpected_error"'));
    expect(logged).toContain(res.body.error.details.requestId);
    expect(logged).toContain('no such table');
  });
});

describe('CORS_ORIGINS opens the API to the listed origins only', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ dialect: 'sqlite', env: { CORS_ORIGINS: 'https://admin.example.com' } });
  });
  afterAll(async () => {
    if (t !== undefined) assertNoSecretsInLogs(t.logs, { secrets: [TEST_API_KEY] });
    await t?.close();
  });

  it('allows the listed origin, preflight included, and no other', async () => {
    const allowed = await t.request('GET', '/api/messages', {
      headers: { origin: 'https://admin.example.com' },
    });
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://admin.example.com');
    const preflight = await fetch(`${t.url}/api/whatsapp/notify`, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://admin.example.com',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'x-api-key,content-type',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://admin.example.com');
    expect(preflight.headers.get('access-control-allow-headers')).toContain('x-api-key');
    const other = await t.request('GET', '/api/messages', { headers: { origin: 'https://evil.example' } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('webhook rate limit (WEBHOOK_RATE_LIMIT_MAX)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({
      dialect: 'sqlite',
      env: { WHATSAPP_APP_SECRET: APP_SECRET, WEBHOOK_RATE_LIMIT_MAX: '3' },
    });
  });
  afterAll(async () => {
    if (t !== undefined) assertNoSecretsInLogs(t.logs, { secrets: [TEST_API_KEY, APP_SECRET] });
    await t?.close();
  });

  it('limits deliveries per address before the signature is checked, and counts them', async () => {
    const post = (body: string, signature: string) =>
      t.request('POST', '/api/whatsapp/webhook', {
        raw: body,
        headers: { 'content-type': 'application/json', 'x-hub-signature-256': signature },
      });
    for (let i = 0; i < 3; i++) expect((await post('{}', 'sha256=00')).status).toBe(401);
    const limited = await post('{}', 'sha256=00');
    expect(limited.status).toBe(429);
    expect(limited.body.error).toEqual({
      code: 'rate_limited',
      message: expect.stringMatching(/^Too many requests, retry in \d+ s$/),
    });
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    // A genuine delivery from the same address waits too (Meta retries).
    const signed = '{"object":"whatsapp_business_account","entry":[]}';
    expect((await post(signed, signWebhookBody(signed, APP_SECRET))).status).toBe(429);
    // The API's own budget is separate.
    expect((await t.request('GET', '/api/messages')).status).toBe(200);
    const metrics = parsePrometheus((await t.request('GET', '/metrics')).body);
    expect(metricValue(metrics, 'khk_webhook_deliveries_total', { result: 'rate_limited' })).toBe(2);
    expect(metricValue(metrics, 'khk_webhook_signature_failures_total')).toBe(3);
  });
});
