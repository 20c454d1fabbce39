import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signWebhookBody } from '../../src/whatsapp/webhook-signature.js';
import { metricValue, parsePrometheus, type Sample } from '../helpers/prometheus.js';
import { assertNoSecretsInLogs } from '../helpers/log-secrets.js';
import {
  DIALECTS,
  eventually,
  isPostgresAvailable,
  startTestApp,
  TEST_API_KEY,
  type TestApp,
} from '../helpers/test-app.js';

const hasPostgres = await isPostgresAvailable();
const APP_SECRET = 'metrics-app-secret-0123456789abcdef';

async function scrape(t: TestApp, headers: Record<string, string> = {}): Promise<Sample[]> {
  const res = await fetch(`${t.url}/metrics`, { headers: { 'x-api-key': TEST_API_KEY, ...headers } });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePrometheus(await res.text());
}

describe.each(DIALECTS)('GET /metrics on %s', (dialect) => {
  let t: TestApp;
  const skip = dialect === 'postgres' && !hasPostgres;

  beforeAll(async () => {
    if (skip) return;
    t = await startTestApp({ dialect, env: { WHATSAPP_APP_SECRET: APP_SECRET } });
  });
  afterAll(async () => {
    if (t !== undefined) assertNoSecretsInLogs(t.logs, { secrets: [TEST_API_KEY, APP_SECRET] });
    await t?.close();
  });

  describe.skipIf(skip)('', () => {
    it('needs the API key', async () => {
      for (const key of ['', 'wrong-key-wrong-key-wrong']) {
        const res = await t.request('GET', '/metrics', { headers: { 'x-api-key': key } });
        expect(res.status).toBe(401);
        expect(res.body).toEqual({
          success: false,
          error: { code: 'unauthorized', message: 'Unauthorized' },
        });
      }
    });

    it('counts sends by outcome and Meta code, their latency, retries, webhooks and HTTP routes', async () => {
      const before = await scrape(t);
      const sandbox = t.app.sandbox!.state;
      sandbox.addScenario({ fault: 'not_allowed', to: '573005559102', next: 1 });
      sandbox.addScenario({ fault: 'server_error', to: '573005559103', next: 1 });

      const sent = [];
      for (const to of ['3005559101', '3005559104', '3005559105']) {
        const res = await t.request('POST', '/api/whatsapp/notify', { body: { to, message: 'hola' } });
        expect(res.status).toBe(200);
        sent.push(res.body.data.id);
      }
      const rejected = await t.request('POST', '/api/whatsapp/notify', {
        body: { to: '3005559102', message: 'no' },
      });
      expect(rejected.status).toBe(502);
      const retried = await t.request('POST', '/api/whatsapp/notify', {
        body: { to: '3005559103', message: 'otra vez' },
      });
      expect([200, 202]).toContain(retried.status);
      await eventually(async () => {
        const m = await t.request('GET', `/api/messages/${retried.body.data.id}`);
        return m.body.data.status === 'read';
      }, 30_000);
      const badSignature = await fetch(`${t.url}/api/whatsapp/webhook`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-hub-signature-256': 'sha256=00' },
        body: '{}',
      });
      expect(badSignature.status).toBe(401);
      const signed = '{"object":"whatsapp_business_account","entry":[]}';
      const good = await fetch(`${t.url}/api/whatsapp/webhook`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-hub-signature-256': signWebhookBody(signed, APP_SECRET),
        },
        body: signed,
      });
      expect(good.status).toBe(200);

      // Every sent message is read by the sandbox's phone: 4 delivered and 4 read status changes.
      const after = await eventually(async () => {
        const now = await scrape(t);
        const read = metricValue(now, 'khk_messages_total', { status: 'read' });
        return read - metricValue(before, 'khk_messages_total', { status: 'read' }) === 4 ? now : undefined;
      }, 30_000);
      const delta = (name: string, labels: Record<string, string> = {}) =>
        metricValue(after, name, labels) - metricValue(before, name, labels);

      expect(delta('khk_messages_total', { status: 'sent', whatsapp_code: '' })).toBe(4);
      expect(delta('khk_messages_total', { status: 'failed', whatsapp_code: '131030' })).toBe(1);
      expect(delta('khk_messages_total', { status: 'retrying', whatsapp_code: '131000' })).toBe(1);
      expect(delta('khk_messages_total', { status: 'delivered' })).toBe(4);
      expect(delta('khk_whatsapp_retries_total', { error_code: 'whatsapp_transient' })).toBe(1);
      expect(delta('khk_whatsapp_send_duration_seconds_count', { outcome: 'sent' })).toBe(4);
      expect(delta('khk_whatsapp_send_duration_seconds_count', { outcome: 'failed' })).toBe(1);
      expect(delta('khk_whatsapp_send_duration_seconds_count', { outcome: 'retrying' })).toBe(1);
      expect(delta('khk_whatsapp_send_duration_seconds_sum')).toBeGreaterThan(0);
      expect(
        delta('khk_http_requests_total', {
          method: 'POST',
          route: '/api/whatsapp/notify',
          status_code: '200',
        }),
      ).toBe(3 + (retried.status === 200 ? 1 : 0));
      expect(
        delta('khk_http_requests_total', {
          method: 'POST',
          route: '/api/whatsapp/notify',
          status_code: '502',
        }),
      ).toBe(1);
      // Route patterns, never raw URLs with ids in them.
      expect(
        delta('khk_http_requests_total', { method: 'GET', route: '/api/messages/:id', status_code: '200' }),
      ).toBeGreaterThan(0);
      expect(after.some((s) => s.labels.route?.includes(retried.body.data.id))).toBe(false);
      expect(delta('khk_webhook_signature_failures_total')).toBe(1);
      expect(delta('khk_webhook_deliveries_total', { result: 'signature_invalid' })).toBe(1);
      // 4 messages × sent/delivered/read from the sandbox, plus our empty one.
      expect(delta('khk_webhook_deliveries_total', { result: 'accepted' })).toBeGreaterThanOrEqual(13);
      expect(delta('khk_webhook_events_total', { type: 'status' })).toBeGreaterThanOrEqual(12);
      expect(metricValue(after, 'khk_database_up')).toBe(1);
      // Process defaults, collected into this app's own registry.
      expect(metricValue(after, 'process_resident_memory_bytes')).toBeGreaterThan(0);
      expect(after.some((s) => s.name === 'nodejs_eventloop_lag_seconds')).toBe(true);
    });
  });
});

