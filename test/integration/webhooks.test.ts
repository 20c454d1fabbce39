import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signWebhookBody } from '../../src/whatsapp/webhook-signature.js';
import { png } from '../helpers/sample-files.js';
import {
  DIALECTS,
  eventually,
  isPostgresAvailable,
  startTestApp,
  TEST_API_KEY,
  type TestApp,
} from '../helpers/test-app.js';

const hasPostgres = await isPostgresAvailable();
const APP_SECRET = 'test-app-secret-abcdef0123456789';
const VERIFY_TOKEN = 'verify-me-please';

const fixture = (name: string) =>
  readFileSync(new URL(`../fixtures/whatsapp/${name}.json`, import.meta.url), 'utf8');

/** A Meta-shaped status webhook for one of our messages, serialised the way Meta escapes it. */
function statusBody(
  wamid: string,
  status: string,
  timestamp: number,
  extra: Record<string, unknown> = {},
): string {
  const payload = {
    object: 'whatsapp_business_account',
    entry: [
      {
        id: '102290129340398',
        changes: [
          {
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: '573005550199', phone_number_id: '100000000000001' },
              statuses: [
                { id: wamid, status, timestamp: String(timestamp), recipient_id: '573005550300', ...extra },
              ],
            },
            field: 'messages',
          },
        ],
      },
    ],
  };
  return JSON.stringify(payload).replaceAll('/', '\\/');
}

