import { createHmac } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type {
  WireInboundMessage,
  WireSendMessageRequest,
  WireSendMessageResponse,
  WireStatus,
} from '../whatsapp/wire-types.js';
import type { SandboxOptions } from './build-sandbox.js';
import type { InboxReply } from './inbox.js';
import { SandboxControlClient } from './sandbox-client.js';
import { ReplyError } from './sandbox-state.js';
import { startSandbox, type RunningSandbox } from './start-sandbox.js';
import { buttonsMessage, postMessage, readAnswer, templateMessage, textMessage } from './test-support.js';
import { decodeWamid } from './wamid.js';
import { startWebhookReceiver, type ReceivedWebhook, type WebhookReceiver } from './webhook-receiver.js';

const TOKEN = 'test-token';
const SECRET = 'phone-test-secret';
const PROVIDER = '573104567890';
const PHONE_NUMBER_ID = '106540352242922';
const WABA_ID = '102290129340398';
const DISPLAY = '573005550199';
const HOUR = 60 * 60 * 1000;

let receiver: WebhookReceiver;
const running: RunningSandbox[] = [];

beforeEach(async () => {
  receiver = await startWebhookReceiver();
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((sandbox) => sandbox.close()));
  await receiver.close();
});

async function start(options: Partial<SandboxOptions> = {}, withWebhook = true): Promise<RunningSandbox> {
  const sandbox = await startSandbox({
    tokens: [TOKEN],
    ...(withWebhook
      ? {
          webhook: {
            url: receiver.url,
            appSecret: SECRET,
            wabaId: WABA_ID,
            displayPhoneNumber: DISPLAY,
            statusDelaysMs: { sent: 2, delivered: 6, read: 10 },
            concurrency: 1,
          },
        }
      : {}),
    ...options,
  });
  running.push(sandbox);
  return sandbox;
}

async function send(sandbox: RunningSandbox, body: WireSendMessageRequest): Promise<string> {
  const answer = await postMessage(sandbox.url, body, { token: TOKEN, phoneNumberId: PHONE_NUMBER_ID });
  expect(answer.status).toBe(200);
  return (answer.body as WireSendMessageResponse).messages[0]!.id;
}

async function reply(
  sandbox: RunningSandbox,
  body: unknown,
  waId = PROVIDER,
): Promise<{ status: number; body: any }> {
  return readAnswer(
    await fetch(`${sandbox.url}/sandbox/inbox/${waId}/reply`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }),
  );
}

const inboundMessages = (webhook: ReceivedWebhook): WireInboundMessage[] =>
  webhook.body.entry.flatMap((entry) => entry.changes.flatMap((change) => change.value.messages ?? []));

const statusesOf = (webhook: ReceivedWebhook): WireStatus[] =>
  webhook.body.entry.flatMap((entry) => entry.changes.flatMap((change) => change.value.statuses ?? []));

/** The inbound-message webhooks received so far (status webhooks left out). */
const inboundWebhooks = (): ReceivedWebhook[] =>
  receiver.received.filter((webhook) => inboundMessages(webhook).length > 0);

function expectSigned(webhook: ReceivedWebhook): void {
  const sha256 = createHmac('sha256', SECRET).update(webhook.raw).digest('hex');
  expect(webhook.headers['x-hub-signature-256']).toBe(`sha256=${sha256}`);
}

function envelope(message: unknown, name: string): unknown {
  return {
    object: 'whatsapp_business_account',
    entry: [
      {
        id: WABA_ID,
        changes: [
          {
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: DISPLAY, phone_number_id: PHONE_NUMBER_ID },
              contacts: [{ profile: { name }, wa_id: PROVIDER }],
              messages: [message],
            },
            field: 'messages',
          },
        ],
      },
    ],
  };
}

const anyTimestamp = expect.stringMatching(/^\d{10}$/) as string;

