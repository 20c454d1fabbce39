/**
 * The accept/decline loop through HTTP and the sandbox's "be the phone" API, on both databases: the
 * provider's buttons, what each tap does, deadlines (with a clock moved by hand, never by sleeping),
 * undeliverable offers, the center's Tomar, and a restart in the middle of a deadline.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InboxMessage } from '../../src/sandbox/inbox.js';
import { signWebhookBody } from '../../src/whatsapp/webhook-signature.js';
import { png } from '../helpers/sample-files.js';
import {
  AdjustableClock,
  DIALECTS,
  eventually,
  isPostgresAvailable,
  startTestApp,
  TEST_API_KEY,
  type TestApp,
} from '../helpers/test-app.js';

const hasPostgres = await isPostgresAvailable();

const CENTER = '573001110000';
const APP_SECRET = 'accept-decline-app-secret';
const MINUTE = 60_000;
const ENV = {
  WHATSAPP_DEFAULT_TO: CENTER,
  WHATSAPP_APP_SECRET: APP_SECRET,
  ASSIGNMENT_TIMEOUT_MIN: '30',
  ASSIGNMENT_TIMEOUT_BY_SPECIALTY: 'Urgencias=5',
  // The sweeper runs on its own too; tests also call it, and every move is conditional, so both are fine.
  ASSIGNMENT_CHECK_INTERVAL_MS: '100',
};

let phoneCounter = 0;
/** A fresh Colombian mobile number with its country code (`5730030NNNNN`). */
function newPhone(): string {
  phoneCounter += 1;
  return `5730030${String(phoneCounter).padStart(5, '0')}`;
}
let placeCounter = 0;
/** A location no other test uses, so each test has its own candidates. */
const newPlace = (): string => `Barrio ${++placeCounter} ${Math.random().toString(36).slice(2, 6)}`;

function sandboxOf(t: TestApp) {
  const state = t.app.sandbox?.state;
  if (state === undefined) throw new Error('the test app runs with the in-process sandbox');
  return state;
}

/** The newest message to `to` that satisfies `match` (waits for it). */
function received(t: TestApp, to: string, match: (m: InboxMessage) => boolean): Promise<InboxMessage> {
  return eventually(() => sandboxOf(t).messagesFor(to).filter(match).at(-1));
}

const textOf = (m: InboxMessage): string => m.request.text?.body ?? m.request.interactive?.body.text ?? '';
const hasButton = (title: string) => (m: InboxMessage) =>
  m.request.interactive?.action.buttons.some((b) => b.reply.title === title) ?? false;
const saying = (text: string) => (m: InboxMessage) => textOf(m).includes(text);

