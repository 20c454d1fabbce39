import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { DatabaseSchema, MessagesTable } from '../db/schema.js';
import { BulkInsert } from '../db/bulk-insert.js';
import { BatchQueue } from '../shared/batch-queue.js';
import type { Clock } from '../shared/clock.js';
import { newId } from '../shared/ids.js';
import type { OutgoingMessage } from '../whatsapp/whatsapp-client.js';
import type { MessageError, MessageEventType, MessageStatus, NewMessage } from './message.js';

export type MessageRow = Selectable<MessagesTable>;

/** How a claimed message's attempt ended; applied only while the claim (lease) is still ours. */
export type Completion =
  | {
      id: string;
      owner: string;
      outcome: 'sent';
      wamid: string;
      clearRecipientHold: boolean;
      sentAsTemplate: boolean;
    }
  | {
      id: string;
      owner: string;
      outcome: 'retrying';
      nextAttemptAt: number;
      error: MessageError;
      holdRecipient: { recipient: string; until: number } | null;
      /** The request never left this machine (connection refused, DNS): the attempt is given back. */
      refundAttempt: boolean;
      /**
       * No answer, but the request may have reached Meta (a timeout, a reset mid-request): if Meta accepted
       * it, the retry sends the message twice. Recorded on the timeline (`mayHaveBeenSent`), so such a
       * duplicate can be told from one we caused.
       */
      mayHaveBeenSent: boolean;
    }
  | {
      id: string;
      owner: string;
      outcome: 'failed';
      error: MessageError;
      /** Queued in the same transaction (the template for a message refused outside the window). */
      fallback: { to: string; ticketId: string | null; message: OutgoingMessage } | null;
    };

export interface EnqueueResult {
  row: MessageRow;
  /** False when an Idempotency-Key matched an earlier request. */
  isNew: boolean;
}

export interface OutboxSnapshot {
  /** Outbound messages waiting to be sent (queued or retrying, due or not). */
  depth: number;
  /** The earliest `next_attempt_at` among them (epoch ms), or null when the queue is empty. */
  oldestDueAt: number | null;
}

/** Every column of a new outbox row, in the order of the prepared multi-row INSERT. */
const MESSAGE_COLUMNS = [
  'id',
  'direction',
  'phone_number_id',
  'recipient',
  'kind',
  'payload',
  'status',
  'attempts',
  'wamid',
  'idempotency_key',
  'request_hash',
  'ticket_id',
  'last_error',
  'next_attempt_at',
  'lease_owner',
  'lease_expires_at',
  'created_at',
  'updated_at',
  'fallback_payload',
] as const satisfies readonly (keyof MessageRow)[];
/** Fails to compile when a column of `messages` is missing from MESSAGE_COLUMNS. */
const everyMessageColumn: [Exclude<keyof MessageRow, (typeof MESSAGE_COLUMNS)[number]>] extends [never]
  ? true
  : never = true;
void everyMessageColumn;

export const IDEMPOTENCY_WINDOW_MS = 24 * 60 * 60 * 1000;

const LEASE_EXHAUSTED: MessageError = {
  code: 'attempts_exhausted',
  message: 'every attempt ended without a recorded outcome (the sending process stopped mid-send)',
  whatsappCode: null,
  details: null,
  fbtraceId: null,
};

/**
 * The transactional outbox: the `messages` table is the queue. Writers insert rows (grouped into one
 * transaction when requests arrive together); the dispatcher claims due rows with a lease.
 */
export class Outbox {
  private readonly inserts: BatchQueue<NewMessage, MessageRow>;
  private readonly completions: BatchQueue<Completion, boolean>;
  private readonly messageInsert: BulkInsert<'messages'>;

  constructor(
    private readonly db: Kysely<DatabaseSchema>,
    private readonly dialect: 'sqlite' | 'postgres',
    private readonly phoneNumberId: string,
    private readonly clock: Clock,
  ) {
    this.inserts = new BatchQueue((items) => this.insertBatch(items));
    this.messageInsert = new BulkInsert(db, 'messages', MESSAGE_COLUMNS);
    this.completions = new BatchQueue((items) => this.completeBatch(items), 1000);
  }

  /** Durably queues a message; resolves after the commit. */
  async enqueue(message: NewMessage): Promise<EnqueueResult> {
    if (message.idempotencyKey != null) return this.enqueueIdempotent(message);
    return { row: await this.inserts.push(message), isNew: true };
  }