function templateWithQuickReplies(payloads: (string | null)[]): WireSendMessageRequest {
  const message = templateMessage(PROVIDER);
  message.template!.components!.push(
    ...payloads.map((payload, index) => ({
      type: 'button' as const,
      sub_type: 'quick_reply' as const,
      index: String(index),
      ...(payload === null ? {} : { parameters: [{ type: 'payload' as const, payload }] }),
    })),
  );
  return message;
}

describe('replying with text', () => {
  it('reaches the service as Meta’s inbound text webhook (§6.8 D), escaped and signed', async () => {
    const sandbox = await start();
    await send(sandbox, textMessage(PROVIDER));
    const answer = await reply(sandbox, {
      text: 'Voy en camino, llego mañana a las 8',
      name: 'Carlos Pérez',
    });

    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({
      wamid: expect.stringMatching(/^wamid\./) as string,
      delivered: true,
    });
    expect(decodeWamid(answer.body.wamid)).toMatchObject({ recipient: PROVIDER, direction: 'inbound' });
    const [webhook] = inboundWebhooks();
    expectSigned(webhook!);
    expect(webhook!.body).toEqual(
      envelope(
        {
          from: PROVIDER,
          id: answer.body.wamid,
          timestamp: anyTimestamp,
          type: 'text',
          text: { body: 'Voy en camino, llego mañana a las 8' },
        },
        'Carlos Pérez',
      ),
    );
    const raw = webhook!.raw.toString();
    expect(raw).toContain('"contacts":[{"profile":{"name":"Carlos P\\u00e9rez"},"wa_id":"573104567890"}]');
    expect(raw).toContain('"messages":[{"from":"573104567890","id":"');
    expect(raw).toContain('"type":"text","text":{"body":"Voy en camino, llego ma\\u00f1ana a las 8"}');
  });

  it('quotes a business message when given its wamid, and reuses the last profile name', async () => {
    const sandbox = await start();
    const wamid = await send(sandbox, textMessage(PROVIDER));
    await reply(sandbox, { text: 'hola', name: 'Carlos' });
    await reply(sandbox, { text: '¿cuál dirección?', wamid });
    const message = inboundMessages(inboundWebhooks()[1]!)[0]!;
    expect(message.context).toEqual({ from: DISPLAY, id: wamid });
    expect(Object.keys(message)).toEqual(['context', 'from', 'id', 'timestamp', 'type', 'text']);
    expect(inboundWebhooks()[1]!.body.entry[0]!.changes[0]!.value.contacts).toEqual([
      { profile: { name: 'Carlos' }, wa_id: PROVIDER },
    ]);
  });
});

