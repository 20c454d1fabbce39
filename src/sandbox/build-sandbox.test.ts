import Fastify from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { WireGraphErrorResponse, WireSendMessageResponse } from '../whatsapp/wire-types.js';
import { createSandboxState, sandboxPlugin } from './build-sandbox.js';
import { SandboxControlClient } from './sandbox-client.js';
import { startSandbox, type RunningSandbox } from './start-sandbox.js';
import {
  buttonsMessage,
  postMessage,
  templateMessage,
  textMessage,
  TEST_PHONE_NUMBER_ID,
  type RawAnswer,
} from './test-support.js';
import { decodeWamid } from './wamid.js';

const TOKEN = 'test-token';
const PROVIDER = '573104567890';

let sandbox: RunningSandbox;
let control: SandboxControlClient;

beforeEach(async () => {
  sandbox = await startSandbox({ tokens: [TOKEN, 'second-token'] });
  control = new SandboxControlClient(sandbox.url);
});

afterEach(async () => {
  await sandbox.close();
});

const send = (body: unknown, token: string | null = TOKEN): Promise<RawAnswer> =>
  postMessage(sandbox.url, body, { token });

function graphError(answer: RawAnswer): WireGraphErrorResponse['error'] {
  return (answer.body as WireGraphErrorResponse).error;
}

describe('accepted sends', () => {
  it("answers Meta's success shape, echoing the input and normalising wa_id", async () => {
    const answer = await send(textMessage('+' + PROVIDER));
    expect(answer.status).toBe(200);
    const body = answer.body as WireSendMessageResponse;
    expect(body).toEqual({
      messaging_product: 'whatsapp',
      contacts: [{ input: '+' + PROVIDER, wa_id: PROVIDER }],
      messages: [{ id: expect.stringMatching(/^wamid\.[A-Za-z0-9+/]+=*$/) as string }],
    });
    expect(decodeWamid(body.messages[0]!.id)).toMatchObject({ recipient: PROVIDER, direction: 'outbound' });
  });

  it('marks template sends as accepted and accepts every message type', async () => {
    const template = (await send(templateMessage(PROVIDER))).body as WireSendMessageResponse;
    expect(template.messages[0]?.message_status).toBe('accepted');
    const buttons = (await send(buttonsMessage(PROVIDER))).body as WireSendMessageResponse;
    expect(buttons.messages[0]?.message_status).toBeUndefined();
    const document = await send({
      messaging_product: 'whatsapp',
      to: PROVIDER,
      type: 'document',
      document: { link: 'https://files.example.com/orden.pdf', filename: 'orden.pdf', caption: 'Orden' },
    });
    expect(document.status).toBe(200);
  });

  it('treats a missing type as text, like Meta', async () => {
    const answer = await send({ messaging_product: 'whatsapp', to: PROVIDER, text: { body: 'hola' } });
    expect(answer.status).toBe(200);
  });

  it('gives every message a distinct wamid, also under concurrency', async () => {
    const answers = await Promise.all(
      Array.from({ length: 200 }, (_, index) => send(textMessage(index % 2 ? PROVIDER : '573001112233'))),
    );
    const ids = answers.map((answer) => (answer.body as WireSendMessageResponse).messages[0]!.id);
    expect(new Set(ids).size).toBe(200);
  });

  it('stores each accepted message in the recipient inbox, newest last', async () => {
    const first = (await send(textMessage(PROVIDER, 'primero', 'msg:1'))).body as WireSendMessageResponse;
    const second = (await send(templateMessage('+' + PROVIDER))).body as WireSendMessageResponse;
    await send(textMessage('573001112233'));

    const messages = await control.messagesFor(PROVIDER);
    expect(messages.map((message) => message.wamid)).toEqual([first.messages[0]!.id, second.messages[0]!.id]);
    expect(messages[0]).toMatchObject({
      waId: PROVIDER,
      phoneNumberId: TEST_PHONE_NUMBER_ID,
      type: 'text',
      callbackData: 'msg:1',
      request: textMessage(PROVIDER, 'primero', 'msg:1'),
    });
    expect(Date.parse(messages[0]!.receivedAt)).not.toBeNaN();
    expect(messages[1]).toMatchObject({ type: 'template', callbackData: null });

    const listing = await control.inbox();
    expect(listing.storedMessages).toBe(3);
    expect(listing.numbers).toContainEqual(
      expect.objectContaining({ waId: PROVIDER, stored: 2, accepted: 2 }),
    );
    expect(sandbox.state.messagesFor('+57 310 456 7890')).toHaveLength(2);

    expect(await control.clearInbox()).toEqual({ cleared: 3 });
    expect(await control.messagesFor(PROVIDER)).toEqual([]);
  });

  it('answers mark-as-read on the same endpoint', async () => {
    const answer = await send({ messaging_product: 'whatsapp', status: 'read', message_id: 'wamid.X' });
    expect(answer).toMatchObject({ status: 200, body: { success: true } });
  });
});

