import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { DatabaseSchema } from '../db/schema.js';
import type { Clock } from '../shared/clock.js';
import { newId } from '../shared/ids.js';
import { maskPhoneNumber } from '../whatsapp/phone-number.js';
import type { InboundEvent } from '../whatsapp/webhook-events.js';
import type { ConversationWindows } from './conversation-window.js';

type Db = Kysely<DatabaseSchema>;

/** What the tickets feature does with a reply (e.g. an Aceptar/Rechazar tap): a callback from app.ts. */
export type InboundHook = (inbound: {
  id: string;
  event: InboundEvent;
  ticketId: string | null;
}) => Promise<void>;

export interface InboundDeps {
  db: Db;
  windows: ConversationWindows;
  clock: Clock;
  logger: Logger;
  onInbound?: InboundHook;
}

/**
 * Stores a message a number sent us (once per wamid), links it to the ticket of the business message it
 * answers (its `context`) or else to that number's latest ticket, and opens the number's 24-hour window.
 */
export async function recordInbound(
  deps: InboundDeps,
  event: InboundEvent,
): Promise<'recorded' | 'duplicate'> {
  const result = await deps.db.transaction().execute(async (trx) => {
    const existing = await trx
      .selectFrom('messages')
      .select('id')
      .where('wamid', '=', event.wamid)
      .where('direction', '=', 'inbound')
      .executeTakeFirst();
    if (existing !== undefined) return null;
    const ticketId = await linkedTicket(trx, event);
    const provider = await trx
      .selectFrom('providers')
      .select('id')
      .where('phone', '=', event.from)
      .executeTakeFirst();
    const now = deps.clock.now();
    const id = newId();
    await trx
      .insertInto('messages')
      .values({
        id,
        direction: 'inbound',
        phone_number_id: event.phoneNumberId ?? '',
        recipient: event.from,
        kind: event.content.kind,
        payload: JSON.stringify({
          content: event.content,
          profileName: event.profileName,
          contextWamid: event.contextWamid,
          providerId: provider?.id ?? null,
          at: new Date(event.timestamp).toISOString(),
        }),
        status: 'received',
        attempts: 0,
        wamid: event.wamid,
        idempotency_key: null,
        request_hash: null,
        ticket_id: ticketId,
        last_error: null,
        next_attempt_at: now,
        lease_owner: null,
        lease_expires_at: null,
        created_at: now,
        updated_at: now,
        fallback_payload: null,
      })
      .execute();
    await trx
      .insertInto('message_events')
      .values({ id: newId(), message_id: id, status: 'received', at: event.timestamp, detail: null })
      .execute();
    await deps.windows.open(trx, event.from, event.timestamp);
    return { id, ticketId };
  });
  if (result === null) return 'duplicate';
  deps.logger.info(
    {
      event: 'whatsapp.inbound',
      messageId: result.id,
      from: maskPhoneNumber(event.from),
      kind: event.content.kind,
      ticketId: result.ticketId,
    },
    'message received',
  );
  if (deps.onInbound !== undefined) {
    try {
      await deps.onInbound({ id: result.id, event, ticketId: result.ticketId });
    } catch (error) {
      deps.logger.error(
        { event: 'webhook.inbound_hook_failed', messageId: result.id, err: error },
        'inbound hook failed',
      );
    }
  }
  return 'recorded';
}

async function linkedTicket(trx: Db, event: InboundEvent): Promise<string | null> {
  if (event.contextWamid !== null) {
    const answered = await trx
      .selectFrom('messages')
      .select('ticket_id')
      .where('wamid', '=', event.contextWamid)
      .executeTakeFirst();
    if (answered?.ticket_id != null) return answered.ticket_id;
  }
  const latest = await trx
    .selectFrom('messages')
    .select('ticket_id')
    .where('recipient', '=', event.from)
    .where('direction', '=', 'outbound')
    .where('ticket_id', 'is not', null)
    .orderBy('created_at', 'desc')
    .limit(1)
    .executeTakeFirst();
  return latest?.ticket_id ?? null;
}
