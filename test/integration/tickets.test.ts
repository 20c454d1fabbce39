import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { InboxMessage } from '../../src/sandbox/inbox.js';
import { startDirectoryServer, type DirectoryServer } from '../helpers/directory-server.js';
import { jpeg, pdf, png } from '../helpers/sample-files.js';
import {
  DIALECTS,
  eventually,
  isPostgresAvailable,
  startTestApp,
  TEST_API_KEY,
  type TestApp,
  type TestResponse,
} from '../helpers/test-app.js';

const hasPostgres = await isPostgresAvailable();

const CENTER = '573001110000';
const TICKET_BASE_URL = 'https://tickets.keyhomekey.test';
const MB = 1024 * 1024;
const TICKET_NUMBER = /^T-\d{4}-\d{5}$/;

// ---------------------------------------------------------------------------------------------------
// Helpers shared by every suite: they take the app they act on.
// ---------------------------------------------------------------------------------------------------

/** Every phone number this file hands out (national form), so the log check can look for all of them. */
const phonesUsed = new Set<string>(['3001110000']);
let phoneCounter = 0;

/** A fresh valid Colombian mobile number, national form (`3002NNNNNN`). */
function newPhone(): string {
  phoneCounter += 1;
  const phone = `3002${String(phoneCounter).padStart(6, '0')}`;
  phonesUsed.add(phone);
  return phone;
}

/** The same number as the API stores it (digits with the country code). */
const e164 = (national: string): string => `57${national}`;

interface FileSpec {
  data: Buffer;
  filename: string;
  /** What the client claims; the server must sniff the bytes instead. */
  type?: string;
}

function sandboxOf(t: TestApp) {
  const state = t.app.sandbox?.state;
  if (state === undefined) throw new Error('the test app runs with the in-process sandbox');
  return state;
}

/** The message the sandbox accepted for this notification (our message id is its callback data). */
function delivered(t: TestApp, to: string, notificationId: string): Promise<InboxMessage> {
  return eventually(() =>
    sandboxOf(t)
      .messagesFor(to)
      .find((m) => m.callbackData === notificationId),
  );
}