describe.each(DIALECTS)('webhooks and status tracking on %s', (dialect) => {
  let t: TestApp;
  const skip = dialect === 'postgres' && !hasPostgres;

  beforeAll(async () => {
    if (skip) return;
    t = await startTestApp({
      dialect,
      env: {
        WHATSAPP_APP_SECRET: APP_SECRET,
        WHATSAPP_VERIFY_TOKEN: VERIFY_TOKEN,
        WHATSAPP_TEMPLATE_PARAMS: 'nuevo_ticket=1,aviso_servicio=1',
      },
    });
  });
  afterAll(async () => t?.close());

  const sandbox = () => {
    const state = t.app.sandbox?.state;
    if (state === undefined) throw new Error('sandbox expected');
    return state;
  };
  const post = (body: string, signature = signWebhookBody(body, APP_SECRET)) =>
    fetch(`${t.url}/api/whatsapp/webhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-hub-signature-256': signature },
      body,
    });
  const deliveries = async () =>
    (await t.app.database.db.selectFrom('webhook_deliveries').select('id').execute()).length;
  const message = async (id: string) => (await t.request('GET', `/api/messages/${id}`)).body.data;
  const notify = async (body: Record<string, unknown>) => {
    const res = await t.request('POST', '/api/whatsapp/notify', {
      body,
      headers: { prefer: 'respond-async' },
    });
    expect(res.status).toBe(202);
    return res.body.data.id as string;
  };

  describe.skipIf(skip)('', () => {
    it('answers the verification handshake only with the right token', async () => {
      const ok = await fetch(
        `${t.url}/api/whatsapp/webhook?hub.mode=subscribe&hub.verify_token=${VERIFY_TOKEN}&hub.challenge=1158201444`,
      );
      expect(ok.status).toBe(200);
      expect(await ok.text()).toBe('1158201444');
      const wrong = await fetch(
        `${t.url}/api/whatsapp/webhook?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1`,
      );
      expect(wrong.status).toBe(403);
    });

    it('refuses a forged signature, a missing one and a body altered after signing, storing nothing', async () => {
      const before = await deliveries();
      const body = fixture('status-sent');
      expect((await post(body, signWebhookBody(body, 'another-secret'))).status).toBe(401);
      expect((await post(body, '')).status).toBe(401);
      const altered = body.replace('"sent"', '"read"');
      expect((await post(altered, signWebhookBody(body, APP_SECRET))).status).toBe(401);
      expect(await deliveries()).toBe(before);
    });

    it('refuses a body over 1 MB with 413', async () => {
      const huge = JSON.stringify({
        object: 'whatsapp_business_account',
        entry: [],
        pad: 'x'.repeat(1024 * 1024),
      });
      expect((await post(huge)).status).toBe(413);
    });

    it('tracks a message through sent, delivered and read from the sandbox webhooks', async () => {
      const id = await notify({ to: '3005550301', message: 'seguimiento' });
      const tracked = await eventually(async () => {
        const m = await message(id);
        return m.status === 'read' ? m : undefined;
      });
      const webhookEvents = tracked.events.filter(
        (e: { detail: { source?: string } | null }) => e.detail?.source === 'webhook',
      );
      expect(webhookEvents.map((e: { status: string }) => e.status)).toEqual(['sent', 'delivered', 'read']);
      expect(webhookEvents[0].detail.pricingCategory).toBe('service');
    });

    it('keeps statuses once, never moves backwards, and matches a status that arrived before the send was recorded', async () => {
      const to = '573005550302';
      sandbox().addWebhookFault({ mode: 'drop', to });
      sandbox().addScenario({ fault: 'slow', to, delayMs: 1500, next: 1 });
      const id = await notify({ to, message: 'orden' });
      // Meta has the message (the sandbox stored it) but has not answered yet: we do not know its wamid.
      const stored = await eventually(() => sandbox().messagesFor(to)[0]);
      const at = Math.floor(Date.now() / 1000);
      expect((await post(statusBody(stored.wamid, 'read', at + 2))).status).toBe(200);
      expect((await post(statusBody(stored.wamid, 'delivered', at + 1))).status).toBe(200);
      expect((await post(statusBody(stored.wamid, 'delivered', at + 1))).status).toBe(200);
      const final = await eventually(async () => {
        const m = await message(id);
        return m.status === 'read' && m.messageId === stored.wamid ? m : undefined;
      });
      const fromWebhook = final.events.filter(
        (e: { detail: { source?: string } | null }) => e.detail?.source === 'webhook',
      );
      expect(fromWebhook.map((e: { status: string }) => e.status).sort()).toEqual(['delivered', 'read']);
      expect(final.events.find((e: { status: string }) => e.status === 'read').at).toBe(
        new Date((at + 2) * 1000).toISOString(),
      );
    });

    it('stores a failed status with Meta code, title and details', async () => {
      const to = '573005550303';
      sandbox().addScenario({ fault: 'undeliverable_async', to, next: 1 });
      const id = await notify({ to, message: 'no llega' });
      const failed = await eventually(async () => {
        const m = await message(id);
        return m.status === 'failed' ? m : undefined;
      });
      expect(failed.lastError).toMatchObject({
        code: 'whatsapp_recipient_unavailable',
        whatsappCode: 131026,
      });
    });

    it('keeps a status for an unknown wamid instead of dropping it', async () => {
      const body = fixture('status-unknown-wamid');
      expect((await post(body)).status).toBe(200);
      await t.app.webhookInbox.idle();
      const kept = await t.app.database.db
        .selectFrom('message_status_updates')
        .selectAll()
        .where('message_id', 'is', null)
        .execute();
      expect(kept.length).toBeGreaterThan(0);
    });

    it('records inbound replies, links them and lists them with direction=inbound', async () => {
      const to = '573005550304';
      const id = await notify({ to, message: '¿Puede ir hoy?' });
      await eventually(async () => ((await message(id)).status === 'read' ? true : undefined));
      await sandbox().reply(to, { text: 'Sí, voy en camino 🚗', name: 'Carlos Pérez' });
      const inbound = await eventually(async () => {
        const page = await t.request('GET', `/api/messages?direction=inbound&to=${to}`);
        return page.body.data.items[0];
      });
      expect(inbound).toMatchObject({ direction: 'inbound', to, status: 'received', kind: 'text' });
      expect(inbound.content.content).toEqual({ kind: 'text', body: 'Sí, voy en camino 🚗' });
      expect(inbound.content.profileName).toBe('Carlos Pérez');
    });

    it('sends the template instead of free-form text to a number whose 24-hour window is closed', async () => {
      const to = '573005550305';
      const id = await notify({
        to,
        message: 'Hola',
        template: { name: 'aviso_servicio', parameters: ['T-1'] },
      });
      const sent = await eventually(async () => {
        const m = await message(id);
        return m.messageId === null ? undefined : m;
      });
      const accepted = sent.events.find(
        (e: { status: string; detail: { source?: string } | null }) =>
          e.status === 'sent' && e.detail?.source !== 'webhook',
      );
      expect(accepted.detail).toMatchObject({ sentAs: 'template' });
      expect(sandbox().messagesFor(to)[0]?.request.type).toBe('template');
    });

    it('re-sends a message refused with 131047 as its template, once, and says so on the timeline', async () => {
      const to = '573005550306';
      // The number wrote to us, so its window looks open and the text goes first; Meta then refuses it.
      await sandbox().reply(to, { text: 'hola' });
      await eventually(
        async () => (await t.request('GET', `/api/messages?direction=inbound&to=${to}`)).body.data.items[0],
      );
      sandbox().addScenario({ fault: 'reengagement_async', to, next: 1 });
      const id = await notify({
        to,
        message: 'texto libre',
        template: { name: 'aviso_servicio', parameters: ['T-2'] },
      });
      const original = await eventually(async () => {
        const m = await message(id);
        return m.events.some((e: { status: string }) => e.status === 'fallback_queued') ? m : undefined;
      });
      expect(original.status).toBe('failed');
      expect(original.lastError.whatsappCode).toBe(131047);
      const fallbackId = original.events.find((e: { status: string }) => e.status === 'fallback_queued')
        .detail.fallbackMessageId;
      const fallback = await eventually(async () => {
        const m = await message(fallbackId);
        return m.messageId === null ? undefined : m;
      });
      expect(fallback.kind).toBe('template');
      const types = sandbox()
        .messagesFor(to)
        .map((m) => m.request.type);
      expect(types).toEqual(['text', 'template']);
    });

    it('uploads an image to the media store and sends it by id with a caption', async () => {
      const form = new FormData();
      form.append('file', new Blob([png()], { type: 'image/png' }), 'foto.png');
      const upload = await fetch(`${t.url}/api/whatsapp/media`, {
        method: 'POST',
        headers: { 'x-api-key': TEST_API_KEY },
        body: form,
      });
      expect(upload.status).toBe(201);
      const { data } = (await upload.json()) as { data: { mediaId: string; mediaType: string } };
      expect(data.mediaType).toBe('image');
      const res = await t.request('POST', '/api/whatsapp/notify', {
        body: { to: '3005550307', mediaId: data.mediaId, mediaType: 'image', caption: 'Foto del daño' },
      });
      expect(res.status).toBe(200);
      const sent = sandbox().messagesFor('573005550307')[0]?.request;
      expect(sent?.type).toBe('image');
      expect(sent?.image).toEqual({ id: data.mediaId, caption: 'Foto del daño' });

      const gif = new FormData();
      gif.append('file', new Blob([Buffer.from('GIF89a\x01\x00\x01\x00')], { type: 'image/gif' }), 'x.gif');
      const refused = await fetch(`${t.url}/api/whatsapp/media`, {
        method: 'POST',
        headers: { 'x-api-key': TEST_API_KEY },
        body: gif,
      });
      expect(refused.status).toBe(415);
    });

    it('records a tap on a template quick-reply button as a template_button reply', async () => {
      const to = '573005550308';
      const res = await t.request('POST', '/api/whatsapp/notify', {
        body: {
          to,
          template: {
            name: 'nuevo_ticket',
            components: [
              { type: 'body', parameters: [{ type: 'text', text: 'T-9' }] },
              {
                type: 'button',
                sub_type: 'quick_reply',
                index: '0',
                parameters: [{ type: 'payload', payload: 'accept:abc' }],
              },
            ],
          },
        },
      });
      expect(res.status).toBe(200);
      await sandbox().reply(to, { buttonId: 'accept:abc' });
      const inbound = await eventually(async () => {
        const page = await t.request('GET', `/api/messages?direction=inbound&to=${to}`);
        return page.body.data.items[0];
      });
      expect(inbound.kind).toBe('template_button');
      expect(inbound.content.content).toMatchObject({ kind: 'template_button', payload: 'accept:abc' });
      expect(inbound.content.contextWamid).toBe(res.body.data.messageId);
    });

    it('refuses a wrong parameter count for a known template before sending anything', async () => {
      const res = await t.request('POST', '/api/whatsapp/notify', {
        body: { to: '3005550309', template: { name: 'aviso_servicio', parameters: ['uno', 'dos'] } },
      });
      expect(res.status).toBe(400);
      expect(res.body.error).toMatchObject({
        code: 'validation_error',
        details: { field: 'template.parameters' },
      });
      expect(sandbox().messagesFor('573005550309')).toHaveLength(0);
    });

    it('processes every status of a batched delivery', async () => {
      const body = fixture('statuses-batched');
      expect((await post(body)).status).toBe(200);
      await t.app.webhookInbox.idle();
      const rows = await t.app.database.db
        .selectFrom('message_status_updates')
        .select(['wamid', 'status'])
        .execute();
      const parsed = JSON.parse(body) as {
        entry: { changes: { value: { statuses?: { id: string; status: string }[] } }[] }[];
      };
      const expected = new Set(
        parsed.entry.flatMap((e) =>
          e.changes.flatMap((c) => (c.value.statuses ?? []).map((s) => `${s.id}/${s.status}`)),
        ),
      );
      const stored = new Set(rows.map((r) => `${r.wamid}/${r.status}`));
      for (const key of expected) expect(stored.has(key), key).toBe(true);
    });
  });
});
