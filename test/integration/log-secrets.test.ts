import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSandbox, type Sandbox } from '../../src/sandbox/build-sandbox.js';
import { signWebhookBody } from '../../src/whatsapp/webhook-signature.js';
import { assertNoSecretsInLogs } from '../helpers/log-secrets.js';
import { eventually, startTestApp, TEST_API_KEY, type TestApp } from '../helpers/test-app.js';

const TOKEN = 'EAAGsandboxTokenForLogTests0123456789';
const APP_SECRET = 'log-test-app-secret-0123456789abcdef';
const VERIFY_TOKEN = 'log-test-verify-token-4242';
const PHONE_NUMBER_ID = '106540352242922';
const CENTER = '573103055424';
const REPORTER = '573005551234';
const PROVIDER = '573005556789';
const EXPIRED = '573005550190';
const REJECTED = '573005550131';

/**
 * The complete pino output (level trace) of a representative run — notify, idempotency, tickets with a
 * reporter's phone, a provider, replies, webhooks with bad signatures and the handshake, 190 auth errors and
 * 131030 refusals from the Cloud API, metrics — holds no token, API key, app secret, verify token or full
 * phone number; the masked form is there instead.
 */
describe('secrets and phone numbers never reach the logs', () => {
  let sandbox: Sandbox;
  let t: TestApp;
  const webhook = { url: '' };

  beforeAll(async () => {
    sandbox = buildSandbox({
      tokens: [TOKEN],
      phoneNumberIds: [PHONE_NUMBER_ID],
      webhook: { url: () => webhook.url, appSecret: APP_SECRET },
    });
    const sandboxUrl = await sandbox.app.listen({ port: 0, host: '127.0.0.1' });
    t = await startTestApp({
      dialect: 'sqlite',
      env: {
        LOG_LEVEL: 'trace',
        WHATSAPP_MODE: 'cloud',
        WHATSAPP_TOKEN: TOKEN,
        WHATSAPP_PHONE_NUMBER_ID: PHONE_NUMBER_ID,
        WHATSAPP_API_URL: sandboxUrl,
        WHATSAPP_APP_SECRET: APP_SECRET,
        WHATSAPP_VERIFY_TOKEN: VERIFY_TOKEN,
        WHATSAPP_DEFAULT_TO: CENTER,
        NOTIFY_INCLUDE_REPORTER_PHONE: 'true',
      },
    });
    webhook.url = `${t.url}/api/whatsapp/webhook`;
  });
  afterAll(async () => {
    await t?.close();
    await sandbox?.app.close();
  });

  it('holds none of them after a representative run', async () => {
    const ok = await t.request('POST', '/api/whatsapp/notify', {
      body: { to: '310 305 5424', message: `Llame al +57 300 555 1234` },
      headers: { 'idempotency-key': 'log-test-1' },
    });
    expect(ok.status).toBe(200);
    await t.request('POST', '/api/whatsapp/notify', {
      body: { to: '310 305 5424', message: `Llame al +57 300 555 1234` },
      headers: { 'idempotency-key': 'log-test-1' },
    });
    // The token expired (Graph 190) and a number not allowed (131030): both fail with Meta's answer logged.
    sandbox.state.addScenario({ fault: 'token_expired', to: EXPIRED });
    sandbox.state.addScenario({ fault: 'not_allowed', to: REJECTED });
    expect(
      (await t.request('POST', '/api/whatsapp/notify', { body: { to: EXPIRED, message: 'x' } })).status,
    ).toBe(502);
    expect(
      (await t.request('POST', '/api/whatsapp/notify', { body: { to: `+${REJECTED}`, message: 'x' } }))
        .status,
    ).toBe(502);
    // An invalid number is refused before anything is stored.
    expect(
      (await t.request('POST', '/api/whatsapp/notify', { body: { to: 'abc', message: 'x' } })).status,
    ).toBe(400);

    const provider = await t.request('POST', '/api/providers', {
      body: { name: 'Carlos Pérez', phone: '300 555 6789', location: 'Bogotá', specialties: ['plomería'] },
    });
    expect(provider.status).toBe(201);
    const ticket = await t.request('POST', '/api/tickets', {
      body: {
        description: 'Fuga en el baño',
        location: 'Bogotá',
        specialty: 'plomería',
        reporter: { name: 'Ana', phone: '300 555 1234' },
      },
    });
    expect(ticket.status).toBe(201);
    const center = await t.request('POST', '/api/tickets', {
      body: {
        description: 'Sin proveedor',
        location: 'Cali',
        specialty: 'vidrios',
        reporter: { phone: REPORTER },
      },
    });
    expect(center.status).toBe(201);
    await eventually(async () => {
      const res = await t.request('GET', `/api/tickets/${ticket.body.data.ticket.id}`);
      return res.body.data.notifications?.[0]?.status === 'read' ? true : undefined;
    });
    await sandbox.state.reply(PROVIDER, { text: `Voy, mi otro número es 3005556789` });
    await eventually(async () => {
      const res = await t.request('GET', `/api/messages?direction=inbound&to=${PROVIDER}`);
      return res.body.data.items.length > 0 ? true : undefined;
    });

    // Webhooks: forged, missing signature, the handshake with a wrong and the right token.
    const body = '{"object":"whatsapp_business_account","entry":[]}';
    for (const signature of [signWebhookBody(body, 'not-the-secret'), '']) {
      const res = await t.request('POST', '/api/whatsapp/webhook', {
        raw: body,
        headers: { 'content-type': 'application/json', 'x-hub-signature-256': signature, 'x-api-key': '' },
      });
      expect(res.status).toBe(401);
    }
    for (const token of ['wrong-token-123456', VERIFY_TOKEN]) {
      await t.request(
        'GET',
        `/api/whatsapp/webhook?hub.mode=subscribe&hub.verify_token=${token}&hub.challenge=1158201444`,
      );
    }
    // Lookups with the number in the URL, a wrong key, and a scrape.
    await t.request('GET', `/api/messages?to=${CENTER}`);
    await t.request('GET', `/api/sandbox/inbox/${CENTER}`);
    await t.request('GET', '/api/messages', { headers: { 'x-api-key': `${TEST_API_KEY}-wrong` } });
    expect((await t.request('GET', '/metrics')).status).toBe(200);
    await t.app.webhookInbox.idle();

    const text = t.logs.join('');
    expect(text).toContain('"event":"whatsapp.sent"');
    expect(text).toContain('"event":"webhook.signature_invalid"');
    expect(text).toContain('"whatsappCode":190');
    expect(text).toContain('57310***5424');
    assertNoSecretsInLogs(t.logs, {
      secrets: [TOKEN, TEST_API_KEY, APP_SECRET, VERIFY_TOKEN],
      phoneNumbers: [CENTER, '3103055424', REPORTER, '3005551234', PROVIDER, '3005556789', EXPIRED, REJECTED],
    });
  });
});
