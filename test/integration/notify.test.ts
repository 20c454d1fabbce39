import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DIALECTS,
  eventually,
  isPostgresAvailable,
  startTestApp,
  TEST_API_KEY,
  type TestApp,
} from '../helpers/test-app.js';

const hasPostgres = await isPostgresAvailable();

/** The dispatcher's own timeline, without the status webhooks the sandbox sends afterwards. */
const ownEvents = (message: { events: { status: string; detail: { source?: string } | null }[] }) =>
  message.events.filter((e) => e.detail?.source !== 'webhook').map((e) => e.status);

describe.each(DIALECTS)('POST /api/whatsapp/notify on %s', (dialect) => {
  let t: TestApp;

  beforeAll(async () => {
    if (dialect === 'postgres' && !hasPostgres) return;
    t = await startTestApp({ dialect });
  });
  afterAll(async () => t?.close());

  const sandbox = () => {
    const state = t.app.sandbox?.state;
    if (state === undefined) throw new Error('sandbox expected');
    return state;
  };

  describe.skipIf(dialect === 'postgres' && !hasPostgres)('', () => {
    it("answers the seed's 200 with the wamid and the normalized number, and the message reaches the inbox", async () => {
      const res = await t.request('POST', '/api/whatsapp/notify', {
        body: { to: '310 305 5424', message: 'Test message' },
      });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        success: true,
        data: { messageId: expect.stringMatching(/^wamid\./), to: '573103055424', id: expect.any(String) },
      });
      const inbox = sandbox().messagesFor('573103055424');
      const delivered = inbox.find((m) => m.wamid === res.body.data.messageId);
      expect(delivered?.request.text?.body).toBe('Test message');
      expect(delivered?.callbackData).toBe(res.body.data.id);
    });

    it('answers 202 at once with Prefer: respond-async, and the message is sent afterwards', async () => {
      const res = await t.request('POST', '/api/whatsapp/notify', {
        body: { to: '+57 300 123 4567', message: 'async' },
        headers: { prefer: 'respond-async' },
      });
      expect(res.status).toBe(202);
      expect(res.body.data).toEqual({ id: expect.any(String), to: '573001234567', status: 'queued' });
      const message = await eventually(async () => {
        const got = await t.request('GET', `/api/messages/${res.body.data.id}`);
        return got.body.data.messageId === null ? undefined : got.body.data;
      });
      expect(message.messageId).toMatch(/^wamid\./);
      expect(ownEvents(message)).toEqual(['queued', 'sent']);
    });

    it.each([
      [{ message: 'x' }, 'to', 'to is required'],
      [{ to: 3103055424, message: 'x' }, 'to', 'to must be a string'],
      [{ to: '3103055424' }, 'message', 'message is required'],
      [{ to: '3103055424', message: '' }, 'message', 'message must not be empty'],
      [{ to: '3103055424', message: 42 }, 'message', 'message must be a string'],
      [{ to: '3103055424', message: 'x'.repeat(4097) }, 'message', 'message must be at most 4096 characters'],
    ])('refuses %j with 400 naming %s', async (body, field, message) => {
      const res = await t.request('POST', '/api/whatsapp/notify', { body });
      expect(res.status).toBe(400);
      expect(res.body).toEqual({
        success: false,
        error: { code: 'validation_error', message, details: { field, location: 'body' } },
      });
    });

    it('accepts a message of exactly 4096 characters', async () => {
      const res = await t.request('POST', '/api/whatsapp/notify', {
        body: { to: '3103055424', message: 'y'.repeat(4096) },
        headers: { prefer: 'respond-async' },
      });
      expect(res.status).toBe(202);
    });

    it.each(['123', 'abc', '1234567890', '+1 000 000 0000'])(
      'refuses the invalid number %s with invalid_phone_number',
      async (to) => {
        const res = await t.request('POST', '/api/whatsapp/notify', { body: { to, message: 'x' } });
        expect(res.status).toBe(400);
        expect(res.body.error.code).toBe('invalid_phone_number');
        expect(res.body.error.details).toEqual({ field: 'to' });
      },
    );

    it('refuses malformed JSON with 400 invalid_json', async () => {
      const res = await t.request('POST', '/api/whatsapp/notify', {
        raw: '{"to": "3103055424", "message": ',
        headers: { 'content-type': 'application/json' },
      });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('invalid_json');
    });

    it('refuses a body over the limit with 413', async () => {
      const res = await t.request('POST', '/api/whatsapp/notify', {
        body: { to: '3103055424', message: 'z'.repeat(70_000) },
      });
      expect(res.status).toBe(413);
      expect(res.body.error.code).toBe('payload_too_large');
    });

    it('refuses a missing or wrong API key with 401, and an Origin alone is not a credential', async () => {
      const body = { to: '3103055424', message: 'x' };
      for (const headers of [
        { 'x-api-key': '' },
        { 'x-api-key': 'wrong-key-wrong-key-wrong' },
        { 'x-api-key': '', origin: t.url, referer: `${t.url}/` },
      ]) {
        const res = await t.request('POST', '/api/whatsapp/notify', { body, headers });
        expect(res.status).toBe(401);
        expect(res.body).toEqual({
          success: false,
          error: { message: 'Unauthorized', code: 'unauthorized' },
        });
      }
    });

    it('answers 502 with whatsappCode when Meta refuses for good, without retrying', async () => {
      sandbox().addScenario({ fault: 'not_allowed', to: '573005550101' });
      const before = sandbox().stats().rejectedByCode['131030'] ?? 0;
      const res = await t.request('POST', '/api/whatsapp/notify', {
        body: { to: '3005550101', message: 'x' },
      });
      expect(res.status).toBe(502);
      expect(res.body.success).toBe(false);
      expect(res.body.error.code).toBe('whatsapp_rejected');
      expect(res.body.error.details.whatsappCode).toBe(131030);
      expect((sandbox().stats().rejectedByCode['131030'] ?? 0) - before).toBe(1);
      const message = (await t.request('GET', `/api/messages/${res.body.error.details.id}`)).body.data;
      expect(message.status).toBe('failed');
      expect(message.attempts).toBe(1);
      expect(message.lastError).toMatchObject({ code: 'whatsapp_rejected', whatsappCode: 131030 });
    });

    it('retries 500, 503 and 130429, then answers 200 after the fourth Graph call', async () => {
      const to = '573005550102';
      sandbox().addScenario({ fault: 'server_error', to, next: 1 });
      sandbox().addScenario({ fault: 'service_unavailable', to, next: 1 });
      sandbox().addScenario({ fault: 'throughput', to, next: 1 });
      const res = await t.request('POST', '/api/whatsapp/notify', { body: { to, message: 'retry me' } });
      expect(res.status).toBe(200);
      const message = (await t.request('GET', `/api/messages/${res.body.data.id}`)).body.data;
      expect(['sent', 'delivered', 'read']).toContain(message.status);
      expect(message.attempts).toBe(4);
      expect(ownEvents(message)).toEqual(['queued', 'retrying', 'retrying', 'retrying', 'sent']);
      expect(message.events[1].detail.error.whatsappCode).toBe(131000);
      expect(sandbox().messagesFor(to)).toHaveLength(1);
    });

    it('answers 202 "retrying" when the message is still being retried at NOTIFY_WAIT_MS', async () => {
      const slow = await startTestApp({
        dialect,
        env: { NOTIFY_WAIT_MS: '300', WHATSAPP_RETRY_BASE_MS: '5000' },
      });
      try {
        slow.app.sandbox?.state.addScenario({ fault: 'server_error', to: '573005550103' });
        const res = await slow.request('POST', '/api/whatsapp/notify', {
          body: { to: '3005550103', message: 'x' },
        });
        expect(res.status).toBe(202);
        expect(res.body.data).toMatchObject({ to: '573005550103', status: 'retrying' });
      } finally {
        await slow.close();
      }
    });

    it('marks a message failed with attempts_exhausted after WHATSAPP_MAX_ATTEMPTS transient failures', async () => {
      const limited = await startTestApp({ dialect, env: { WHATSAPP_MAX_ATTEMPTS: '3' } });
      try {
        limited.app.sandbox?.state.addScenario({ fault: 'html_502', to: '573005550104' });
        const res = await limited.request('POST', '/api/whatsapp/notify', {
          body: { to: '3005550104', message: 'x' },
        });
        expect(res.status).toBe(502);
        const message = (await limited.request('GET', `/api/messages/${res.body.error.details.id}`)).body
          .data;
        expect(message).toMatchObject({
          status: 'failed',
          attempts: 3,
          lastError: { code: 'attempts_exhausted' },
        });
      } finally {
        await limited.close();
      }
    });

    it('never sends twice for the same Idempotency-Key, and refuses the key for a different request', async () => {
      const headers = { 'idempotency-key': `key-${dialect}-1` };
      const first = await t.request('POST', '/api/whatsapp/notify', {
        body: { to: '3005550105', message: 'once' },
        headers,
      });
      const second = await t.request('POST', '/api/whatsapp/notify', {
        body: { to: '3005550105', message: 'once' },
        headers,
      });
      expect(first.status).toBe(200);
      expect(second.status).toBe(200);
      expect(second.body).toEqual(first.body);
      expect(sandbox().messagesFor('573005550105')).toHaveLength(1);
      const other = await t.request('POST', '/api/whatsapp/notify', {
        body: { to: '3005550105', message: 'other' },
        headers,
      });
      expect(other.status).toBe(409);
      expect(other.body.error.code).toBe('idempotency_key_conflict');
    });

    it('lists messages newest first with filters and a cursor', async () => {
      const to = '573005550106';
      for (const text of ['a', 'b', 'c']) {
        await t.request('POST', '/api/whatsapp/notify', {
          body: { to, message: text },
          headers: { prefer: 'respond-async' },
        });
      }
      const page1 = await t.request('GET', `/api/messages?to=${to}&limit=2`);
      expect(page1.status).toBe(200);
      expect(page1.body.data.items).toHaveLength(2);
      expect(page1.body.data.nextCursor).toEqual(expect.any(String));
      const page2 = await t.request(
        'GET',
        `/api/messages?to=${to}&limit=2&cursor=${page1.body.data.nextCursor}`,
      );
      expect(page2.body.data.items).toHaveLength(1);
      expect(page2.body.data.nextCursor).toBeNull();
      const ids = [...page1.body.data.items, ...page2.body.data.items].map((m: { id: string }) => m.id);
      expect(new Set(ids).size).toBe(3);
      expect(ids).toEqual([...ids].sort().reverse());
      const bad = await t.request('GET', '/api/messages?limit=0');
      expect(bad.status).toBe(400);
      expect(bad.body.error.details.field).toBe('limit');
      const missing = await t.request('GET', '/api/messages/00000000-0000-7000-8000-000000000000');
      expect(missing.status).toBe(404);
    });

    it('never writes the API key, the Meta token or a full phone number to the logs', () => {
      const all = t.logs.join('');
      expect(all).toContain('whatsapp.sent');
      expect(all).not.toContain(TEST_API_KEY);
      expect(all).not.toMatch(/573103055424|573001234567|573005550102/);
    });
  });
});