describe('GET /metrics with METRICS_PUBLIC=true and no dispatcher (outbox depth)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({
      dialect: 'sqlite',
      env: { METRICS_PUBLIC: 'true', WHATSAPP_MODE: 'cloud', WHATSAPP_DEFAULT_TO: '573103055424' },
    });
  });
  afterAll(async () => {
    if (t !== undefined) assertNoSecretsInLogs(t.logs, { secrets: [TEST_API_KEY] });
    await t?.close();
  });

  it('is served without a key and reports the queue that waits for credentials', async () => {
    for (const n of [1, 2]) {
      const res = await t.request('POST', '/api/tickets', {
        body: { description: `fuga ${n}`, location: 'Bogotá', specialty: 'plomería' },
      });
      expect(res.status).toBe(201);
    }
    const samples = await eventually(async () => {
      const res = await fetch(`${t.url}/metrics`);
      expect(res.status).toBe(200);
      const parsed = parsePrometheus(await res.text());
      return metricValue(parsed, 'khk_outbox_depth') === 2 ? parsed : undefined;
    });
    expect(metricValue(samples, 'khk_outbox_oldest_due_age_seconds')).toBeGreaterThanOrEqual(0);
    expect(metricValue(samples, 'khk_database_up')).toBe(1);
  });
});