describe('authentication', () => {
  it.each([
    ['missing', null],
    ['unknown', 'stolen-token'],
  ])('refuses a %s token with 401 and Graph code 190', async (_label, token) => {
    const answer = await send(textMessage(PROVIDER), token);
    expect(answer.status).toBe(401);
    expect(graphError(answer)).toMatchObject({
      message: '(#190) Invalid OAuth access token',
      type: 'OAuthException',
      code: 190,
      error_data: { messaging_product: 'whatsapp', details: expect.any(String) as string },
      fbtrace_id: expect.stringMatching(/^A[\w-]{22}$/) as string,
    });
    expect(sandbox.state.messagesFor(PROVIDER)).toHaveLength(0);
  });

  it('accepts every configured token', async () => {
    expect((await send(textMessage(PROVIDER), 'second-token')).status).toBe(200);
  });
});

const valid = textMessage(PROVIDER);
const longText = (length: number): string => 'a'.repeat(length);

describe('validation like Meta', () => {
  it.each<[string, unknown, number]>([
    ['a body that is not an object', [valid], 100],
    ['a missing messaging_product', { ...valid, messaging_product: undefined }, 100],
    ['a messaging_product other than whatsapp', { ...valid, messaging_product: 'sms' }, 100],
    ['a missing to', { ...valid, to: undefined }, 100],
    ['a to with 7 digits', { ...valid, to: '3104567' }, 100],
    ['a to with 16 digits', { ...valid, to: '5731045678901234' }, 100],
    ['a to with spaces', { ...valid, to: '+57 310 456 7890' }, 100],
    ['an unknown type', { ...valid, type: 'fax' }, 100],
    ['a Meta type the sandbox does not emulate', { ...valid, type: 'audio', audio: { id: '1' } }, 131051],
    ['a text type without its object', { messaging_product: 'whatsapp', to: PROVIDER, type: 'text' }, 131008],
    [
      'an image type without its object',
      { messaging_product: 'whatsapp', to: PROVIDER, type: 'image' },
      131008,
    ],
    ['a text without body', { ...valid, text: {} }, 131008],
    ['an empty text body', { ...valid, text: { body: '' } }, 100],
    ['a text body of 4097 characters', { ...valid, text: { body: longText(4097) } }, 100],
    ['callback data over 512 characters', { ...valid, biz_opaque_callback_data: longText(513) }, 100],
    ['a group recipient', { ...valid, recipient_type: 'group' }, 100],
    [
      'a template without name',
      { ...templateMessage(PROVIDER), template: { language: { code: 'es' } } },
      131008,
    ],
    ['a template without language', { ...templateMessage(PROVIDER), template: { name: 'x' } }, 131008],
    ['an image with id and link', imageWith({ id: '1', link: 'https://x.example/a.png' }), 100],
    ['an image with neither id nor link', imageWith({ caption: 'foto' }), 100],
    ['an image link that is not http(s)', imageWith({ link: 'ftp://x.example/a.png' }), 100],
    ['an image id that was never uploaded', imageWith({ id: '999' }), 131053],
    ['interactive buttons without body text', withButtons({ body: {} }), 131008],
    ['no interactive buttons', buttonsMessage(PROVIDER, []), 131009],
    ['four interactive buttons', buttonsMessage(PROVIDER, ['a', 'b', 'c', 'd']), 131009],
    ['a button title of 21 characters', buttonsMessage(PROVIDER, [longText(21)]), 131009],
    ['duplicate button titles', buttonsMessage(PROVIDER, ['Sí', 'Sí']), 131009],
  ])('refuses %s (HTTP 400)', async (_label, body, code) => {
    const answer = await send(body);
    expect(answer.status).toBe(400);
    expect(graphError(answer)).toMatchObject({
      code,
      type: 'OAuthException',
      message: expect.stringMatching(`^\\(#${code}\\) `) as string,
    });
  });

  it('accepts the limits themselves: 4096-character text, 3 buttons with 20-character titles', async () => {
    expect((await send({ ...valid, text: { body: longText(4096) } })).status).toBe(200);
    expect((await send(buttonsMessage(PROVIDER, ['a', 'b', longText(20)]))).status).toBe(200);
  });

  it('counts refusals by code in the stats', async () => {
    await send({ ...valid, to: '1' });
    await send({ ...valid, text: {} });
    await send(valid, null);
    const stats = await control.stats();
    expect(stats.rejectedByCode).toEqual({ '100': 1, '131008': 1, '190': 1 });
    expect(stats).toMatchObject({ requests: 3, accepted: 0, rejected: 3 });
  });
});

