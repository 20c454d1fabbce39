import { sql, type Kysely } from 'kysely';
import type { DatabaseSchema } from '../db/schema.js';
import type { Clock } from '../shared/clock.js';

/** Meta's customer service window is 24 h from the user's last message; keep a margin for webhook latency. */
export const WINDOW_MS = 24 * 60 * 60 * 1000;
export const WINDOW_SAFETY_MS = 10 * 60 * 1000;

/** Per-number 24-hour windows, opened by inbound messages. */
export class ConversationWindows {
  constructor(
    private readonly db: Kysely<DatabaseSchema>,
    private readonly clock: Clock,
  ) {}

  async isOpen(phone: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('conversation_windows')
      .select('last_inbound_at')
      .where('phone', '=', phone)
      .executeTakeFirst();
    return row !== undefined && row.last_inbound_at > this.clock.now() - (WINDOW_MS - WINDOW_SAFETY_MS);
  }

  /** Records an inbound message; an older timestamp never closes a newer window. */
  async open(trx: Kysely<DatabaseSchema>, phone: string, at: number): Promise<void> {
    await trx
      .insertInto('conversation_windows')
      .values({ phone, last_inbound_at: at })
      .onConflict((oc) =>
        oc.column('phone').doUpdateSet({
          // Portable "greatest" (SQLite's max() and PostgreSQL's greatest() differ).
          last_inbound_at: sql<number>`case when excluded.last_inbound_at > conversation_windows.last_inbound_at
            then excluded.last_inbound_at else conversation_windows.last_inbound_at end`,
        }),
      )
      .execute();
  }
}