async function createProvider(
  t: TestApp,
  fields: { name?: string; location: string; specialties: string[]; phone?: string },
): Promise<{ id: string; name: string; phone: string }> {
  const res = await t.request('POST', '/api/providers', {
    body: {
      name: fields.name ?? `Proveedor ${phoneCounter + 1}`,
      phone: fields.phone ?? newPhone(),
      ...fields,
    },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.data;
}

const DESCRIPTION = 'Fuga de agua debajo del lavamanos del baño 2.';

function postTicket(t: TestApp, body: Record<string, unknown>): Promise<TestResponse> {
  return t.request('POST', '/api/tickets', { body: { description: DESCRIPTION, ...body } });
}

/** Creates a ticket (JSON) and returns `data` of the 201. */
async function createTicket(t: TestApp, body: Record<string, unknown>) {
  const res = await postTicket(t, body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  expect(res.body.success).toBe(true);
  return res.body.data;
}

async function getTicket(t: TestApp, id: string) {
  const res = await t.request('GET', `/api/tickets/${id}`);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.data;
}

async function reassign(t: TestApp, id: string, body: Record<string, unknown> = {}) {
  const res = await t.request('POST', `/api/tickets/${id}/reassign`, { body });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.data;
}

/** `POST /api/tickets` as multipart/form-data (what a browser form sends). */
async function postMultipart(
  t: TestApp,
  fields: Record<string, string>,
  files: FileSpec[],
  fileField = 'media',
): Promise<TestResponse> {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  for (const file of files) {
    const blob = new Blob([new Uint8Array(file.data)], { type: file.type ?? 'application/octet-stream' });
    form.append(fileField, blob, file.filename);
  }
  const response = await fetch(`${t.url}/api/tickets`, {
    method: 'POST',
    headers: { 'x-api-key': TEST_API_KEY },
    body: form,
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: JSON.parse(text) };
}

async function download(
  t: TestApp,
  url: string,
): Promise<{ status: number; headers: Headers; data: Buffer }> {
  const response = await fetch(`${t.url}${url}`, { headers: { 'x-api-key': TEST_API_KEY } });
  return {
    status: response.status,
    headers: response.headers,
    data: Buffer.from(await response.arrayBuffer()),
  };
}

/** Every file under the app's local media folder (data files and their sidecars). */
async function storedFiles(t: TestApp): Promise<string[]> {
  const media = t.app.config.media;
  if (media.kind !== 'local') throw new Error('tests use local media storage');
  try {
    const entries = await readdir(media.dir, { recursive: true, withFileTypes: true });
    return entries
      .filter((entry) => entry.isFile())
      .map((entry) => path.join(entry.parentPath, entry.name))
      .sort();
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return [];
    throw error;
  }
}

async function ticketCount(t: TestApp): Promise<number> {
  const row = await t.app.database.db
    .selectFrom('tickets')
    .select((eb) => eb.fn.countAll().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Runs `refuse` and checks that it created no ticket and left no stored file. */
async function expectNothingStored(t: TestApp, refuse: () => Promise<void>): Promise<void> {
  const [tickets, files] = [await ticketCount(t), await storedFiles(t)];
  await refuse();
  expect(await ticketCount(t)).toBe(tickets);
  expect(await storedFiles(t)).toEqual(files);
}

type LogLine = Record<string, unknown> & { event?: string };

/** The app's log lines (from chunk `from` on), parsed. */
function logLines(t: TestApp, from = 0): LogLine[] {
  return t.logs
    .slice(from)
    .join('')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as LogLine);
}

/** A PNG (a real one, then padding) of exactly `size` bytes. */
function pngOfSize(size: number): Buffer {
  const image = png();
  return Buffer.concat([image, Buffer.alloc(size - image.length)]);
}

/** A PDF (a real one, then trailing blank lines) of exactly `size` bytes. */
function pdfOfSize(size: number): Buffer {
  const document = pdf();
  return Buffer.concat([document, Buffer.alloc(size - document.length, '\n')]);
}

/** Statuses a notification has once Meta (the sandbox) accepted it. */
const ACCEPTED = ['sent', 'delivered', 'read'];

// ---------------------------------------------------------------------------------------------------

describe.each(DIALECTS)('tickets on %s', (dialect) => {
  const skip = dialect === 'postgres' && !hasPostgres;
  let t: TestApp;
  let directory: DirectoryServer;

  beforeAll(async () => {
    if (skip) return;
    directory = await startDirectoryServer();
    t = await startTestApp({
      dialect,
      env: {
        WHATSAPP_DEFAULT_TO: '300 111 0000',
        PROVIDER_DIRECTORY_URL: directory.url,
        PROVIDER_DIRECTORY_TIMEOUT_MS: '300',
        TICKET_BASE_URL: `${TICKET_BASE_URL}/`,
        NOTIFY_INCLUDE_REPORTER_PHONE: 'false',
      },
    });
  });
  afterAll(async () => {
    await t?.close();
    await directory?.close();
  });
  beforeEach(() => {
    // By default the directory knows nobody; tests that need it say otherwise.
    directory?.behave({ kind: 'answer', entries: [] });
  });

  describe.skipIf(skip)('', () => {
    describe('matching cascade', () => {
      it('prefers an active provider with the same location and specialty, whatever the case, accents or spaces', async () => {
        const plomero = await createProvider(t, { location: 'Usaquén', specialties: ['Plomería', 'Gas'] });
        await createProvider(t, { location: 'Usaquén', specialties: ['Pintura'] });
        const electricista = await createProvider(t, {
          location: 'chapinero ',
          specialties: ['ELECTRICIDAD'],
        });
        const asked = directory.requests.length;

        for (const [location, specialty] of [
          ['  USAQUEN ', 'plomeria'],
          ['Usaquén', 'PLOMERÍA'],
          ['usaquen', ' Plomería  '],
        ] as const) {
          const { ticket, notification } = await createTicket(t, { location, specialty });
          expect(ticket).toMatchObject({
            number: expect.stringMatching(TICKET_NUMBER),
            status: 'notified',
            matchSource: 'local_specialty',
            location: location.trim(),
            specialty: specialty.trim(),
            provider: { id: plomero.id, name: plomero.name, phone: plomero.phone },
          });
          expect(notification).toEqual({ id: expect.any(String), to: plomero.phone, status: 'queued' });
        }
        const { ticket } = await createTicket(t, { location: 'Chapinero', specialty: 'Electricidad' });
        expect(ticket).toMatchObject({ matchSource: 'local_specialty', provider: { id: electricista.id } });
        expect(directory.requests.length).toBe(asked);
      });

      it('falls back to an active provider in the same location when nobody has the specialty', async () => {
        const pintor = await createProvider(t, { location: 'Suba', specialties: ['Pintura'] });
        const { ticket, notification } = await createTicket(t, { location: 'SUBA', specialty: 'Cerrajería' });
        expect(ticket).toMatchObject({
          status: 'notified',
          matchSource: 'local_location',
          provider: { id: pintor.id },
        });
        expect(notification.to).toBe(pintor.phone);
      });

      it('gives the ticket to the least recently assigned of several candidates', async () => {
        const names = ['Uno', 'Dos', 'Tres'];
        const providers = [];
        for (const name of names) {
          providers.push(await createProvider(t, { name, location: 'Teusaquillo', specialties: ['Gas'] }));
        }
        const picked = [];
        for (let i = 0; i < 4; i += 1) {
          picked.push(
            (await createTicket(t, { location: 'teusaquillo', specialty: 'gas' })).ticket.provider.name,
          );
        }
        expect(picked).toEqual(['Uno', 'Dos', 'Tres', 'Uno']);
        const last = await t.request('GET', `/api/providers/${providers[2]?.id}`);
        expect(last.body.data.lastAssignedAt).toEqual(expect.any(String));
      });

      it('spreads tickets created at the same time over the candidates, each with its own number', async () => {
        for (const name of ['A', 'B', 'C', 'D']) {
          await createProvider(t, { name: `Simultáneo ${name}`, location: 'Tintal', specialties: ['Gas'] });
        }
        const created = await Promise.all(
          Array.from({ length: 4 }, () => createTicket(t, { location: 'Tintal', specialty: 'Gas' })),
        );
        const tickets = created.map((c) => c.ticket);
        expect(new Set(tickets.map((ticket) => ticket.provider.name)).size).toBe(4);
        expect(new Set(tickets.map((ticket) => ticket.number)).size).toBe(4);
      });

      it('never offers a deactivated provider', async () => {
        const inactive = await createProvider(t, { location: 'Bosa', specialties: ['Gas'] });
        const patched = await t.request('PATCH', `/api/providers/${inactive.id}`, {
          body: { active: false },
        });
        expect(patched.status).toBe(200);
        const { ticket, notification } = await createTicket(t, { location: 'Bosa', specialty: 'Gas' });
        expect(ticket).toMatchObject({ matchSource: 'center', provider: null });
        expect(notification.to).toBe(CENTER);
      });

      it('asks the external directory when nobody local is in that location, and adopts its answer', async () => {
        await createProvider(t, { location: 'Otro barrio', specialties: ['Gas'] });
        const phone = newPhone();
        directory.behave({
          kind: 'answer',
          entries: [{ name: 'Retel Gas Fontibón', phone: `+57 ${phone}`, specialties: ['Gas'] }],
        });
        const { ticket, notification } = await createTicket(t, { location: ' Fontibón ', specialty: 'Gas ' });

        const asked = directory.requests.at(-1);
        expect(asked?.pathname).toBe('/providers');
        expect(asked?.searchParams.get('location')).toBe('Fontibón');
        expect(asked?.searchParams.get('specialty')).toBe('Gas');
        expect(ticket).toMatchObject({
          status: 'notified',
          matchSource: 'directory',
          provider: { name: 'Retel Gas Fontibón', phone: e164(phone), location: 'Fontibón' },
        });
        expect(notification.to).toBe(e164(phone));
        const adopted = await t.request('GET', `/api/providers/${ticket.provider.id}`);
        expect(adopted.body.data).toMatchObject({ source: 'directory', active: true });
        await delivered(t, e164(phone), notification.id);
      });

      it.each([
        ['answers too slowly', { kind: 'slow', delayMs: 3000 }, 'timeout'],
        ['answers 500', { kind: 'status', status: 500 }, 'http_status'],
        ['answers invalid JSON', { kind: 'garbage' }, 'invalid_json'],
      ] as const)(
        'creates the ticket for the center when the directory %s, and only logs it',
        async (_label, behaviour, reason) => {
          const entries = [{ name: 'Never used', phone: newPhone(), specialties: ['Gas'] }];
          directory.behave(behaviour.kind === 'slow' ? { ...behaviour, entries } : behaviour);
          const logged = t.logs.length;
          const asked = directory.requests.length;
          const res = await postTicket(t, { location: `Kennedy ${reason}`, specialty: 'Gas' });
          expect(res.status).toBe(201);
          expect(res.body.data.ticket).toMatchObject({
            status: 'unassigned',
            matchSource: 'center',
            provider: null,
          });
          expect(res.body.data.notification.to).toBe(CENTER);
          expect(directory.requests.length).toBe(asked + 1);
          const failures = logLines(t, logged).filter((line) => line.event === 'provider_directory.failed');
          expect(failures).toEqual([expect.objectContaining({ reason })]);
        },
      );

      it('ignores directory entries it cannot use (no name, invalid phone, not an object)', async () => {
        directory.behave({
          kind: 'answer',
          entries: [{ name: '', phone: newPhone() }, { name: 'Sin número', phone: '123' }, 'nadie', null],
        });
        const { ticket, notification } = await createTicket(t, { location: 'Tunjuelito', specialty: 'Gas' });
        expect(ticket).toMatchObject({ matchSource: 'center', provider: null });
        expect(notification.to).toBe(CENTER);
      });
    });

    describe('center fallback', () => {
      it('tells the center (WHATSAPP_DEFAULT_TO) in Spanish that nobody matched', async () => {
        const { ticket, notification } = await createTicket(t, {
          location: 'Ciudad Bolívar',
          specialty: 'Cerrajería',
          address: 'Cra 18 #65-20',
          reporter: { name: 'Lucía Rojas' },
        });
        expect(ticket).toMatchObject({ status: 'unassigned', matchSource: 'center', provider: null });
        expect(notification).toEqual({ id: expect.any(String), to: CENTER, status: 'queued' });

        const message = await delivered(t, CENTER, notification.id);
        expect(message.type).toBe('interactive');
        expect(message.request.interactive?.action.buttons.map((b) => b.reply.title)).toEqual(['Tomar']);
        const body = message.request.interactive?.body.text ?? '';
        for (const part of [
          `Ticket ${ticket.number} sin proveedor`,
          'Ningún proveedor disponible para Ciudad Bolívar / Cerrajería.',
          'Cra 18 #65-20, Ciudad Bolívar',
          DESCRIPTION,
          'Reporta: Lucía Rojas',
          `${TICKET_BASE_URL}/tickets/${ticket.id}`,
        ]) {
          expect(body).toContain(part);
        }
        const stored = await getTicket(t, ticket.id);
        expect(stored.history.map((e: { type: string }) => e.type)).toEqual(['created', 'center_notified']);
      });
    });

    describe("the provider's message", () => {
      it('asks in Spanish with number, address and location, specialty, description, reporter name (not phone), link, Aceptar and Rechazar', async () => {
        const provider = await createProvider(t, { location: 'Chicó', specialties: ['Cerrajería'] });
        const reporterPhone = newPhone();
        const { ticket, notification } = await createTicket(t, {
          title: 'Puerta principal',
          description: '  La cerradura de la puerta principal no abre.  ',
          location: 'Chicó',
          specialty: 'Cerrajería',
          address: 'Calle 93 #11-27',
          reporter: { name: 'Carlos Pérez', phone: reporterPhone },
        });
        expect(ticket).toMatchObject({
          title: 'Puerta principal',
          description: 'La cerradura de la puerta principal no abre.',
          address: 'Calle 93 #11-27',
          reporter: { name: 'Carlos Pérez', phone: e164(reporterPhone) },
        });

        const message = await delivered(t, provider.phone, notification.id);
        expect(message.type).toBe('interactive');
        const buttons = message.request.interactive?.action.buttons ?? [];
        expect(buttons.map((b) => b.reply.title)).toEqual(['Aceptar', 'Rechazar']);
        // The payloads name the offer by an unguessable token, never the ticket's number or id.
        for (const button of buttons) {
          expect(button.reply.id).toMatch(/^(accept|decline):[A-Za-z0-9_-]{22}$/);
          expect(button.reply.id).not.toContain(ticket.id);
        }
        const body = message.request.interactive?.body.text ?? '';
        for (const part of [
          `Nuevo servicio ${ticket.number}`,
          'Calle 93 #11-27, Chicó',
          'Cerrajería',
          'La cerradura de la puerta principal no abre.',
          'Reporta: Carlos Pérez',
          `Ver el ticket: ${TICKET_BASE_URL}/tickets/${ticket.id}`,
        ]) {
          expect(body).toContain(part);
        }
        expect(body).not.toContain(reporterPhone);

        const sent = await eventually(async () => {
          const current = await getTicket(t, ticket.id);
          return ACCEPTED.includes(current.notifications[0]?.status) ? current : undefined;
        });
        expect(sent.notifications).toHaveLength(1);
        expect(sent.notifications[0]).toMatchObject({
          id: notification.id,
          to: provider.phone,
          messageId: message.wamid,
          lastError: null,
        });
        // Our own steps, in order (webhook events carry Meta's second-resolution time; see the report).
        const ours = sent.notifications[0].events.filter(
          (e: { detail: { source?: string } | null }) => e.detail?.source !== 'webhook',
        );
        expect(ours.slice(0, 2).map((e: { status: string }) => e.status)).toEqual(['queued', 'sent']);
      });

      it("lists only what was sent as notifications, not the provider's replies", async () => {
        const provider = await createProvider(t, { location: 'Galerías', specialties: ['Gas'] });
        const { ticket, notification } = await createTicket(t, { location: 'Galerías', specialty: 'Gas' });
        const message = await delivered(t, provider.phone, notification.id);
        await sandboxOf(t).reply(provider.phone, { text: 'Voy en camino', wamid: message.wamid });
        await eventually(() =>
          t.app.database.db
            .selectFrom('messages')
            .select('id')
            .where('direction', '=', 'inbound')
            .where('ticket_id', '=', ticket.id)
            .executeTakeFirst(),
        );
        const stored = await getTicket(t, ticket.id);
        expect(stored.notifications.map((n: { id: string }) => n.id)).toEqual([notification.id]);
      });

      it('trims a long description to fit, keeping the whole one on the ticket', async () => {
        const provider = await createProvider(t, { location: 'Modelia', specialties: ['Pintura'] });
        const description = 'pared '.repeat(800).trim();
        const { ticket, notification } = await createTicket(t, {
          description,
          location: 'Modelia',
          specialty: 'Pintura',
        });
        expect(ticket.description).toBe(description);
        const body =
          (await delivered(t, provider.phone, notification.id)).request.interactive?.body.text ?? '';
        expect(body).toContain('…');
        expect([...body].length).toBeLessThanOrEqual(1024);
        expect(body).toContain(`${TICKET_BASE_URL}/tickets/${ticket.id}`);
      });
    });

    describe('when WhatsApp refuses the message', () => {
      it('keeps the ticket (201), shows the failure on it and moves on to the center at once', async () => {
        const provider = await createProvider(t, { location: 'Puente Aranda', specialties: ['Gas'] });
        sandboxOf(t).addScenario({ fault: 'not_allowed', to: provider.phone });
        const res = await postTicket(t, { location: 'Puente Aranda', specialty: 'Gas' });
        expect(res.status).toBe(201);
        const { ticket } = res.body.data;

        const failed = await eventually(async () => {
          const current = await getTicket(t, ticket.id);
          return current.notifications[0]?.status === 'failed' && current.status === 'escalated'
            ? current
            : undefined;
        });
        expect(failed).toMatchObject({ id: ticket.id, matchSource: 'center', provider: null });
        expect(failed.history.map((e: { type: string }) => e.type)).toEqual([
          'created',
          'provider_notified',
          'delivery_failed',
          'escalated',
          'center_notified',
        ]);
        expect(failed.notifications[1]).toMatchObject({ to: CENTER });
        expect(failed.notifications[0]).toMatchObject({
          to: provider.phone,
          status: 'failed',
          attempts: 1,
          lastError: { code: 'whatsapp_rejected', whatsappCode: 131030 },
        });
        expect(failed.notifications[0].events.map((e: { status: string }) => e.status)).toContain('failed');
        const listed = await t.request('GET', `/api/tickets?status=escalated`);
        expect(listed.body.data.items.map((i: { id: string }) => i.id)).toContain(ticket.id);
      });
    });

    describe('uploads (multipart, files under media)', () => {
      const fields = (location: string) => ({
        description: DESCRIPTION,
        location,
        specialty: 'Plomería',
        'reporter.name': 'Ana Gómez',
      });

      it('stores photos and documents, sniffed from their bytes, and serves them back unchanged', async () => {
        const files: FileSpec[] = [
          { data: png(), filename: 'foto.jpg', type: 'image/jpeg' },
          { data: jpeg(), filename: 'C:\\fakepath\\daño.JPEG', type: 'image/jpeg' },
          { data: pdf(), filename: '../../factura final.pdf' },
          { data: png(), filename: "foto (1) d'Ana.png", type: 'image/png' },
          { data: Buffer.from('Llaves en la portería.\n'), filename: 'notas.txt', type: 'text/plain' },
        ];
        const res = await postMultipart(t, fields('Los Mártires'), files);
        expect(res.status, JSON.stringify(res.body)).toBe(201);
        const { ticket, notification } = res.body.data;
        expect(ticket).toMatchObject({
          location: 'Los Mártires',
          reporter: { name: 'Ana Gómez', phone: null },
        });
        expect(notification.to).toBe(CENTER);

        const stored = await getTicket(t, ticket.id);
        expect(stored.media).toEqual([
          {
            id: expect.any(String),
            filename: 'foto.png',
            contentType: 'image/png',
            size: png().length,
            url: expect.any(String),
          },
          {
            id: expect.any(String),
            filename: 'daño.JPEG',
            contentType: 'image/jpeg',
            size: jpeg().length,
            url: expect.any(String),
          },
          {
            id: expect.any(String),
            filename: 'factura final.pdf',
            contentType: 'application/pdf',
            size: pdf().length,
            url: expect.any(String),
          },
          {
            id: expect.any(String),
            filename: "foto (1) d'Ana.png",
            contentType: 'image/png',
            size: png().length,
            url: expect.any(String),
          },
          {
            id: expect.any(String),
            filename: 'notas.txt',
            contentType: 'text/plain',
            size: files[4]?.data.length,
            url: expect.any(String),
          },
        ]);
        expect(stored.history[0]).toMatchObject({ type: 'created', detail: { media: 5 } });

        const dispositions = [];
        for (const [index, media] of stored.media.entries()) {
          expect(media.url).toBe(`/api/tickets/${ticket.id}/media/${media.id}`);
          const file = await download(t, media.url);
          expect(file.status).toBe(200);
          expect(file.data.equals(files[index]?.data ?? Buffer.alloc(0))).toBe(true);
          expect(file.headers.get('content-type')).toBe(
            media.contentType === 'text/plain' ? 'text/plain; charset=utf-8' : media.contentType,
          );
          expect(file.headers.get('x-content-type-options')).toBe('nosniff');
          // A photo of someone's home: never cached; opened on its own, it may load nothing (ADR 0014).
          expect(file.headers.get('cache-control')).toBe('no-store');
          expect(file.headers.get('content-security-policy')).toBe(
            "default-src 'none'; frame-ancestors 'none'",
          );
          dispositions.push(file.headers.get('content-disposition'));
        }
        // An ASCII fallback, and the exact name RFC 5987-encoded (attr-chars only: no raw ' ( ) *).
        expect(dispositions).toEqual([
          `inline; filename="foto.png"; filename*=UTF-8''foto.png`,
          `inline; filename="da_o.JPEG"; filename*=UTF-8''da%C3%B1o.JPEG`,
          `inline; filename="factura final.pdf"; filename*=UTF-8''factura%20final.pdf`,
          `inline; filename="foto (1) d'Ana.png"; filename*=UTF-8''foto%20%281%29%20d%27Ana.png`,
          `inline; filename="notas.txt"; filename*=UTF-8''notas.txt`,
        ]);
        const onDisk = (await storedFiles(t)).filter((file) => file.includes(ticket.id));
        expect(onDisk.filter((file) => !path.basename(file).startsWith('.'))).toHaveLength(5);
      });

      it('accepts exactly 10 files, and documents larger than the 5 MB image limit', async () => {
        const tenFiles = Array.from({ length: 10 }, (_, i) => ({ data: png(), filename: `foto-${i}.png` }));
        const ten = await postMultipart(t, fields('Santa Fe'), tenFiles);
        expect(ten.status, JSON.stringify(ten.body)).toBe(201);
        expect((await getTicket(t, ten.body.data.ticket.id)).media).toHaveLength(10);

        const bigDocument = pdfOfSize(6 * MB);
        const big = await postMultipart(t, fields('Santa Fe'), [
          { data: bigDocument, filename: 'planos.pdf' },
        ]);
        expect(big.status, JSON.stringify(big.body)).toBe(201);
        const [media] = (await getTicket(t, big.body.data.ticket.id)).media;
        expect(media).toMatchObject({ contentType: 'application/pdf', size: 6 * MB });
        expect((await download(t, media.url)).data.equals(bigDocument)).toBe(true);
      });

      it('refuses an image over 5 MB with 413 file_too_large naming the part, storing nothing', async () => {
        await expectNothingStored(t, async () => {
          const res = await postMultipart(t, fields('San Cristóbal'), [
            { data: png(), filename: 'ok.png' },
            { data: pngOfSize(5 * MB + 1), filename: 'enorme.png' },
          ]);
          expect(res.status).toBe(413);
          expect(res.body.error).toMatchObject({
            code: 'file_too_large',
            message: expect.stringContaining('5 MB'),
            details: { field: 'media[1]', filename: 'enorme.png' },
          });
        });
      });

      it.each([
        ['a GIF', Buffer.from('GIF89a\x01\x00\x01\x00\x00\x00\x00;', 'latin1'), 'animacion.gif'],
        ['a program named .jpg', Buffer.concat([Buffer.from('MZ'), Buffer.alloc(200)]), 'foto.jpg'],
        ['HTML named .txt', Buffer.from('<html><script>alert(1)</script></html>'), 'nota.txt'],
      ])(
        'refuses %s with 415 unsupported_media_type naming the part, storing nothing',
        async (_l, data, filename) => {
          await expectNothingStored(t, async () => {
            const res = await postMultipart(t, fields('Antonio Nariño'), [
              { data, filename, type: 'image/jpeg' },
            ]);
            expect(res.status).toBe(415);
            expect(res.body.error).toMatchObject({
              code: 'unsupported_media_type',
              details: { field: 'media[0]', filename },
            });
          });
        },
      );

      it('refuses more than 10 files with 400 too_many_files, storing nothing', async () => {
        await expectNothingStored(t, async () => {
          const files = Array.from({ length: 11 }, (_, i) => ({ data: png(), filename: `foto-${i}.png` }));
          const res = await postMultipart(t, fields('Rafael Uribe'), files);
          expect(res.status).toBe(400);
          expect(res.body.error).toMatchObject({
            code: 'too_many_files',
            details: { field: 'media', max: 10 },
          });
        });
      });

      it('refuses invalid fields before storing any file', async () => {
        await expectNothingStored(t, async () => {
          const photo = [{ data: png(), filename: 'foto.png' }];
          const missing = await postMultipart(t, { location: 'Usme', specialty: 'Gas' }, photo);
          expect(missing.status).toBe(400);
          expect(missing.body.error).toMatchObject({
            code: 'validation_error',
            message: 'description is required',
            details: { field: 'description' },
          });

          const badPhone = await postMultipart(t, { ...fields('Usme'), 'reporter.phone': '12345' }, photo);
          expect(badPhone.status).toBe(400);
          expect(badPhone.body.error).toMatchObject({
            code: 'invalid_phone_number',
            details: { field: 'reporter.phone' },
          });

          const unknown = await postMultipart(t, { ...fields('Usme'), priority: 'alta' }, photo);
          expect(unknown.status).toBe(400);
          expect(unknown.body.error).toMatchObject({
            code: 'validation_error',
            details: { field: 'priority' },
          });

          const wrongField = await postMultipart(t, fields('Usme'), photo, 'photos');
          expect(wrongField.status).toBe(400);
          expect(wrongField.body.error).toMatchObject({
            code: 'validation_error',
            details: { field: 'photos' },
          });
        });
      });

      it('keeps a long description in multi-byte characters whole, and refuses a field over the size limit', async () => {
        const description = '🔧'.repeat(5000);
        const kept = await postMultipart(t, { ...fields('Usme'), description }, []);
        expect(kept.status, JSON.stringify(kept.body)).toBe(201);
        expect(kept.body.data.ticket.description).toBe(description);

        await expectNothingStored(t, async () => {
          const res = await postMultipart(t, { ...fields('Usme'), title: 'x'.repeat(70_000) }, []);
          expect(res.status).toBe(400);
          expect(res.body.error).toMatchObject({ code: 'validation_error', details: { field: 'title' } });
        });
      });

      it('refuses a malformed multipart body with a 4xx, never a 500', async () => {
        const multipart = (raw: string, contentType = 'multipart/form-data; boundary=b') =>
          t.request('POST', '/api/tickets', { raw, headers: { 'content-type': contentType } });
        const part = (name: string, value: string) =>
          `--b\r\ncontent-disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
        const valid = part('description', 'd') + part('location', 'Usme') + part('specialty', 'Gas');

        await expectNothingStored(t, async () => {
          const noBoundary = await multipart(`${valid}--b--\r\n`, 'multipart/form-data');
          expect(noBoundary.status).toBe(415);
          expect(noBoundary.body.error).toMatchObject({
            code: 'unsupported_media_type',
            details: { field: 'content-type' },
          });

          const cut = await multipart(
            `${valid}--b\r\ncontent-disposition: form-data; name="media"; filename="a.png"\r\n\r\n\x89PNG`,
          );
          expect(cut.status).toBe(400);
          expect(cut.body.error).toMatchObject({ code: 'validation_error', details: { field: 'body' } });

          const manyFields = await multipart(`${valid}${part('title', 'x').repeat(30)}--b--\r\n`);
          expect(manyFields.status).toBe(400);
          expect(manyFields.body.error).toMatchObject({
            code: 'validation_error',
            details: { field: 'body' },
          });

          const proto = await multipart(`${valid}${part('__proto__', 'x')}--b--\r\n`);
          expect(proto.status).toBe(400);
          expect(proto.body.error.code).toBe('validation_error');
        });
        const unexpected = logLines(t).filter((line) => line.event === 'http.unexpected_error');
        expect(unexpected).toEqual([]);
      });

      // The 100 MB limit does not depend on the database: checked once, it sends 100 MB.
      it.runIf(dialect === 'sqlite')(
        'refuses a document over 100 MB with 413 file_too_large naming the part',
        async () => {
          await expectNothingStored(t, async () => {
            const huge = Buffer.alloc(100 * MB + 1, 'a');
            const res = await postMultipart(t, fields('Usme'), [
              { data: png(), filename: 'ok.png' },
              { data: huge, filename: 'inventario.txt', type: 'text/plain' },
            ]);
            expect(res.status).toBe(413);
            expect(res.body.error).toMatchObject({
              code: 'file_too_large',
              details: { field: 'media[1]', filename: 'inventario.txt' },
            });
          });
        },
      );
    });

    describe('JSON validation', () => {
      const valid = { description: DESCRIPTION, location: 'Usme', specialty: 'Gas' };

      it.each([
        ['no description', { location: 'Usme', specialty: 'Gas' }, 'description', 'description is required'],
        ['no location', { ...valid, location: undefined }, 'location', 'location is required'],
        ['an empty specialty', { ...valid, specialty: '' }, 'specialty', 'specialty must not be empty'],
        [
          'a blank description',
          { ...valid, description: '   ' },
          'description',
          'description has an invalid format',
        ],
        [
          'a numeric description',
          { ...valid, description: 42 },
          'description',
          'description must be a string',
        ],
        [
          'a 5001-character description',
          { ...valid, description: 'x'.repeat(5001) },
          'description',
          'description must be at most 5000 characters',
        ],
        [
          'a numeric reporter phone',
          { ...valid, reporter: { phone: 3001234567 } },
          'reporter.phone',
          'reporter.phone must be a string',
        ],
        ['an unknown field', { ...valid, priority: 'alta' }, 'priority', 'priority is not allowed'],
      ])('refuses %s with 400 validation_error naming %s', async (_label, body, field, message) => {
        await expectNothingStored(t, async () => {
          const res = await t.request('POST', '/api/tickets', { body });
          expect(res.status).toBe(400);
          expect(res.body).toEqual({
            success: false,
            error: { code: 'validation_error', message, details: { field, location: 'body' } },
          });
        });
      });

      it.each(['123', 'abc', '+1 000 000 0000'])(
        'refuses the reporter phone %s with 400 invalid_phone_number naming reporter.phone',
        async (phone) => {
          await expectNothingStored(t, async () => {
            const res = await t.request('POST', '/api/tickets', { body: { ...valid, reporter: { phone } } });
            expect(res.status).toBe(400);
            expect(res.body.error).toMatchObject({
              code: 'invalid_phone_number',
              details: { field: 'reporter.phone' },
            });
          });
        },
      );

      it('refuses malformed JSON and a missing API key', async () => {
        await expectNothingStored(t, async () => {
          const malformed = await t.request('POST', '/api/tickets', {
            raw: '{"description": ',
            headers: { 'content-type': 'application/json' },
          });
          expect(malformed.status).toBe(400);
          expect(malformed.body.error.code).toBe('invalid_json');

          const anonymous = await t.request('POST', '/api/tickets', {
            body: valid,
            headers: { 'x-api-key': '' },
          });
          expect(anonymous.status).toBe(401);
        });
      });
    });

    describe('listing and reading', () => {
      it('filters by status, provider and location, newest first, with a cursor', async () => {
        const provider = await createProvider(t, { location: 'Engativá', specialties: ['Gas'] });
        const ours = [
          (await createTicket(t, { location: 'Engativá', specialty: 'Gas' })).ticket,
          (await createTicket(t, { location: 'engativa', specialty: 'gas' })).ticket,
          (await createTicket(t, { location: 'Barrios Unidos', specialty: 'Gas' })).ticket,
          (await createTicket(t, { location: 'BARRIOS UNIDOS', specialty: 'Gas' })).ticket,
        ];
        const ids = (res: TestResponse) => res.body.data.items.map((item: { id: string }) => item.id);
        const [t1, t2, t3, t4] = ours.map((ticket) => ticket.id);

        const byLocation = await t.request(
          'GET',
          `/api/tickets?location=${encodeURIComponent(' ENGATIVÁ ')}`,
        );
        expect(byLocation.status).toBe(200);
        expect(ids(byLocation)).toEqual([t2, t1]);
        expect(byLocation.body.data.items[0]).toMatchObject({
          provider: { id: provider.id },
          status: 'notified',
        });
        expect(byLocation.body.data.nextCursor).toBeNull();

        expect(ids(await t.request('GET', `/api/tickets?provider=${provider.id}`))).toEqual([t2, t1]);
        expect(
          ids(await t.request('GET', '/api/tickets?status=unassigned&location=barrios%20unidos')),
        ).toEqual([t4, t3]);
        expect(ids(await t.request('GET', '/api/tickets?status=notified&location=barrios%20unidos'))).toEqual(
          [],
        );

        const seen = [];
        let cursor: string | null = null;
        do {
          const query: string = cursor === null ? '' : `&cursor=${cursor}`;
          const page = await t.request('GET', `/api/tickets?location=engativa&limit=1${query}`);
          expect(page.status).toBe(200);
          expect(page.body.data.items).toHaveLength(1);
          seen.push(...ids(page));
          cursor = page.body.data.nextCursor;
        } while (cursor !== null);
        expect(seen).toEqual([t2, t1]);

        const all = await t.request('GET', '/api/tickets?limit=200');
        expect(ids(all)).toEqual(expect.arrayContaining([t1, t2, t3, t4]));
      });

      it.each([
        ['cursor=nonsense', 'cursor'],
        ['status=lost', 'status'],
        ['limit=0', 'limit'],
        ['limit=201', 'limit'],
        ['colour=red', 'colour'],
      ])('refuses ?%s with 400 naming %s', async (query, field) => {
        const res = await t.request('GET', `/api/tickets?${query}`);
        expect(res.status).toBe(400);
        expect(res.body.error).toMatchObject({ code: 'validation_error', details: { field } });
      });

      it('answers 404 for an unknown ticket or file', async () => {
        const unknown = '00000000-0000-7000-8000-000000000000';
        const missing = await t.request('GET', `/api/tickets/${unknown}`);
        expect(missing.status).toBe(404);
        expect(missing.body.error.code).toBe('not_found');

        const { ticket } = await createTicket(t, { location: 'La Candelaria', specialty: 'Gas' });
        expect((await download(t, `/api/tickets/${ticket.id}/media/${unknown}`)).status).toBe(404);
        expect((await t.request('POST', `/api/tickets/${unknown}/reassign`, { body: {} })).status).toBe(404);
      });
    });

    describe('reassign', () => {
      it('offers the next match not tried yet, then the center, each with a new notification', async () => {
        const first = await createProvider(t, { name: 'Primero', location: 'Kennedy', specialties: ['Gas'] });
        const second = await createProvider(t, {
          name: 'Segundo',
          location: 'Kennedy',
          specialties: ['Gas'],
        });
        const other = await createProvider(t, {
          name: 'Pintor',
          location: 'Kennedy',
          specialties: ['Pintura'],
        });
        const directoryPhone = newPhone();
        directory.behave({
          kind: 'answer',
          entries: [{ name: 'Retel Kennedy', phone: directoryPhone, specialties: ['Gas'] }],
        });

        const created = await createTicket(t, { location: 'Kennedy', specialty: 'Gas' });
        const id = created.ticket.id;
        expect(created.ticket).toMatchObject({ matchSource: 'local_specialty', provider: { id: first.id } });

        // No body at all, or an empty one: both mean "the next match".
        const withoutBody = await t.request('POST', `/api/tickets/${id}/reassign`);
        expect(withoutBody.status, JSON.stringify(withoutBody.body)).toBe(200);
        const results = [withoutBody.body.data];
        for (let i = 0; i < 3; i += 1) results.push(await reassign(t, id));
        const steps = [];
        for (const { ticket, notification } of results) {
          steps.push({
            source: ticket.matchSource,
            provider: ticket.provider?.name ?? null,
            to: notification.to,
          });
          await delivered(t, notification.to, notification.id);
        }
        expect(steps).toEqual([
          { source: 'local_specialty', provider: 'Segundo', to: second.phone },
          { source: 'local_location', provider: 'Pintor', to: other.phone },
          { source: 'directory', provider: 'Retel Kennedy', to: e164(directoryPhone) },
          { source: 'center', provider: null, to: CENTER },
        ]);
        const centered = await getTicket(t, id);
        // Handed to the center after others were asked: escalated (unassigned is for "nobody matched at creation").
        expect(centered).toMatchObject({ status: 'escalated', provider: null, matchSource: 'center' });
        // Every earlier offer was superseded: its buttons no longer count.
        expect(centered.assignment).toMatchObject({ kind: 'center', status: 'offered' });
        expect(centered.notifications.map((n: { to: string }) => n.to)).toEqual([
          first.phone,
          second.phone,
          other.phone,
          e164(directoryPhone),
          CENTER,
        ]);
        expect(centered.history.filter((e: { type: string }) => e.type === 'reassigned')).toHaveLength(4);
      });

      it('offers the ticket to a chosen provider, even one already tried', async () => {
        const first = await createProvider(t, { location: 'Fontibón Centro', specialties: ['Gas'] });
        const chosen = await createProvider(t, { location: 'Lejos', specialties: ['Plomería'] });
        const { ticket } = await createTicket(t, { location: 'Fontibón Centro', specialty: 'Gas' });
        expect(ticket.provider.id).toBe(first.id);

        const toChosen = await reassign(t, ticket.id, { providerId: chosen.id });
        expect(toChosen.ticket).toMatchObject({
          status: 'notified',
          matchSource: 'manual',
          provider: { id: chosen.id },
        });
        const message = await delivered(t, chosen.phone, toChosen.notification.id);
        expect(message.request.interactive?.body.text).toContain(ticket.number);

        const back = await reassign(t, ticket.id, { providerId: first.id });
        expect(back.ticket.provider.id).toBe(first.id);
        expect(back.notification.to).toBe(first.phone);
        expect((await getTicket(t, ticket.id)).notifications).toHaveLength(3);

        const unknown = await t.request('POST', `/api/tickets/${ticket.id}/reassign`, {
          body: { providerId: '00000000-0000-7000-8000-000000000000' },
        });
        expect(unknown.status).toBe(404);
        expect(unknown.body.error).toMatchObject({ code: 'not_found', details: { field: 'providerId' } });
        expect((await getTicket(t, ticket.id)).notifications).toHaveLength(3);
      });
    });

    // Runs last: it reads what every test above logged.
    describe('logs', () => {
      it('record provider.matched with each source, and never a full phone number', () => {
        const lines = logLines(t);
        const sources = new Set(lines.filter((l) => l.event === 'provider.matched').map((l) => l.source));
        expect([...sources].sort()).toEqual([
          'center',
          'directory',
          'local_location',
          'local_specialty',
          'manual',
        ]);
        expect(lines.some((l) => l.event === 'ticket.created')).toBe(true);
        const text = t.logs.join('');
        for (const phone of phonesUsed) expect(text).not.toContain(phone);
      });
    });
  });

  // A second app: approved template, the reporter's phone included, no center, no directory.
  describe.skipIf(skip)('with WHATSAPP_TEMPLATE_NEW_TICKET and no center', () => {
    let tt: TestApp;
    beforeAll(async () => {
      tt = await startTestApp({
        dialect,
        env: {
          WHATSAPP_TEMPLATE_NEW_TICKET: 'nuevo_ticket',
          NOTIFY_INCLUDE_REPORTER_PHONE: 'true',
          TICKET_BASE_URL,
        },
      });
    });
    afterAll(async () => tt?.close());

    it('first contacts the provider with the template, its values as parameters, in Spanish (es)', async () => {
      const provider = await createProvider(tt, { location: 'Teusaquillo', specialties: ['Electricidad'] });
      const reporterPhone = newPhone();
      const { ticket, notification } = await createTicket(tt, {
        description: 'Se fue la luz en la cocina.\nEl breaker no sube.',
        location: 'Teusaquillo',
        specialty: 'Electricidad',
        address: 'Cra 7 #45-10',
        reporter: { name: 'Ana Gómez', phone: reporterPhone },
      });
      const message = await delivered(tt, provider.phone, notification.id);
      expect(message.type).toBe('template');
      expect(message.request.template).toEqual({
        name: 'nuevo_ticket',
        language: expect.objectContaining({ code: 'es' }),
        components: [
          {
            type: 'body',
            parameters: [
              { type: 'text', text: ticket.number },
              { type: 'text', text: 'Cra 7 #45-10, Teusaquillo' },
              { type: 'text', text: 'Electricidad' },
              { type: 'text', text: 'Se fue la luz en la cocina. El breaker no sube.' },
              { type: 'text', text: `Reporta: Ana Gómez (+${e164(reporterPhone)})` },
              { type: 'text', text: `${TICKET_BASE_URL}/tickets/${ticket.id}` },
            ],
          },
          ...['accept', 'decline'].map((action, index) => ({
            type: 'button',
            sub_type: 'quick_reply',
            index: String(index),
            parameters: [
              {
                type: 'payload',
                payload: expect.stringMatching(new RegExp(`^${action}:[A-Za-z0-9_-]{22}$`)),
              },
            ],
          })),
        ],
      });
    });

    it('creates the ticket with no notification when nobody matches and no center is configured', async () => {
      const { ticket, notification } = await createTicket(tt, { location: 'Sumapaz', specialty: 'Gas' });
      expect(notification).toBeNull();
      expect(ticket).toMatchObject({ status: 'unassigned', matchSource: 'center', provider: null });
      const stored = await getTicket(tt, ticket.id);
      expect(stored.notifications).toEqual([]);
      expect(stored.history.map((e: { type: string }) => e.type)).toEqual(['created', 'no_provider']);
      expect(logLines(tt).some((l) => l.event === 'ticket.no_center' && l.ticketId === ticket.id)).toBe(true);
    });

    it("never logs a full phone number, though the reporter's is in the message", () => {
      const text = tt.logs.join('');
      expect(text).toContain('provider.matched');
      for (const phone of phonesUsed) expect(text).not.toContain(phone);
    });
  });
});