  /** Queues a message inside the caller's transaction (e.g. with the ticket that causes it). */
  async enqueueInTransaction(trx: Kysely<DatabaseSchema>, message: NewMessage): Promise<MessageRow> {
    const [row] = await this.writeRows(trx, [message]);
    return row as MessageRow;
  }

  private async insertBatch(items: NewMessage[]): Promise<MessageRow[]> {
    return this.db.transaction().execute((trx) => this.writeRows(trx, items));
  }

  private async writeRows(trx: Kysely<DatabaseSchema>, items: NewMessage[]): Promise<MessageRow[]> {
    const now = this.clock.now();
    const rows: MessageRow[] = items.map((item) => ({
      id: newId(),
      direction: 'outbound',
      phone_number_id: this.phoneNumberId,
      recipient: item.to,
      kind: item.message.kind,
      payload: JSON.stringify(item.message),
      status: 'queued',
      attempts: 0,
      wamid: null,
      idempotency_key: item.idempotencyKey ?? null,
      request_hash: item.requestHash ?? null,
      ticket_id: item.ticketId ?? null,
      last_error: null,
      next_attempt_at: now,
      lease_owner: null,
      lease_expires_at: null,
      created_at: now,
      updated_at: now,
      fallback_payload: item.fallback == null ? null : JSON.stringify(item.fallback),
    }));
    // SQLite allows 32,766 bound parameters per statement; 19 columns × 200 rows stays well under.
    for (let start = 0; start < rows.length; start += 200) {
      const chunk = rows.slice(start, start + 200);
      // No `queued` event row: the timeline's first entry is the row's created_at (queuedEvent).
      await this.messageInsert.execute(trx, chunk);
    }
    return rows;
  }