async function createProvider(t: TestApp, name: string, location: string, specialty = 'Plomería') {
  const res = await t.request('POST', '/api/providers', {
    body: { name, phone: `+${newPhone()}`, location, specialties: [specialty] },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.data as { id: string; name: string; phone: string };
}

async function createTicket(t: TestApp, location: string, extra: Record<string, unknown> = {}) {
  const res = await t.request('POST', '/api/tickets', {
    body: { description: 'Fuga de agua en el baño.', location, specialty: 'Plomería', ...extra },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.data.ticket as { id: string; number: string };
}

async function getTicket(t: TestApp, id: string) {
  const res = await t.request('GET', `/api/tickets/${id}`);
  expect(res.status).toBe(200);
  return res.body.data;
}

/** Waits until the ticket is in `status` (and `check` holds), and returns it. */
function ticketWhen(t: TestApp, id: string, status: string, check: (ticket: any) => boolean = () => true) {
  return eventually(async () => {
    const ticket = await getTicket(t, id);
    return ticket.status === status && check(ticket) ? ticket : undefined;
  });
}

const historyOf = (ticket: { history: { type: string }[] }): string[] => ticket.history.map((e) => e.type);

/** The phone taps a button (by its title) of the newest message that has it, as WhatsApp would. */
async function tap(t: TestApp, waId: string, title: string, wamid?: string) {
  const res = await t.request('POST', `/api/sandbox/inbox/${waId}/reply`, {
    body: { button: { title }, ...(wamid === undefined ? {} : { wamid }) },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.data;
}

describe.each(DIALECTS)('the accept/decline loop on %s', (dialect) => {
  const skip = dialect === 'postgres' && !hasPostgres;
  const clock = new AdjustableClock();
  let t: TestApp;

  beforeAll(async () => {
    if (skip) return;
    t = await startTestApp({ dialect, clock, env: ENV });
  });
  afterAll(async () => t?.close());

  describe.skipIf(skip)('', () => {
    it('Aceptar gives the ticket to the provider, who then gets every detail and the photos', async () => {
      const place = newPlace();
      const provider = await createProvider(t, 'Ana Plomera', place);
      const form = new FormData();
      form.set('description', 'Fuga de agua debajo del lavamanos.');
      form.set('location', place);
      form.set('specialty', 'Plomería');
      form.set('reporter.name', 'Carlos Pérez');
      form.set('reporter.phone', '3109998877');
      form.append('media', new Blob([png()], { type: 'image/png' }), 'fuga.png');
      const created = await fetch(`${t.url}/api/tickets`, {
        method: 'POST',
        headers: { 'x-api-key': TEST_API_KEY },
        body: form,
      });
      expect(created.status).toBe(201);
      const { ticket } = ((await created.json()) as { data: { ticket: { id: string; number: string } } })
        .data;

      const offer = await received(t, provider.phone, hasButton('Aceptar'));
      // Before accepting, the reporter's phone is not shared.
      expect(textOf(offer)).not.toContain('3109998877');
      await tap(t, provider.phone, 'Aceptar');

      const accepted = await ticketWhen(t, ticket.id, 'accepted');
      expect(accepted).toMatchObject({
        provider: { id: provider.id },
        assignment: { kind: 'provider', status: 'accepted', providerId: provider.id },
      });
      expect(historyOf(accepted)).toEqual(['created', 'provider_notified', 'accepted']);

      const details = await received(t, provider.phone, saying('asignado a ti'));
      expect(textOf(details)).toContain('Fuga de agua debajo del lavamanos.');
      expect(textOf(details)).toContain('Carlos Pérez (+573109998877)');
      const photo = await received(t, provider.phone, (m) => m.type === 'image');
      const link = new URL(photo.request.image?.link ?? '');
      expect(photo.request.image?.caption).toBe(`${ticket.number} · 1/1`);
      // The link works without an API key (Meta fetches it) and serves exactly the photo...
      const fetched = await fetch(`${t.url}${link.pathname}${link.search}`);
      expect(fetched.status).toBe(200);
      expect(Buffer.from(await fetched.arrayBuffer()).equals(png())).toBe(true);
      // ...and nothing else: another signature or no signature is a 404.
      link.searchParams.set('signature', '0'.repeat(64));
      expect((await fetch(`${t.url}${link.pathname}${link.search}`)).status).toBe(404);
      expect((await fetch(`${t.url}${link.pathname}`)).status).toBe(400);

      const told = await received(t, CENTER, saying(`${ticket.number} fue aceptado por Ana Plomera`));
      expect(told.type).toBe('text');
      const stats = (await t.request('GET', `/api/providers/${provider.id}`)).body.data.stats;
      expect(stats).toMatchObject({ accepted: 1, declined: 0, expired: 0 });
    });

    it('Rechazar moves on to the next candidate, then to the center, who takes it with Tomar', async () => {
      const place = newPlace();
      const first = await createProvider(t, 'Primero', place);
      const second = await createProvider(t, 'Segundo', place);
      const ticket = await createTicket(t, place);
      const offered = await getTicket(t, ticket.id);
      const [asked, next] = offered.provider.id === first.id ? [first, second] : [second, first];

      await received(t, asked.phone, hasButton('Rechazar'));
      await tap(t, asked.phone, 'Rechazar');
      await received(t, asked.phone, saying('Ofreceremos el servicio'));
      await ticketWhen(t, ticket.id, 'notified', (tk) => tk.provider?.id === next.id);

      await received(t, next.phone, hasButton('Rechazar'));
      await tap(t, next.phone, 'Rechazar');
      const escalated = await ticketWhen(t, ticket.id, 'escalated');
      expect(escalated).toMatchObject({ provider: null, assignment: { kind: 'center', status: 'offered' } });

      const toCenter = await received(
        t,
        CENTER,
        (m) => hasButton('Tomar')(m) && textOf(m).includes(ticket.number),
      );
      expect(textOf(toCenter)).toContain('Ningún proveedor aceptó');
      await tap(t, CENTER, 'Tomar', toCenter.wamid);
      const taken = await ticketWhen(t, ticket.id, 'accepted');
      expect(taken.assignment).toMatchObject({ kind: 'center', status: 'taken' });
      expect(historyOf(taken)).toEqual([
        'created',
        'provider_notified',
        'declined',
        'provider_notified',
        'declined',
        'escalated',
        'center_notified',
        'taken_by_center',
      ]);
      await received(t, CENTER, saying(`Tomaste el ticket ${ticket.number}`));
    });

    it('an unanswered offer expires at its deadline and the next candidate is asked; a late tap changes nothing', async () => {
      const place = newPlace();
      const first = await createProvider(t, 'Lento', place);
      const second = await createProvider(t, 'Rápido', place);
      const ticket = await createTicket(t, place);
      const asked = (await getTicket(t, ticket.id)).provider.id === first.id ? first : second;
      const next = asked === first ? second : first;
      const offer = await received(t, asked.phone, hasButton('Aceptar'));

      // One minute before the deadline nothing moves...
      clock.advance(29 * MINUTE);
      await t.app.assignmentSweeper.sweep();
      expect((await getTicket(t, ticket.id)).assignment).toMatchObject({
        status: 'offered',
        providerId: asked.id,
      });
      // ...after it, the ticket goes on.
      clock.advance(2 * MINUTE);
      await t.app.assignmentSweeper.sweep();
      const moved = await ticketWhen(t, ticket.id, 'notified', (tk) => tk.provider?.id === next.id);
      expect(historyOf(moved)).toEqual(['created', 'provider_notified', 'expired', 'provider_notified']);

      // The stale offer's Aceptar, tapped late, gets a polite answer and changes nothing.
      await tap(t, asked.phone, 'Aceptar', offer.wamid);
      await received(t, asked.phone, saying('Este servicio ya fue asignado'));
      const after = await getTicket(t, ticket.id);
      expect(after).toMatchObject({ status: 'notified', provider: { id: next.id } });
      const stats = (await t.request('GET', `/api/providers/${asked.id}`)).body.data.stats;
      expect(stats).toMatchObject({ accepted: 0, expired: 1 });
    });

    it('uses the per-specialty deadline (Urgencias = 5 min)', async () => {
      const place = newPlace();
      await createProvider(t, 'Urgente', place, 'Urgencias');
      const res = await t.request('POST', '/api/tickets', {
        body: { description: 'Se inunda la cocina.', location: place, specialty: 'urgencias' },
      });
      const { ticket } = res.body.data;
      const offered = await getTicket(t, ticket.id);
      const minutes =
        (Date.parse(offered.assignment.deadlineAt) - Date.parse(offered.assignment.offeredAt)) / MINUTE;
      expect(minutes).toBe(5);
      clock.advance(6 * MINUTE);
      await t.app.assignmentSweeper.sweep();
      await ticketWhen(t, ticket.id, 'escalated');
    });

    it('an undeliverable offer (131026 reported by webhook) moves on at once, without waiting', async () => {
      const place = newPlace();
      // The specialty match is asked first; the same-location one is next.
      const unreachable = await createProvider(t, 'Sin WhatsApp', place, 'Plomería');
      const reachable = await createProvider(t, 'Con WhatsApp', place, 'Pintura');
      const scenario = sandboxOf(t).addScenario({ fault: 'undeliverable_async', to: unreachable.phone });
      try {
        const ticket = await createTicket(t, place);
        expect((await getTicket(t, ticket.id)).provider.id).toBe(unreachable.id);
        // No clock movement: the failed status alone moves the ticket on.
        const moved = await ticketWhen(t, ticket.id, 'notified', (tk) => tk.provider?.id === reachable.id);
        expect(historyOf(moved)).toEqual([
          'created',
          'provider_notified',
          'delivery_failed',
          'provider_notified',
        ]);
        expect(moved.history[2].detail).toMatchObject({ providerId: unreachable.id, whatsappCode: 131026 });
        await received(t, reachable.phone, hasButton('Aceptar'));
      } finally {
        sandboxOf(t).removeScenario(scenario.id);
      }
    });

    it('an offer refused at send time (131030) moves on at once as well', async () => {
      const place = newPlace();
      const refused = await createProvider(t, 'No permitido', place, 'Plomería');
      const next = await createProvider(t, 'Permitido', place, 'Gas');
      const scenario = sandboxOf(t).addScenario({ fault: 'not_allowed', to: refused.phone });
      try {
        const ticket = await createTicket(t, place);
        const moved = await ticketWhen(t, ticket.id, 'notified', (tk) => tk.provider?.id === next.id);
        expect(moved.history[2]).toMatchObject({ type: 'delivery_failed', detail: { whatsappCode: 131030 } });
      } finally {
        sandboxOf(t).removeScenario(scenario.id);
      }
    });

    it('a second tap, and a tap from a number the offer was not sent to, change nothing', async () => {
      const place = newPlace();
      const provider = await createProvider(t, 'Doble', place);
      const ticket = await createTicket(t, place);
      const offer = await received(t, provider.phone, hasButton('Aceptar'));
      await tap(t, provider.phone, 'Aceptar');
      await ticketWhen(t, ticket.id, 'accepted');
      await tap(t, provider.phone, 'Rechazar', offer.wamid);
      await received(t, provider.phone, saying('Este servicio ya fue asignado'));

      // A stranger who got hold of the payload: a signed webhook as Meta would send it.
      const stranger = newPhone();
      const payload = offer.request.interactive?.action.buttons[1]?.reply.id ?? '';
      const body = JSON.stringify({
        object: 'whatsapp_business_account',
        entry: [
          {
            id: '1',
            changes: [
              {
                field: 'messages',
                value: {
                  messaging_product: 'whatsapp',
                  metadata: { display_phone_number: '15550000000', phone_number_id: t.app.phoneNumberId },
                  contacts: [{ profile: { name: 'Extraño' }, wa_id: stranger }],
                  messages: [
                    {
                      from: stranger,
                      id: `wamid.stranger-${Date.now()}`,
                      timestamp: String(Math.floor(Date.now() / 1000)),
                      type: 'interactive',
                      context: { from: '15550000000', id: offer.wamid },
                      interactive: { type: 'button_reply', button_reply: { id: payload, title: 'Rechazar' } },
                    },
                  ],
                },
              },
            ],
          },
        ],
      });
      const res = await fetch(`${t.url}/api/whatsapp/webhook`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-hub-signature-256': signWebhookBody(body, APP_SECRET),
        },
        body,
      });
      expect(res.status).toBe(200);
      await received(t, stranger, saying('Este servicio ya fue asignado'));
      const ignored = (current: { history: { type: string; detail: { reason?: string } | null }[] }) =>
        current.history.filter((e) => e.type === 'tap_ignored').map((e) => e.detail?.reason);
      const after = await eventually(async () => {
        const current = await getTicket(t, ticket.id);
        return ignored(current).includes('stranger') ? current : undefined;
      });
      expect(after).toMatchObject({ status: 'accepted', provider: { id: provider.id } });
      expect(ignored(after)).toEqual(['already_answered', 'stranger']);
    });

    it('two Tomar taps at once: exactly one takes the ticket', async () => {
      const ticket = await createTicket(t, newPlace());
      expect((await getTicket(t, ticket.id)).status).toBe('unassigned');
      const toCenter = await received(
        t,
        CENTER,
        (m) => hasButton('Tomar')(m) && textOf(m).includes(ticket.number),
      );
      await Promise.all([tap(t, CENTER, 'Tomar', toCenter.wamid), tap(t, CENTER, 'Tomar', toCenter.wamid)]);
      await ticketWhen(t, ticket.id, 'accepted');
      await received(t, CENTER, saying(`El ticket ${ticket.number} ya fue tomado`));
      const taken = await getTicket(t, ticket.id);
      expect(historyOf(taken).filter((type) => type === 'taken_by_center')).toHaveLength(1);
      const answers = sandboxOf(t)
        .messagesFor(CENTER)
        .filter((m) => textOf(m).includes(`Tomaste el ticket ${ticket.number}`));
      expect(answers).toHaveLength(1);
    });

    it('ranks the faster acceptor first among equal matches', async () => {
      const place = newPlace();
      const a = await createProvider(t, 'A', place);
      const b = await createProvider(t, 'B', place);
      // First ticket: whoever is asked declines; the other accepts at once.
      const first = await createTicket(t, place);
      const askedFirst = (await getTicket(t, first.id)).provider.id === a.id ? a : b;
      const other = askedFirst === a ? b : a;
      await received(t, askedFirst.phone, hasButton('Rechazar'));
      await tap(t, askedFirst.phone, 'Rechazar');
      await ticketWhen(t, first.id, 'notified', (tk) => tk.provider?.id === other.id);
      await received(t, other.phone, hasButton('Aceptar'));
      await tap(t, other.phone, 'Aceptar');
      await ticketWhen(t, first.id, 'accepted');
      const rankOf = async (id: string) =>
        (await t.request('GET', `/api/providers/${id}`)).body.data.stats.rankMinutes;
      expect(await rankOf(other.id)).toBeLessThan(await rankOf(askedFirst.id));

      // Next tickets go to the fast acceptor first, though the decliner was assigned less recently.
      for (let i = 0; i < 2; i += 1) {
        const next = await createTicket(t, place);
        expect((await getTicket(t, next.id)).provider.id).toBe(other.id);
      }
    });
  });
});

describe.each(DIALECTS)('with an approved template on %s', (dialect) => {
  const skip = dialect === 'postgres' && !hasPostgres;
  let t: TestApp;
  beforeAll(async () => {
    if (skip) return;
    t = await startTestApp({ dialect, env: { ...ENV, WHATSAPP_TEMPLATE_NEW_TICKET: 'nuevo_ticket' } });
  });
  afterAll(async () => t?.close());

  it.skipIf(skip)("a tap on the template's Aceptar quick reply (button.payload) accepts", async () => {
    const place = newPlace();
    const provider = await createProvider(t, 'Plantilla', place);
    const ticket = await createTicket(t, place);
    const offer = await received(t, provider.phone, (m) => m.type === 'template');
    const payloads = (offer.request.template?.components ?? [])
      .filter((c) => c.type === 'button')
      .map((c) => c.parameters?.[0]?.payload ?? '');
    expect(payloads).toEqual([expect.stringMatching(/^accept:/), expect.stringMatching(/^decline:/)]);
    const res = await t.request('POST', `/api/sandbox/inbox/${provider.phone}/reply`, {
      body: { buttonId: payloads[0] },
    });
    expect(res.status).toBe(201);
    const inbound = await eventually(() =>
      t.app.database.db
        .selectFrom('messages')
        .select(['kind'])
        .where('direction', '=', 'inbound')
        .where('ticket_id', '=', ticket.id)
        .executeTakeFirst(),
    );
    expect(inbound.kind).toBe('template_button');
    await ticketWhen(t, ticket.id, 'accepted', (tk) => tk.provider?.id === provider.id);
  });
});

describe.each(DIALECTS)('deadlines across a restart on %s', (dialect) => {
  const skip = dialect === 'postgres' && !hasPostgres;

  it.skipIf(skip)('an offer made before a restart expires after it, exactly once', async () => {
    const clock = new AdjustableClock();
    const before = await startTestApp({ dialect, clock, env: ENV });
    const place = newPlace();
    const first = await createProvider(before, 'Antes', place);
    const second = await createProvider(before, 'Después', place);
    const ticket = await createTicket(before, place);
    const asked = (await getTicket(before, ticket.id)).provider.id;
    await before.close({ keepData: true });

    clock.advance(31 * MINUTE);
    const after = await startTestApp({ dialect, clock, env: ENV, reuse: before.data });
    try {
      // Its own sweeper (every 100 ms) and this call race for the same expired offer: one wins.
      await after.app.assignmentSweeper.sweep();
      const next = asked === first.id ? second : first;
      const moved = await ticketWhen(after, ticket.id, 'notified', (tk) => tk.provider?.id === next.id);
      expect(historyOf(moved)).toEqual(['created', 'provider_notified', 'expired', 'provider_notified']);
      await received(after, next.phone, hasButton('Aceptar'));
    } finally {
      await after.close();
    }
  });
});

describe.each(DIALECTS)('two processes sweeping one database on %s', (dialect) => {
  const skip = dialect === 'postgres' && !hasPostgres;

  it.skipIf(skip)('expire an overdue offer once and hand the ticket on once', async () => {
    const clock = new AdjustableClock();
    const one = await startTestApp({ dialect, clock, env: ENV });
    const two = await startTestApp({ dialect, clock, env: ENV, reuse: one.data });
    try {
      const place = newPlace();
      for (const name of ['Uno', 'Dos', 'Tres']) await createProvider(one, name, place);
      const tickets = await Promise.all(Array.from({ length: 5 }, () => createTicket(one, place)));
      clock.advance(31 * MINUTE);
      // Both processes (and their own sweepers) race for the same overdue offers.
      await Promise.all([one.app.assignmentSweeper.sweep(), two.app.assignmentSweeper.sweep()]);
      for (const ticket of tickets) {
        const moved = await eventually(async () => {
          const current = await getTicket(one, ticket.id);
          return historyOf(current).includes('expired') && current.status === 'notified'
            ? current
            : undefined;
        });
        expect(historyOf(moved)).toEqual(['created', 'provider_notified', 'expired', 'provider_notified']);
      }
    } finally {
      await two.close({ keepData: true });
      await one.close();
    }
  });
});
