import { createHmac } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { WireSendMessageResponse, WireStatus } from '../whatsapp/wire-types.js';
import type { SandboxWebhookOptions } from './build-sandbox.js';
import { SandboxControlClient } from './sandbox-client.js';
import { startSandbox, type RunningSandbox, type StartSandboxOptions } from './start-sandbox.js';
import { postMessage, templateMessage, textMessage, TEST_PHONE_NUMBER_ID } from './test-support.js';
import { startWebhookReceiver, type ReceivedWebhook, type WebhookReceiver } from './webhook-receiver.js';

const TOKEN = 'test-token';
const SECRET = 'app-secret-for-tests';
const PROVIDER = '573104567890';
const WABA_ID = '102290129340398';
const DISPLAY = '573005550199';
const FAST = { sent: 5, delivered: 15, read: 25 };

let receiver: WebhookReceiver;
const running: RunningSandbox[] = [];

beforeEach(async () => {
  receiver = await startWebhookReceiver();
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((sandbox) => sandbox.close()));
  await receiver.close();
});

async function start(
  webhook: Partial<SandboxWebhookOptions> = {},
  options: Partial<StartSandboxOptions> = {},
): Promise<RunningSandbox> {
  const sandbox = await startSandbox({
    tokens: [TOKEN],
    webhook: {
      url: receiver.url,
      appSecret: SECRET,
      wabaId: WABA_ID,
      displayPhoneNumber: DISPLAY,
      statusDelaysMs: FAST,
      ...webhook,
    },
    ...options,
  });
  running.push(sandbox);
  return sandbox;
}

async function sendAndSettle(sandbox: RunningSandbox, body: unknown): Promise<string> {
  const answer = await postMessage(sandbox.url, body, { token: TOKEN });
  expect(answer.status).toBe(200);
  await sandbox.state.webhooksIdle();
  return (answer.body as WireSendMessageResponse).messages[0]!.id;
}

/** The receiver's own check: both signatures over the exact bytes received, with the app secret. */
function expectSigned(webhook: ReceivedWebhook): void {
  const sha256 = createHmac('sha256', SECRET).update(webhook.raw).digest('hex');
  const sha1 = createHmac('sha1', SECRET).update(webhook.raw).digest('hex');
  expect(webhook.headers['x-hub-signature-256']).toBe(`sha256=${sha256}`);
  expect(webhook.headers['x-hub-signature']).toBe(`sha1=${sha1}`);
}

const statusesOf = (webhook: ReceivedWebhook): WireStatus[] =>
  webhook.body.entry.flatMap((entry) => entry.changes.flatMap((change) => change.value.statuses ?? []));

const statusNames = (): string[] =>
  receiver.received.flatMap((webhook) => statusesOf(webhook).map((s) => s.status));