describe('tapping buttons', () => {
  it('a reply button answers as interactive button_reply with context (§6.8 E)', async () => {
    const sandbox = await start();
    const buttons = buttonsMessage(PROVIDER);
    buttons.interactive!.action.buttons = [
      { type: 'reply', reply: { id: 'accept:T-2026-00042', title: 'Aceptar' } },
      { type: 'reply', reply: { id: 'decline:T-2026-00042', title: 'Rechazar' } },
    ];
    const wamid = await send(sandbox, buttons);
    const answer = await reply(sandbox, { buttonId: 'accept:T-2026-00042' });

    expect(answer.body.delivered).toBe(true);
    const message = inboundMessages(inboundWebhooks()[0]!)[0]!;
    expect(message).toEqual({
      context: { from: DISPLAY, id: wamid },
      from: PROVIDER,
      id: answer.body.wamid,
      timestamp: anyTimestamp,
      type: 'interactive',
      interactive: { type: 'button_reply', button_reply: { id: 'accept:T-2026-00042', title: 'Aceptar' } },
    });
    expect(Object.keys(message)).toEqual(['context', 'from', 'id', 'timestamp', 'type', 'interactive']);
    expect(inboundWebhooks()[0]!.body).toEqual(envelope(message, 'Sandbox User'));

    await reply(sandbox, { button: { index: 1 } });
    await reply(sandbox, { button: { title: 'Aceptar' } });
    expect(
      inboundWebhooks().map((webhook) => inboundMessages(webhook)[0]!.interactive?.button_reply?.id),
    ).toEqual(['accept:T-2026-00042', 'decline:T-2026-00042', 'accept:T-2026-00042']);
  });

  it('taps the newest message by default and an older one by wamid', async () => {
    const sandbox = await start();
    const older = await send(sandbox, buttonsMessage(PROVIDER, ['Sí', 'No']));
    const newer = await send(sandbox, buttonsMessage(PROVIDER, ['Aceptar', 'Rechazar']));
    await reply(sandbox, { button: { index: 0 } });
    await reply(sandbox, { button: { index: 0 }, wamid: older });
    const [first, second] = inboundWebhooks().map((webhook) => inboundMessages(webhook)[0]!);
    expect(first).toMatchObject({
      context: { id: newer },
      interactive: { button_reply: { title: 'Aceptar' } },
    });
    expect(second).toMatchObject({ context: { id: older }, interactive: { button_reply: { title: 'Sí' } } });
  });

  it('a template quick reply answers as type button with the payload the send gave', async () => {
    const sandbox = await start();
    const wamid = await send(sandbox, templateWithQuickReplies(['accept:T-1', 'decline:T-1']));
    const byId = await reply(sandbox, { buttonId: 'decline:T-1' });
    await reply(sandbox, { button: { index: 0, title: 'Aceptar' } });

    const [first, second] = inboundWebhooks().map((webhook) => inboundMessages(webhook)[0]!);
    expect(first).toEqual({
      context: { from: DISPLAY, id: wamid },
      from: PROVIDER,
      id: byId.body.wamid,
      timestamp: anyTimestamp,
      type: 'button',
      // Without configured labels the sandbox cannot know the button text: it shows the payload.
      button: { payload: 'decline:T-1', text: 'decline:T-1' },
    });
    expect(Object.keys(first!)).toEqual(['context', 'from', 'id', 'timestamp', 'type', 'button']);
    expect(second!.button).toEqual({ payload: 'accept:T-1', text: 'Aceptar' });
  });

  it('uses configured quick-reply labels, and the label as payload when the send gave none', async () => {
    const sandbox = await start({
      templates: [
        { name: 'nuevo_ticket_mantenimiento', language: 'es', quickReplies: ['Aceptar', 'Rechazar'] },
      ],
    });
    await send(sandbox, templateWithQuickReplies(['accept:T-1', null]));
    await reply(sandbox, { buttonId: 'accept:T-1' });
    await reply(sandbox, { button: { title: 'Rechazar' } });
    expect(inboundWebhooks().map((webhook) => inboundMessages(webhook)[0]!.button)).toEqual([
      { payload: 'accept:T-1', text: 'Aceptar' },
      { payload: 'Rechazar', text: 'Rechazar' },
    ]);
  });

  it('taps a quick reply the send did not parameterise by its title (payload = label, like Meta)', async () => {
    const sandbox = await start();
    await send(sandbox, templateMessage(PROVIDER));
    await reply(sandbox, { button: { title: 'Aceptar' } });
    expect(inboundMessages(inboundWebhooks()[0]!)[0]!.button).toEqual({
      payload: 'Aceptar',
      text: 'Aceptar',
    });
  });
});

