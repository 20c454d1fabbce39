import type { Kysely } from 'kysely';
import { newestFirstPage } from '../db/newest-first-page.js';
import { readSnapshot } from '../db/read-snapshot.js';
import type { DatabaseSchema } from '../db/schema.js';
import type { OutgoingMessageKind } from '../whatsapp/whatsapp-client.js';
import {
  queuedEvent,
  type MessageError,
  type MessageEvent,
  type MessageEventType,
  type MessageStatus,
  type MessageView,
} from './message.js';
import type { MessageRow } from './outbox.js';

export interface MessageFilter {
  direction?: 'outbound' | 'inbound';
  status?: MessageStatus;
  to?: string;
  ticketId?: string;
  limit: number;
  /** Opaque cursor from a previous page. */
  cursor?: string;
}

export interface MessagePage {
  items: MessageView[];
  nextCursor: string | null;
}

/** Read side of the messages table: single messages with their timeline, and pages. */
export class MessageStore {
  constructor(private readonly db: Kysely<DatabaseSchema>) {}

  /**
   * One message with its timeline, both read from one snapshot. Read apart, a status change committed
   * between the two reads (a webhook: `failed` and its `fallback_queued`, in one transaction) showed the
   * new events beside the old status.
   */
  async get(id: string): Promise<MessageView | null> {
    return readSnapshot(this.db, async (trx) => {
      const row = await trx.selectFrom('messages').selectAll().where('id', '=', id).executeTakeFirst();
      if (row === undefined) return null;
      const events = await trx
        .selectFrom('message_events')
        .select(['status', 'at', 'detail'])
        .where('message_id', '=', id)
        // The order we learned of events (UUIDv7 ids); `at` is each event's own time (Meta's, to the second).
        .orderBy('id')
        .execute();
      return { ...toMessageView(row), events: messageTimeline(row, events) };
    });
  }

  /** Newest first; the cursor is the last item's (created_at, id). */
  async list(filter: MessageFilter): Promise<MessagePage> {
    let query = this.db
      .selectFrom('messages')
      .selectAll()
      .where('direction', '=', filter.direction ?? 'outbound');
    if (filter.status !== undefined) query = query.where('status', '=', filter.status);
    if (filter.to !== undefined) query = query.where('recipient', '=', filter.to);
    if (filter.ticketId !== undefined) query = query.where('ticket_id', '=', filter.ticketId);
    const { rows, nextCursor } = await newestFirstPage(query, filter.limit, filter.cursor);
    return { items: rows.map(toMessageView), nextCursor };
  }

  async status(id: string): Promise<MessageStatus | null> {
    const row = await this.db.selectFrom('messages').select('status').where('id', '=', id).executeTakeFirst();
    return row === undefined ? null : (row.status as MessageStatus);
  }
}

/**
 * A message's timeline from its stored event rows (in the order we learned of them): an outbound one
 * starts with `queued` at its creation, which is not stored (queuedEvent).
 */
export function messageTimeline(
  message: Pick<MessageRow, 'direction' | 'created_at'>,
  events: readonly { status: string; at: number; detail: string | null }[],
): MessageEvent[] {
  const stored = events.map(
    (e): MessageEvent => ({
      status: e.status as MessageEventType,
      at: new Date(e.at).toISOString(),
      detail: e.detail === null ? null : (JSON.parse(e.detail) as Record<string, unknown>),
    }),
  );
  return message.direction === 'outbound' ? [queuedEvent(message.created_at), ...stored] : stored;
}

export function toMessageView(row: MessageRow): MessageView {
  const isWaiting = row.status === 'queued' || row.status === 'retrying';
  const inbound = row.direction === 'inbound' ? (JSON.parse(row.payload) as Record<string, unknown>) : null;
  return {
    id: row.id,
    direction: row.direction,
    to: row.recipient,
    kind: row.kind as OutgoingMessageKind,
    status: row.status as MessageStatus,
    messageId: row.wamid,
    attempts: row.attempts,
    ticketId: row.ticket_id,
    lastError: row.last_error === null ? null : (JSON.parse(row.last_error) as MessageError),
    nextAttemptAt: isWaiting ? new Date(row.next_attempt_at).toISOString() : null,
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
    ...(inbound === null ? {} : { content: inbound }),
  };
}