describe('status webhooks', () => {
  it('sends sent → delivered → read, one signed Meta envelope per POST, echoing callback data', async () => {
    const sandbox = await start();
    const wamid = await sendAndSettle(sandbox, textMessage(PROVIDER, 'hola', 'ticket:T-2026-00042'));

    expect(receiver.received).toHaveLength(3);
    expect(statusNames()).toEqual(['sent', 'delivered', 'read']);
    const freeService = {
      billable: false,
      pricing_model: 'PMP',
      type: 'free_customer_service',
      category: 'service',
    };
    receiver.received.forEach((webhook, index) => {
      expectSigned(webhook);
      expect(webhook.headers['content-type']).toBe('application/json');
      const status = (['sent', 'delivered', 'read'] as const)[index]!;
      expect(webhook.body).toEqual({
        object: 'whatsapp_business_account',
        entry: [
          {
            id: WABA_ID,
            changes: [
              {
                value: {
                  messaging_product: 'whatsapp',
                  metadata: { display_phone_number: DISPLAY, phone_number_id: TEST_PHONE_NUMBER_ID },
                  statuses: [
                    {
                      id: wamid,
                      status,
                      timestamp: expect.stringMatching(/^\d{10}$/) as string,
                      recipient_id: PROVIDER,
                      biz_opaque_callback_data: 'ticket:T-2026-00042',
                      ...(status === 'read' ? {} : { pricing: freeService }),
                    },
                  ],
                },
                field: 'messages',
              },
            ],
          },
        ],
      });
    });
    // Compact, in Meta's key order, timestamps as strings.
    expect(receiver.received[0]!.raw.toString()).toMatch(
      /^\{"object":"whatsapp_business_account","entry":\[\{"id":"102290129340398","changes":\[\{"value":\{"messaging_product":"whatsapp","metadata":/,
    );
    expect(receiver.received[0]!.raw.toString()).toMatch(/"timestamp":"\d+"/);
    expect(sandbox.state.messagesFor(PROVIDER)[0]).toMatchObject({ direction: 'outbound', status: 'read' });
  });

  it('omits callback data when the send had none and prices templates as utility (regular outside the window)', async () => {
    const sandbox = await start({ readReceipts: false });
    await sendAndSettle(sandbox, templateMessage(PROVIDER));
    const [sent, delivered] = receiver.received.map((webhook) => statusesOf(webhook)[0]!);
    expect(sent).not.toHaveProperty('biz_opaque_callback_data');
    expect(sent!.pricing).toEqual({
      billable: true,
      pricing_model: 'PMP',
      type: 'regular',
      category: 'utility',
    });
    expect(delivered!.pricing).toEqual(sent!.pricing);
  });

  it('sends no read status when read receipts are off', async () => {
    const sandbox = await start({ readReceipts: false });
    await sendAndSettle(sandbox, textMessage(PROVIDER));
    expect(statusNames()).toEqual(['sent', 'delivered']);
    expect(sandbox.state.messagesFor(PROVIDER)[0]!.status).toBe('delivered');
  });

  it('sends nothing and schedules nothing without a webhook URL', async () => {
    const sandbox = await startSandbox({ tokens: [TOKEN] });
    running.push(sandbox);
    expect((await postMessage(sandbox.url, textMessage(PROVIDER), { token: TOKEN })).status).toBe(200);
    expect(sandbox.state.webhooks).toBeNull();
    await sandbox.state.webhooksIdle();
    expect(sandbox.state.messagesFor(PROVIDER)[0]).not.toHaveProperty('status');
    expect(await new SandboxControlClient(sandbox.url).webhooks()).toEqual({
      configured: false,
      url: null,
      pending: 0,
      deliveries: [],
    });
  });

  it('escapes like Meta (non-ASCII as lowercase \\uXXXX, / as \\/) and signs the escaped bytes', async () => {
    const sandbox = await start({ readReceipts: false });
    await sendAndSettle(sandbox, textMessage(PROVIDER, 'x', 'técnico/Bogotá 🔧'));
    const webhook = receiver.received[0]!;
    const raw = webhook.raw.toString('utf8');
    expect(raw).toContain('"biz_opaque_callback_data":"t\\u00e9cnico\\/Bogot\\u00e1 \\ud83d\\udd27"');
    expect(/[^\x20-\x7e]/.test(raw)).toBe(false);
    expect(statusesOf(webhook)[0]!.biz_opaque_callback_data).toBe('técnico/Bogotá 🔧');
    expectSigned(webhook);
    // A receiver that signs a re-serialised body gets a different signature, as with Meta.
    const reserialised = JSON.stringify(webhook.body);
    expect(createHmac('sha256', SECRET).update(reserialised).digest('hex')).not.toBe(
      createHmac('sha256', SECRET).update(webhook.raw).digest('hex'),
    );
  });

  it('reports async failures from the undeliverable_async scenario as failed 131026, without pricing', async () => {
    const sandbox = await start();
    sandbox.state.addScenario({ fault: 'undeliverable_async', next: 1 });
    const wamid = await sendAndSettle(sandbox, textMessage(PROVIDER, 'hola', 'ticket:1'));
    expect(receiver.received).toHaveLength(1);
    expect(statusesOf(receiver.received[0]!)).toEqual([
      {
        id: wamid,
        status: 'failed',
        timestamp: expect.stringMatching(/^\d+$/) as string,
        recipient_id: PROVIDER,
        biz_opaque_callback_data: 'ticket:1',
        errors: [
          {
            code: 131026,
            title: 'Message undeliverable',
            message: 'Message undeliverable',
            error_data: { details: 'Message Undeliverable.' },
            href: 'https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/',
          },
        ],
      },
    ]);
    expect(sandbox.state.stats()).toMatchObject({ accepted: 1, rejected: 0 });
    expect(sandbox.state.messagesFor(PROVIDER)[0]).toMatchObject({
      status: 'failed',
      errors: [{ code: 131026 }],
    });
  });
});

describe('delivery', () => {
  it('retries a webhook the receiver answered with 500, with backoff, and logs the attempts', async () => {
    receiver.answer = (index) => (index === 0 ? 500 : 200);
    const sandbox = await start({ readReceipts: false, retry: { attempts: 3, backoffMs: 20 } });
    const wamid = await sendAndSettle(sandbox, textMessage(PROVIDER));

    expect(receiver.received).toHaveLength(3);
    expect(statusesOf(receiver.received[0]!)[0]!.status).toBe('sent');
    // The retried `sent` carries the very same bytes.
    expect(receiver.received.filter((webhook) => webhook.raw.equals(receiver.received[0]!.raw))).toHaveLength(
      2,
    );
    const log = await new SandboxControlClient(sandbox.url).webhooks();
    expect(log).toMatchObject({ configured: true, url: receiver.url, pending: 0 });
    const sent = log.deliveries.find((delivery) => delivery.events[0] === 'sent')!;
    expect(sent).toMatchObject({
      kind: 'status',
      waId: PROVIDER,
      wamids: [wamid],
      outcome: 'delivered',
      attempts: 2,
      httpStatus: 200,
      error: null,
      responseBody: 'EVENT_RECEIVED',
      body: receiver.received[0]!.raw.toString(),
    });
  });

  it('gives up after the configured attempts and says why', async () => {
    receiver.answer = () => 503;
    const sandbox = await start({ readReceipts: false, retry: { attempts: 2, backoffMs: 5 } });
    await sendAndSettle(sandbox, textMessage(PROVIDER));
    expect(receiver.received).toHaveLength(4);
    expect(
      sandbox.state.webhookDeliveries().map((d) => [d.outcome, d.attempts, d.httpStatus, d.error]),
    ).toEqual([
      ['failed', 2, 503, 'HTTP 503'],
      ['failed', 2, 503, 'HTTP 503'],
    ]);
  });

  it('treats a receiver that is down as a failed attempt', async () => {
    const closedUrl = receiver.url;
    await receiver.close();
    const sandbox = await start({
      url: closedUrl,
      readReceipts: false,
      retry: { attempts: 2, backoffMs: 5 },
    });
    await sendAndSettle(sandbox, textMessage(PROVIDER));
    const [first] = sandbox.state.webhookDeliveries();
    expect(first).toMatchObject({ outcome: 'failed', attempts: 2, httpStatus: null });
    expect(first!.error).toMatch(/ECONNREFUSED/);
    receiver = await startWebhookReceiver();
  });

  it('never blocks the send path: a hanging receiver does not slow sends down', async () => {
    receiver.answer = () => 'hang';
    const sandbox = await start({ statusDelaysMs: { sent: 0, delivered: 0, read: 0 } });
    // Every webhook hangs forever, so completing the sends at all shows they never wait on one.
    for (let index = 0; index < 20; index += 1) {
      expect((await postMessage(sandbox.url, textMessage(PROVIDER), { token: TOKEN })).status).toBe(200);
    }
    await receiver.waitFor(1);
    expect(sandbox.state.webhooks!.pending).toBe(60);
  });

  it('discards webhooks beyond maxQueue as overflow', async () => {
    receiver.answer = () => 'hang';
    const sandbox = await start({ maxQueue: 1, statusDelaysMs: { sent: 0, delivered: 0, read: 0 } });
    await postMessage(sandbox.url, textMessage(PROVIDER), { token: TOKEN });
    await receiver.waitFor(1);
    expect(sandbox.state.webhookDeliveries().map((delivery) => delivery.outcome)).toEqual([
      'pending',
      'overflow',
      'overflow',
    ]);
  });

  it('waits for idle in-process and over HTTP, and times out while a webhook hangs', async () => {
    const sandbox = await start();
    await sandbox.state.webhooksIdle();
    const control = new SandboxControlClient(sandbox.url);
    await postMessage(sandbox.url, textMessage(PROVIDER), { token: TOKEN });
    expect(sandbox.state.webhooks!.pending).toBeGreaterThan(0);
    expect(await control.webhooksIdle(5000)).toEqual({ idle: true });
    expect(receiver.received).toHaveLength(3);

    receiver.answer = () => 'hang';
    await postMessage(sandbox.url, textMessage(PROVIDER), { token: TOKEN });
    await expect(sandbox.state.webhooksIdle(100)).rejects.toThrow(/still busy/);
    const busy = await fetch(`${sandbox.url}/sandbox/webhooks/idle?timeoutMs=50`);
    expect(busy.status).toBe(504);
  });

  it('closes promptly with webhooks scheduled and in flight, cancelling them', async () => {
    receiver.answer = () => 'hang';
    const sandbox = await start({ statusDelaysMs: { sent: 0, delivered: 30_000, read: 60_000 } });
    await postMessage(sandbox.url, textMessage(PROVIDER), { token: TOKEN });
    await receiver.waitFor(1);
    const idle = sandbox.state.webhooksIdle(60_000);
    const started = Date.now();
    await sandbox.close();
    // The next webhook was 30 s away: closing well before it shows it was cancelled, not awaited.
    expect(Date.now() - started).toBeLessThan(10_000);
    await idle;
    expect(sandbox.state.webhookDeliveries().map((delivery) => delivery.outcome)).toEqual(['cancelled']);
    expect(sandbox.state.webhooks!.pending).toBe(0);
  });

  it('reset cancels pending webhooks and clears the log and faults', async () => {
    const sandbox = await start({ statusDelaysMs: { sent: 10_000, delivered: 20_000, read: 30_000 } });
    sandbox.state.addWebhookFault({ mode: 'drop' });
    await postMessage(sandbox.url, textMessage(PROVIDER), { token: TOKEN });
    expect(sandbox.state.webhooks!.pending).toBe(3);
    sandbox.state.reset();
    expect(sandbox.state.webhooks!.pending).toBe(0);
    expect(sandbox.state.listWebhookFaults()).toEqual([]);
    expect(sandbox.state.webhookDeliveries()).toEqual([]);
    await sandbox.state.webhooksIdle(100);
    expect(receiver.received).toHaveLength(0);
  });
});

describe('options', () => {
  it.each<[string, Partial<SandboxWebhookOptions>]>([
    ['a URL that is not http(s)', { url: 'ftp://x.example/hook' }],
    ['an empty app secret', { appSecret: '' }],
    ['a negative delay', { statusDelaysMs: { sent: -1, delivered: 0, read: 0 } }],
    ['zero attempts', { retry: { attempts: 0, backoffMs: 0 } }],
  ])('refuses %s', async (_label, webhook) => {
    await expect(start(webhook)).rejects.toThrow(TypeError);
  });
});