describe('refusals', () => {
  it.each<[string, unknown, number, string]>([
    ['text and buttonId together', { text: 'a', buttonId: 'b' }, 400, 'invalid_reply'],
    ['an empty body', {}, 400, 'invalid_reply'],
    ['a blank text', { text: '  ' }, 400, 'invalid_reply'],
    ['a button without index or title', { button: {} }, 400, 'invalid_reply'],
    ['a negative index', { button: { index: -1 } }, 400, 'invalid_reply'],
    ['nothing to tap', { buttonId: 'x' }, 404, 'no_buttons'],
    ['an unknown wamid', { text: 'a', wamid: 'wamid.nope' }, 404, 'message_not_found'],
  ])('refuses %s', async (_label, body, status, code) => {
    const sandbox = await start();
    await send(sandbox, textMessage(PROVIDER));
    const answer = await reply(sandbox, body);
    expect(answer).toMatchObject({ status, body: { error: { code } } });
  });

  it('refuses an unknown button, a bad number, and a first reply when no business number is known', async () => {
    const sandbox = await start();
    expect(await reply(sandbox, { text: 'hola' })).toMatchObject({
      status: 400,
      body: { error: { code: 'phone_number_id_required' } },
    });
    expect((await reply(sandbox, { text: 'hola', phoneNumberId: PHONE_NUMBER_ID })).status).toBe(200);
    await send(sandbox, buttonsMessage(PROVIDER));
    expect(await reply(sandbox, { buttonId: 'nope' })).toMatchObject({
      status: 404,
      body: { error: { code: 'button_not_found' } },
    });
    expect((await reply(sandbox, { text: 'hola' }, '12')).status).toBe(400);
    await expect(sandbox.state.reply(PROVIDER, { button: { index: 7 } })).rejects.toBeInstanceOf(ReplyError);
  });
});

describe('without a webhook URL', () => {
  it('stores the reply, answers delivered: false, and shows the conversation in order', async () => {
    const sandbox = await start({ phoneNumberIds: [PHONE_NUMBER_ID] }, false);
    const control = new SandboxControlClient(sandbox.url);
    const first = await send(sandbox, buttonsMessage(PROVIDER, ['Aceptar', 'Rechazar']));
    const tap = await control.reply(PROVIDER, { button: { title: 'Aceptar' }, name: 'Carlos' });
    const second = await send(sandbox, textMessage(PROVIDER, 'Calle 93 #11-27'));
    const text = await control.reply(`+${PROVIDER}`, { text: 'Listo' });

    expect(tap).toMatchObject({ delivered: false, reply: { webhook: 'not_configured' } });
    const conversation = await control.conversation(PROVIDER);
    expect(conversation.map((item) => [item.direction, item.wamid])).toEqual([
      ['outbound', first],
      ['inbound', tap.wamid],
      ['outbound', second],
      ['inbound', text.wamid],
    ]);
    expect(conversation[1]).toEqual({
      direction: 'inbound',
      wamid: tap.wamid,
      waId: PROVIDER,
      phoneNumberId: PHONE_NUMBER_ID,
      receivedAt: expect.any(String) as string,
      type: 'interactive',
      text: 'Aceptar',
      contextWamid: first,
      profileName: 'Carlos',
      message: {
        context: { from: '15550000000', id: first },
        from: PROVIDER,
        id: tap.wamid,
        timestamp: anyTimestamp,
        type: 'interactive',
        interactive: { type: 'button_reply', button_reply: { id: 'b0', title: 'Aceptar' } },
      },
      webhook: 'not_configured',
    } satisfies InboxReply);
    expect((conversation[3] as InboxReply).profileName).toBe('Carlos');
    // `messages` stays what the business sent.
    expect((await control.messagesFor(PROVIDER)).map((message) => message.wamid)).toEqual([first, second]);
    expect((await control.inbox()).numbers).toContainEqual(
      expect.objectContaining({ waId: PROVIDER, stored: 2, replies: 2, lastInboundAt: expect.any(String) }),
    );
  });

  it('still answers delivered: false when the service never takes the webhook', async () => {
    receiver.answer = () => 500;
    const sandbox = await startSandbox({
      tokens: [TOKEN],
      phoneNumberIds: [PHONE_NUMBER_ID],
      webhook: { url: receiver.url, appSecret: SECRET, retry: { attempts: 2, backoffMs: 5 } },
    });
    running.push(sandbox);
    const result = await sandbox.state.reply(PROVIDER, { text: 'hola' });
    expect(result).toMatchObject({ delivered: false, reply: { webhook: 'failed' } });
    expect(result.delivery).toMatchObject({
      kind: 'message',
      outcome: 'failed',
      attempts: 2,
      httpStatus: 500,
    });
  });
});