describe('POST /api/whatsapp/notify without credentials in cloud mode', () => {
  it('answers 500 "WhatsApp API credentials not configured"', async () => {
    const t = await startTestApp({ dialect: 'sqlite', env: { WHATSAPP_MODE: 'cloud' } });
    try {
      const res = await t.request('POST', '/api/whatsapp/notify', {
        body: { to: '3103055424', message: 'x' },
      });
      expect(res.status).toBe(500);
      expect(res.body).toEqual({
        success: false,
        error: { message: 'WhatsApp API credentials not configured', code: 'whatsapp_not_configured' },
      });
      expect(t.logs.join('')).toContain('whatsapp.not_configured');
    } finally {
      await t.close();
    }
  });
});

describe('rate limit', () => {
  it('answers 429 with Retry-After past RATE_LIMIT_MAX per minute', async () => {
    const t = await startTestApp({ dialect: 'sqlite', env: { RATE_LIMIT_MAX: '3' } });
    try {
      const statuses: number[] = [];
      let last;
      for (let i = 0; i < 4; i++) {
        last = await t.request('GET', '/api/messages');
        statuses.push(last.status);
      }
      expect(statuses).toEqual([200, 200, 200, 429]);
      expect(last?.body.error.code).toBe('rate_limited');
      expect(Number(last?.headers.get('retry-after'))).toBeGreaterThan(0);
    } finally {
      await t.close();
    }
  });
});