describe('numbers, templates and paths', () => {
  it('refuses phone number ids that are not configured with Graph code 100', async () => {
    const restricted = await startSandbox({ tokens: [TOKEN], phoneNumberIds: ['111'] });
    try {
      const unknown = await postMessage(restricted.url, valid, { token: TOKEN, phoneNumberId: '222' });
      expect(unknown.status).toBe(400);
      expect(graphError(unknown)).toMatchObject({ code: 100, error_subcode: 33 });
      const known = await postMessage(restricted.url, valid, { token: TOKEN, phoneNumberId: '111' });
      expect(known.status).toBe(200);
    } finally {
      await restricted.close();
    }
  });

  it('knows only the configured templates when a list is given (132001, HTTP 404)', async () => {
    const strict = await startSandbox({
      tokens: [TOKEN],
      templates: [{ name: 'nuevo_ticket_mantenimiento', language: 'es' }],
    });
    try {
      expect((await postMessage(strict.url, templateMessage(PROVIDER), { token: TOKEN })).status).toBe(200);
      const wrongLanguage = templateMessage(PROVIDER);
      wrongLanguage.template!.language.code = 'es_CO';
      const answer = await postMessage(strict.url, wrongLanguage, { token: TOKEN });
      expect(answer.status).toBe(404);
      expect(graphError(answer).code).toBe(132001);
    } finally {
      await strict.close();
    }
  });

  it('accepts any Graph version and answers unknown paths with code 2500', async () => {
    expect((await postMessage(sandbox.url, valid, { token: TOKEN, version: 'v19.0' })).status).toBe(200);
    const badVersion = await postMessage(sandbox.url, valid, { token: TOKEN, version: 'latest' });
    expect(badVersion.status).toBe(400);
    expect(graphError(badVersion).code).toBe(2500);
  });

  it('answers malformed JSON with a Graph error, not a Fastify one', async () => {
    const response = await fetch(`${sandbox.url}/v24.0/1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: '{"messaging_product":',
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as WireGraphErrorResponse).error.code).toBe(100);
  });
});

describe('mounted inside another app', () => {
  it('serves Graph, media and control routes under a prefix next to the host app routes', async () => {
    const host = Fastify();
    host.get('/healthz', () => ({ ok: true }));
    const state = createSandboxState({ tokens: [TOKEN] });
    await host.register(sandboxPlugin, { prefix: '/wa', tokens: [TOKEN], state });
    await host.listen({ port: 0, host: '127.0.0.1' });
    try {
      const address = host.server.address();
      const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
      expect((await postMessage(`${base}/wa`, valid, { token: TOKEN })).status).toBe(200);
      expect(await new SandboxControlClient(`${base}/wa`).messagesFor(PROVIDER)).toHaveLength(1);
      expect(state.messagesFor(PROVIDER)).toHaveLength(1);
      expect(await (await fetch(`${base}/healthz`)).json()).toEqual({ ok: true });

      const form = new FormData();
      form.append('messaging_product', 'whatsapp');
      form.append('type', 'application/pdf');
      form.append('file', new Blob(['%PDF-1.4'], { type: 'application/pdf' }), 'orden.pdf');
      const auth = { authorization: `Bearer ${TOKEN}` };
      const upload = await fetch(`${base}/wa/v24.0/1/media`, { method: 'POST', headers: auth, body: form });
      const { id } = (await upload.json()) as { id: string };
      const info = (await (await fetch(`${base}/wa/v24.0/${id}`, { headers: auth })).json()) as {
        url: string;
      };
      expect(info.url.startsWith(`${base}/wa/lookaside/`)).toBe(true);
      expect(await (await fetch(info.url, { headers: auth })).text()).toBe('%PDF-1.4');
    } finally {
      await host.close();
    }
  });
});

function imageWith(image: Record<string, string>): unknown {
  return { messaging_product: 'whatsapp', to: PROVIDER, type: 'image', image };
}

function withButtons(patch: Record<string, unknown>): unknown {
  const message = buttonsMessage(PROVIDER);
  return { ...message, interactive: { ...message.interactive, ...patch } };
}