describe('the 24-hour window', () => {
  it('fails free-form outside the window with 131047, lets templates pass, and opens on a reply', async () => {
    let now = Date.parse('2026-03-10T12:00:00Z');
    const sandbox = await start({ enforceWindow: true, clock: () => now });
    const lastStatuses = async (): Promise<WireStatus[]> => {
      await sandbox.state.webhooksIdle();
      const statuses = receiver.received.splice(0).flatMap(statusesOf);
      return statuses;
    };

    const freeForm = await send(sandbox, textMessage(PROVIDER, 'hola', 'ticket:1'));
    expect(await lastStatuses()).toEqual([
      {
        id: freeForm,
        status: 'failed',
        timestamp: String(Math.floor(now / 1000)),
        recipient_id: PROVIDER,
        biz_opaque_callback_data: 'ticket:1',
        errors: [
          {
            code: 131047,
            title: 'Re-engagement message',
            message: 'Re-engagement message',
            error_data: {
              details:
                'Message failed to send because more than 24 hours have passed since the customer last replied to this number.',
            },
            href: 'https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/',
          },
        ],
      },
    ]);
    expect(sandbox.state.messagesFor(PROVIDER)[0]).toMatchObject({
      status: 'failed',
      errors: [{ code: 131047 }],
    });
    expect(sandbox.state.isWindowOpen(PROVIDER)).toBe(false);

    await send(sandbox, templateMessage(PROVIDER));
    const template = await lastStatuses();
    expect(template.map((status) => status.status)).toEqual(['sent', 'delivered', 'read']);
    expect(template[0]!.pricing).toMatchObject({ type: 'regular', category: 'utility', billable: true });

    await reply(sandbox, { text: 'Aceptar' });
    expect(sandbox.state.isWindowOpen(PROVIDER, PHONE_NUMBER_ID)).toBe(true);
    receiver.received.splice(0);
    await send(sandbox, buttonsMessage(PROVIDER));
    expect((await lastStatuses()).map((status) => status.status)).toEqual(['sent', 'delivered', 'read']);
    await send(sandbox, templateMessage(PROVIDER));
    expect((await lastStatuses())[0]!.pricing).toEqual({
      billable: false,
      pricing_model: 'PMP',
      type: 'free_customer_service',
      category: 'utility',
    });

    now += 24 * HOUR;
    expect(sandbox.state.isWindowOpen(PROVIDER)).toBe(false);
    await send(sandbox, textMessage(PROVIDER));
    expect((await lastStatuses()).map((status) => status.status)).toEqual(['failed']);
  });

  it('is per business number, honours windowMs, and is enforced without a webhook URL too', async () => {
    let now = 1_773_151_000_000;
    const sandbox = await start({ enforceWindow: true, windowMs: HOUR, clock: () => now }, false);
    await sandbox.state.reply(PROVIDER, { text: 'hola', phoneNumberId: PHONE_NUMBER_ID });
    await send(sandbox, textMessage(PROVIDER));
    const other = await postMessage(sandbox.url, textMessage(PROVIDER), {
      token: TOKEN,
      phoneNumberId: '999999',
    });
    expect(other.status).toBe(200);
    now += HOUR;
    await send(sandbox, textMessage(PROVIDER));
    expect(sandbox.state.messagesFor(PROVIDER).map((message) => message.status ?? 'accepted')).toEqual([
      'accepted',
      'failed',
      'failed',
    ]);
  });

  it('is off by default: free-form first contact is delivered', async () => {
    const sandbox = await start();
    await send(sandbox, textMessage(PROVIDER));
    await sandbox.state.webhooksIdle();
    expect(receiver.received.flatMap(statusesOf).map((status) => status.status)).toEqual([
      'sent',
      'delivered',
      'read',
    ]);
  });
});
