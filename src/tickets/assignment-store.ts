import type { Kysely, Selectable } from 'kysely';
import type { AssignmentsTable, DatabaseSchema } from '../db/schema.js';
import { newId } from '../shared/ids.js';
import type { AssignmentKind, AssignmentStatus } from './assignment.js';
import type { TicketAssignmentView } from './ticket.js';

type Db = Kysely<DatabaseSchema>;
export type AssignmentRow = Selectable<AssignmentsTable>;

/** Terminal states that hand the ticket on to the next candidate. */
export const MOVES_ON: readonly AssignmentStatus[] = ['declined', 'expired', 'failed'];

/**
 * Assignments (offers of a ticket). Every state change is a conditional update from `offered`, so when two
 * taps, a tap and a timer, or two processes race, exactly one of them changes it.
 */
export class AssignmentStore {
  constructor(private readonly db: Db) {}

  async insert(
    trx: Db,
    offer: {
      ticketId: string;
      kind: AssignmentKind;
      providerId: string | null;
      recipient: string;
      replyToken: string;
      offeredAt: number;
      deadlineAt: number | null;
    },
  ): Promise<AssignmentRow> {
    const row: AssignmentRow = {
      id: newId(),
      ticket_id: offer.ticketId,
      kind: offer.kind,
      provider_id: offer.providerId,
      recipient: offer.recipient,
      reply_token: offer.replyToken,
      status: 'offered',
      message_id: null,
      offered_at: offer.offeredAt,
      deadline_at: offer.deadlineAt,
      answered_at: null,
      updated_at: offer.offeredAt,
    };
    await trx.insertInto('assignments').values(row).execute();
    return row;
  }

  async setMessage(trx: Db, id: string, messageId: string): Promise<void> {
    await trx.updateTable('assignments').set({ message_id: messageId }).where('id', '=', id).execute();
  }

  async byToken(token: string): Promise<AssignmentRow | null> {
    return (
      (await this.db
        .selectFrom('assignments')
        .selectAll()
        .where('reply_token', '=', token)
        .executeTakeFirst()) ?? null
    );
  }

  async get(id: string, executor: Db = this.db): Promise<AssignmentRow | null> {
    return (
      (await executor.selectFrom('assignments').selectAll().where('id', '=', id).executeTakeFirst()) ?? null
    );
  }

  /** Moves an `offered` assignment to `status`; false when it had already moved (someone else won). */
  async resolve(trx: Db, id: string, status: AssignmentStatus, at: number): Promise<boolean> {
    const result = await trx
      .updateTable('assignments')
      .set({ status, answered_at: at, updated_at: at })
      .where('id', '=', id)
      .where('status', '=', 'offered')
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  /** Provider ids this ticket was offered to, whatever they answered (never offered twice). */
  async providersTried(ticketId: string, executor: Db = this.db): Promise<string[]> {
    const rows = await executor
      .selectFrom('assignments')
      .select('provider_id')
      .where('ticket_id', '=', ticketId)
      .where('kind', '=', 'provider')
      .execute();
    return [...new Set(rows.flatMap((row) => (row.provider_id === null ? [] : [row.provider_id])))];
  }

  /** Offers whose deadline has passed without an answer, oldest first. */
  async overdue(now: number, limit: number): Promise<AssignmentRow[]> {
    return this.db
      .selectFrom('assignments')
      .selectAll()
      .where('status', '=', 'offered')
      .where('deadline_at', '<=', now)
      .orderBy('deadline_at')
      .limit(limit)
      .execute();
  }

  /**
   * Tickets still pointing at an offer that was declined, expired or failed: normally handed on at once,
   * these are left only by a process that stopped in between, and the sweeper hands them on.
   */
  async stalled(limit: number): Promise<AssignmentRow[]> {
    return this.db
      .selectFrom('assignments')
      .innerJoin('tickets', 'tickets.current_assignment_id', 'assignments.id')
      .selectAll('assignments')
      .where('assignments.status', 'in', [...MOVES_ON])
      .where('tickets.status', '=', 'notified')
      .limit(limit)
      .execute();
  }

  /** The provider offer (still open) that a failed message to `recipient` about `ticketId` carried. */
  async openOfferTo(ticketId: string, recipient: string): Promise<AssignmentRow | null> {
    return (
      (await this.db
        .selectFrom('assignments')
        .selectAll()
        .where('ticket_id', '=', ticketId)
        .where('recipient', '=', recipient)
        .where('status', '=', 'offered')
        .executeTakeFirst()) ?? null
    );
  }

  static toView(row: AssignmentRow): TicketAssignmentView {
    const iso = (ms: number | null): string | null =>
      ms === null ? null : new Date(Number(ms)).toISOString();
    return {
      id: row.id,
      kind: row.kind === 'center' ? 'center' : 'provider',
      status: row.status,
      providerId: row.provider_id,
      offeredAt: new Date(Number(row.offered_at)).toISOString(),
      deadlineAt: iso(row.deadline_at),
      answeredAt: iso(row.answered_at),
    };
  }
}
