import { sql, type Kysely, type Selectable } from 'kysely';
import { newestFirstPage } from '../db/newest-first-page.js';
import { readSnapshot } from '../db/read-snapshot.js';
import type { DatabaseSchema, TicketMediaTable, TicketsTable } from '../db/schema.js';
import type { Clock } from '../shared/clock.js';
import { newId } from '../shared/ids.js';
import { messageTimeline } from '../messages/message-store.js';
import { AssignmentStore } from './assignment-store.js';
import {
  formatTicketNumber,
  type MatchSource,
  type TicketEventView,
  type TicketMediaView,
  type TicketNotificationView,
  type TicketProviderView,
  type TicketStatus,
  type TicketView,
} from './ticket.js';

export type TicketRow = Selectable<TicketsTable>;

/** Ticket numbers follow the calendar year in Colombia, not in UTC. */
const BOGOTA_YEAR = new Intl.DateTimeFormat('en', { timeZone: 'America/Bogota', year: 'numeric' });
export type TicketMediaRow = Selectable<TicketMediaTable>;
type Db = Kysely<DatabaseSchema>;

export interface TicketFilter {
  status?: TicketStatus;
  providerId?: string;
  locationKey?: string;
  limit: number;
  cursor?: string;
}

/** Tickets, their media records and history. Writes take the caller's transaction. */
export class TicketStore {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    /** Builds the download URL of a media file. */
    private readonly mediaUrl: (ticketId: string, mediaId: string) => string,
  ) {}

  /** Allocates the next `T-YYYY-NNNNN`; the counter row serializes concurrent creations. */
  async nextNumber(trx: Db): Promise<string> {
    const year = Number(BOGOTA_YEAR.format(new Date(this.clock.now())));
    const result = await sql<{ value: number }>`
      insert into ticket_counters (year, value) values (${year}, 1)
      on conflict (year) do update set value = ticket_counters.value + 1
      returning value`.execute(trx);
    return formatTicketNumber(year, Number(result.rows[0]?.value ?? 1));
  }

  async insert(trx: Db, row: TicketRow): Promise<void> {
    await trx.insertInto('tickets').values(row).execute();
  }

  async insertMedia(trx: Db, rows: TicketMediaRow[]): Promise<void> {
    if (rows.length > 0) await trx.insertInto('ticket_media').values(rows).execute();
  }

  async addEvent(
    trx: Db,
    ticketId: string,
    type: string,
    detail: Record<string, unknown> | null,
  ): Promise<void> {
    await trx
      .insertInto('ticket_events')
      .values({
        id: newId(),
        ticket_id: ticketId,
        type,
        at: this.clock.now(),
        detail: detail === null ? null : JSON.stringify(detail),
      })
      .execute();
  }

  /** Points the ticket at its new offer (or none) and who has it. */
  async assign(
    trx: Db,
    ticketId: string,
    change: {
      providerId: string | null;
      status: TicketStatus;
      matchSource: MatchSource;
      assignmentId: string | null;
    },
  ): Promise<void> {
    await trx
      .updateTable('tickets')
      .set({
        provider_id: change.providerId,
        status: change.status,
        match_source: change.matchSource,
        current_assignment_id: change.assignmentId,
        updated_at: this.clock.now(),
      })
      .where('id', '=', ticketId)
      .execute();
  }

  async setStatus(trx: Db, ticketId: string, status: TicketStatus): Promise<void> {
    await trx
      .updateTable('tickets')
      .set({ status, updated_at: this.clock.now() })
      .where('id', '=', ticketId)
      .execute();
  }

  /**
   * Compare-and-set on the offer in force: true for the one caller that may hand the ticket on from
   * `fromAssignmentId` (null: a ticket with no offer); false when someone else already did.
   */
  async claimHandOn(trx: Db, ticketId: string, fromAssignmentId: string | null): Promise<boolean> {
    const result = await trx
      .updateTable('tickets')
      .set({ updated_at: this.clock.now() })
      .where('id', '=', ticketId)
      .where('current_assignment_id', fromAssignmentId === null ? 'is' : '=', fromAssignmentId)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async mediaOf(ticketId: string, executor: Db = this.db): Promise<TicketMediaRow[]> {
    return executor
      .selectFrom('ticket_media')
      .selectAll()
      .where('ticket_id', '=', ticketId)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
  }

  async getRow(id: string, executor: Db = this.db): Promise<TicketRow | null> {
    return (await executor.selectFrom('tickets').selectAll().where('id', '=', id).executeTakeFirst()) ?? null;
  }

  async getMedia(ticketId: string, mediaId: string): Promise<TicketMediaRow | null> {
    const row = await this.db
      .selectFrom('ticket_media')
      .selectAll()
      .where('ticket_id', '=', ticketId)
      .where('id', '=', mediaId)
      .executeTakeFirst();
    return row ?? null;
  }

  /**
   * The whole ticket: provider, media, notifications with their timelines, history, all read from one
   * snapshot. Read apart, on several pooled connections, a change committed meanwhile (an accept: status,
   * history and assignment in one transaction) could show in some parts and not others.
   */
  async get(id: string): Promise<TicketView | null> {
    return readSnapshot(this.db, (trx) => this.readView(trx, id));
  }

  private async readView(trx: Db, id: string): Promise<TicketView | null> {
    const row = await this.getRow(id, trx);
    if (row === null) return null;
    const [providers, media, notifications, history, assignment] = await Promise.all([
      this.providersById(row.provider_id === null ? [] : [row.provider_id], trx),
      this.mediaOf(id, trx),
      this.notifications(id, trx),
      trx
        .selectFrom('ticket_events')
        .selectAll()
        .where('ticket_id', '=', id)
        .orderBy('at')
        .orderBy('id')
        .execute(),
      row.current_assignment_id === null
        ? null
        : trx
            .selectFrom('assignments')
            .selectAll()
            .where('id', '=', row.current_assignment_id)
            .executeTakeFirst(),
    ]);
    return {
      ...this.toView(row, providers),
      media: media.map((m): TicketMediaView => this.toMediaView(m)),
      notifications,
      assignment: assignment == null ? null : AssignmentStore.toView(assignment),
      history: history.map(
        (e): TicketEventView => ({
          type: e.type,
          at: new Date(e.at).toISOString(),
          detail: e.detail === null ? null : (JSON.parse(e.detail) as Record<string, unknown>),
        }),
      ),
    };
  }

  async list(filter: TicketFilter): Promise<{ items: TicketView[]; nextCursor: string | null }> {
    let query = this.db.selectFrom('tickets').selectAll();
    if (filter.status !== undefined) query = query.where('status', '=', filter.status);
    if (filter.providerId !== undefined) query = query.where('provider_id', '=', filter.providerId);
    if (filter.locationKey !== undefined) query = query.where('location_key', '=', filter.locationKey);
    const { rows: page, nextCursor } = await newestFirstPage(query, filter.limit, filter.cursor);
    const providers = await this.providersById(
      page.flatMap((r) => (r.provider_id === null ? [] : [r.provider_id])),
    );
    return { items: page.map((r) => this.toView(r, providers)), nextCursor };
  }

  private async notifications(ticketId: string, executor: Db): Promise<TicketNotificationView[]> {
    // Only what we sent: the provider's replies are linked to the ticket too, but are not notifications.
    const messages = await executor
      .selectFrom('messages')
      .selectAll()
      .where('ticket_id', '=', ticketId)
      .where('direction', '=', 'outbound')
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    if (messages.length === 0) return [];
    const events = await executor
      .selectFrom('message_events')
      .selectAll()
      .where(
        'message_id',
        'in',
        messages.map((m) => m.id),
      )
      // The order we learned of events (UUIDv7 ids); `at` is each event's own time.
      .orderBy('id')
      .execute();
    return messages.map((m) => {
      const lastError =
        m.last_error === null
          ? null
          : (JSON.parse(m.last_error) as { code: string; message: string; whatsappCode: number | null });
      return {
        id: m.id,
        to: m.recipient,
        status: m.status,
        messageId: m.wamid,
        attempts: m.attempts,
        lastError:
          lastError === null
            ? null
            : { code: lastError.code, message: lastError.message, whatsappCode: lastError.whatsappCode },
        createdAt: new Date(m.created_at).toISOString(),
        events: messageTimeline(
          m,
          events.filter((e) => e.message_id === m.id),
        ),
      };
    });
  }

  private async providersById(
    ids: string[],
    executor: Db = this.db,
  ): Promise<Map<string, TicketProviderView>> {
    if (ids.length === 0) return new Map();
    const rows = await executor
      .selectFrom('providers')
      .selectAll()
      .where('id', 'in', [...new Set(ids)])
      .execute();
    return new Map(
      rows.map((p) => [
        p.id,
        {
          id: p.id,
          name: p.name,
          phone: p.phone,
          location: p.location,
          specialties: JSON.parse(p.specialties) as string[],
        },
      ]),
    );
  }

  private toView(row: TicketRow, providers: Map<string, TicketProviderView>): TicketView {
    return {
      id: row.id,
      number: row.number,
      title: row.title,
      description: row.description,
      location: row.location,
      specialty: row.specialty,
      address: row.address,
      reporter: { name: row.reporter_name, phone: row.reporter_phone },
      status: row.status as TicketStatus,
      matchSource: row.match_source as MatchSource,
      provider: row.provider_id === null ? null : (providers.get(row.provider_id) ?? null),
      createdAt: new Date(row.created_at).toISOString(),
      updatedAt: new Date(row.updated_at).toISOString(),
    };
  }

  private toMediaView(row: TicketMediaRow): TicketMediaView {
    return {
      id: row.id,
      filename: row.filename,
      contentType: row.content_type,
      size: Number(row.size),
      url: this.mediaUrl(row.ticket_id, row.id),
    };
  }
}