  private async enqueueIdempotent(message: NewMessage): Promise<EnqueueResult> {
    const key = message.idempotencyKey ?? '';
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.db.transaction().execute(async (trx) => {
          const existing = await trx
            .selectFrom('messages')
            .selectAll()
            .where('idempotency_key', '=', key)
            .executeTakeFirst();
          if (existing !== undefined && existing.created_at > this.clock.now() - IDEMPOTENCY_WINDOW_MS) {
            return { row: existing, isNew: false };
          }
          if (existing !== undefined) {
            await trx
              .updateTable('messages')
              .set({ idempotency_key: null })
              .where('id', '=', existing.id)
              .execute();
          }
          const [row] = await this.writeRows(trx, [message]);
          return { row: row as MessageRow, isNew: true };
        });
      } catch (error) {
        // Two requests with one key raced on PostgreSQL: the unique index let one in; read it back.
        if (attempt >= 2) throw error;
      }
    }
  }

  /**
   * Claims up to `limit` due messages for `owner` until `now + leaseMs`. On PostgreSQL, SKIP LOCKED lets
   * several processes claim disjoint rows at once; SQLite has a single writer.
   */
  async claimDue(limit: number, owner: string, leaseMs: number): Promise<MessageRow[]> {
    const now = this.clock.now();
    const lock = this.dialect === 'postgres' ? sql`for update skip locked` : sql``;
    const result = await sql<MessageRow>`
      update messages
         set status = 'sending', attempts = attempts + 1, lease_owner = ${owner},
             lease_expires_at = ${now + leaseMs}, updated_at = ${now}
       where id in (
         select m.id from messages m
          where m.status in ('queued', 'retrying') and m.next_attempt_at <= ${now} and m.direction = 'outbound'
            and not exists (select 1 from recipient_holds h where h.recipient = m.recipient and h.until > ${now})
          order by m.next_attempt_at
          limit ${limit}
          ${lock})
      returning *`.execute(this.db);
    return result.rows;
  }

  /**
   * Extends the leases of the messages `owner` is still working on (`ids`: claimed and not yet recorded) to
   * `now + leaseMs`, so a live process that is slow (a long wait for the cap, a starved CPU, a slow Graph
   * answer) keeps its claims and only a dead process's leases run out. A message whose outcome could not
   * be recorded is no longer among `ids`: its lease runs out and it is sent again (its timeline says so).
   * Returns the new expiry.
   */
  async renewLeases(owner: string, ids: readonly string[], leaseMs: number): Promise<number> {
    const now = this.clock.now();
    const until = now + leaseMs;
    for (let start = 0; start < ids.length; start += 500) {
      await this.db
        .updateTable('messages')
        .set({ lease_expires_at: until })
        .where('id', 'in', ids.slice(start, start + 500))
        .where('status', '=', 'sending')
        .where('lease_owner', '=', owner)
        .execute();
    }
    return until;
  }

  /**
   * Hands back claimed messages this process will not send (their claim is about to run out): due again
   * at once, with the claim's attempt given back. Only rows still claimed by `owner` change.
   */
  async releaseClaims(ids: readonly string[], owner: string): Promise<number> {
    if (ids.length === 0) return 0;
    const now = this.clock.now();
    const result = await this.db
      .updateTable('messages')
      .set({
        status: sql<string>`case when attempts <= 1 then 'queued' else 'retrying' end`,
        attempts: sql<number>`attempts - 1`,
        lease_owner: null,
        lease_expires_at: null,
        updated_at: now,
      })
      .where('id', 'in', [...ids])
      .where('status', '=', 'sending')
      .where('lease_owner', '=', owner)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  /**
   * Returns messages whose claim expired (their process died mid-send) to the queue. Meta may already
   * have accepted them, so the timeline marks them `lease_expired`.
   */
  async reclaimExpiredLeases(maxAttempts: number): Promise<number> {
    const now = this.clock.now();
    return this.db.transaction().execute(async (trx) => {
      const released = { lease_owner: null, lease_expires_at: null, updated_at: now };
      // A message whose claims keep expiring (e.g. it stops every process) ends at the attempt budget.
      const exhausted = await trx
        .updateTable('messages')
        .set({ ...released, status: 'failed', last_error: JSON.stringify(LEASE_EXHAUSTED) })
        .where('status', '=', 'sending')
        .where('lease_expires_at', '<', now)
        .where('attempts', '>=', maxAttempts)
        .returning('id')
        .execute();
      const expired = await trx
        .updateTable('messages')
        .set({ ...released, status: 'retrying', next_attempt_at: now })
        .where('status', '=', 'sending')
        .where('lease_expires_at', '<', now)
        .returning('id')
        .execute();
      const note = { note: 'claim expired; Meta may have accepted it' };
      const events = [
        ...[...exhausted, ...expired].map((row) => event(row.id, 'lease_expired', now, note)),
        ...exhausted.map((row) => event(row.id, 'failed', now, { error: LEASE_EXHAUSTED })),
      ];
      if (events.length > 0) await trx.insertInto('message_events').values(events).execute();
      return exhausted.length + expired.length;
    });
  }

  /** Records an attempt's outcome; false when the claim had expired and another process owns it. */
  complete(completion: Completion): Promise<boolean> {
    return this.completions.push(completion);
  }

  private async completeBatch(items: Completion[]): Promise<boolean[]> {
    const now = this.clock.now();
    return this.db.transaction().execute(async (trx) => {
      // The common case, plain sends, is one statement for the whole batch; the rest go one by one.
      const plainSent = items.filter(
        (item): item is Extract<Completion, { outcome: 'sent' }> =>
          item.outcome === 'sent' && !item.clearRecipientHold,
      );
      const sentApplied = await this.recordSentBatch(trx, plainSent, now);
      const plainIds = new Set(plainSent.map((item) => item.id));
      const applied: boolean[] = [];
      const events: ReturnType<typeof event>[] = [];
      for (const item of items) {
        const isApplied = plainIds.has(item.id)
          ? sentApplied.has(item.id)
          : await this.recordOne(trx, item, now);
        applied.push(isApplied);
        if (!isApplied) continue;
        events.push(event(item.id, item.outcome, now, completionDetail(item)));
        await this.applyRecipientHold(trx, item);
        if (item.outcome === 'failed' && item.fallback !== null) {
          const [fallback] = await this.writeRows(trx, [{ ...item.fallback }]);
          await trx
            .updateTable('messages')
            .set({ fallback_payload: null })
            .where('id', '=', item.id)
            .execute();
          events.push(
            event(item.id, 'fallback_queued', now, {
              reason: 'window closed (131047)',
              fallbackMessageId: fallback?.id,
            }),
          );
        }
      }
      if (events.length > 0) await trx.insertInto('message_events').values(events).execute();
      return applied;
    });
  }

  /** Only the holder of the claim records its outcome (a webhook may already have moved the status on). */
  private async recordOne(trx: Transaction<DatabaseSchema>, item: Completion, now: number): Promise<boolean> {
    const result = await trx
      .updateTable('messages')
      .set(completionColumns(item, now))
      .where('id', '=', item.id)
      .where('lease_owner', '=', item.owner)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  private async recordSentBatch(
    trx: Transaction<DatabaseSchema>,
    items: Extract<Completion, { outcome: 'sent' }>[],
    now: number,
  ): Promise<Set<string>> {
    const applied = new Set<string>();
    for (let start = 0; start < items.length; start += 500) {
      const chunk = items.slice(start, start + 500);
      const wamidById = sql.join(
        chunk.map((item) => sql`when ${item.id} then ${item.wamid}`),
        sql` `,
      );
      const ownerById = sql.join(
        chunk.map((item) => sql`when ${item.id} then ${item.owner}`),
        sql` `,
      );
      const result = await sql<{ id: string }>`
        update messages
           set status = case when status = 'sending' then 'sent' else status end,
               wamid = case id ${wamidById} end,
               lease_owner = null, lease_expires_at = null, updated_at = ${now}
         where id in (${sql.join(chunk.map((item) => item.id))})
           and lease_owner = case id ${ownerById} end
        returning id`.execute(trx);
      for (const row of result.rows) applied.add(row.id);
    }
    return applied;
  }

  private async applyRecipientHold(trx: Transaction<DatabaseSchema>, item: Completion): Promise<void> {
    if (item.outcome === 'retrying' && item.holdRecipient !== null) {
      const { recipient, until } = item.holdRecipient;
      await trx
        .insertInto('recipient_holds')
        .values({ recipient, until, failures: 1 })
        .onConflict((oc) =>
          oc.column('recipient').doUpdateSet({ until, failures: sql`recipient_holds.failures + 1` }),
        )
        .execute();
    }
    if (item.outcome === 'sent' && item.clearRecipientHold) {
      const row = await trx
        .selectFrom('messages')
        .select('recipient')
        .where('id', '=', item.id)
        .executeTakeFirst();
      if (row !== undefined)
        await trx.deleteFrom('recipient_holds').where('recipient', '=', row.recipient).execute();
    }
  }

  /**
   * Queue depth (queued + retrying) and the oldest due time, for `/metrics`. Both read the claim's partial
   * index (`messages_claimable_idx`), so they stay cheap however long the backlog.
   */
  async snapshot(): Promise<OutboxSnapshot> {
    const row = await this.db
      .selectFrom('messages')
      .select((eb) => [
        eb.fn.countAll<number | string>().as('depth'),
        eb.fn.min('next_attempt_at').as('oldest'),
      ])
      .where('status', 'in', ['queued', 'retrying'])
      .where('direction', '=', 'outbound')
      .executeTakeFirst();
    const oldest = row?.oldest ?? null;
    return { depth: Number(row?.depth ?? 0), oldestDueAt: oldest === null ? null : Number(oldest) };
  }

  /** Earlier pair-rate failures for a recipient, for the 4^X backoff. */
  async recipientPairFailures(recipient: string): Promise<number> {
    const hold = await this.db
      .selectFrom('recipient_holds')
      .select('failures')
      .where('recipient', '=', recipient)
      .executeTakeFirst();
    return hold?.failures ?? 0;
  }
}

function completionColumns(item: Completion, now: number) {
  const released = { lease_owner: null, lease_expires_at: null, updated_at: now };
  // A status webhook can overtake the API answer (Meta's evidence wins): move on only from `sending`.
  const statusFromSending = (next: MessageStatus) =>
    sql<string>`case when status = 'sending' then ${next} else status end`;
  switch (item.outcome) {
    case 'sent':
      return { ...released, status: statusFromSending('sent'), wamid: item.wamid };
    case 'retrying':
      return {
        ...released,
        status: statusFromSending('retrying'),
        next_attempt_at: item.nextAttemptAt,
        last_error: JSON.stringify(item.error),
        ...(item.refundAttempt ? { attempts: sql<number>`attempts - 1` } : {}),
      };
    case 'failed':
      return { ...released, status: statusFromSending('failed'), last_error: JSON.stringify(item.error) };
  }
}

function completionDetail(item: Completion): Record<string, unknown> {
  switch (item.outcome) {
    case 'sent':
      return item.sentAsTemplate
        ? { wamid: item.wamid, sentAs: 'template', reason: 'window closed' }
        : { wamid: item.wamid };
    case 'retrying':
      return {
        error: item.error,
        nextAttemptAt: new Date(item.nextAttemptAt).toISOString(),
        ...(item.mayHaveBeenSent ? { mayHaveBeenSent: true } : {}),
      };
    case 'failed':
      return { error: item.error };
  }
}

function event(messageId: string, status: MessageEventType | MessageStatus, at: number, detail: unknown) {
  return {
    id: newId(),
    message_id: messageId,
    status,
    at,
    detail: detail === null ? null : JSON.stringify(detail),
  };
}
