import type { Kysely } from 'kysely';

/**
 * The accept/decline loop: each offer of a ticket (to a provider, or to the center) is an assignment with
 * its own unguessable reply token and deadline; the ticket points at the one in force. Providers keep
 * the counters that rank candidates of equal match (src/tickets/provider-ranking.ts).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('assignments')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('ticket_id', 'text', (col) => col.notNull().references('tickets.id').onDelete('cascade'))
    .addColumn('kind', 'text', (col) => col.notNull())
    .addColumn('provider_id', 'text', (col) => col.references('providers.id').onDelete('set null'))
    .addColumn('recipient', 'text', (col) => col.notNull())
    .addColumn('reply_token', 'text', (col) => col.notNull().unique())
    .addColumn('status', 'text', (col) => col.notNull())
    .addColumn('message_id', 'text')
    .addColumn('offered_at', 'bigint', (col) => col.notNull())
    .addColumn('deadline_at', 'bigint')
    .addColumn('answered_at', 'bigint')
    .addColumn('updated_at', 'bigint', (col) => col.notNull())
    .execute();
  await db.schema.createIndex('assignments_ticket_idx').on('assignments').column('ticket_id').execute();
  await db.schema
    .createIndex('assignments_due_idx')
    .on('assignments')
    .columns(['status', 'deadline_at'])
    .execute();

  await db.schema.alterTable('tickets').addColumn('current_assignment_id', 'text').execute();

  for (const column of ['offers_accepted', 'offers_declined', 'offers_expired']) {
    await db.schema
      .alterTable('providers')
      .addColumn(column, 'integer', (col) => col.notNull().defaultTo(0))
      .execute();
  }
  await db.schema
    .alterTable('providers')
    .addColumn('answer_cost_ms', 'bigint', (col) => col.notNull().defaultTo(0))
    .execute();
  await db.schema.alterTable('providers').addColumn('rank_minutes', 'integer').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const column of [
    'rank_minutes',
    'answer_cost_ms',
    'offers_expired',
    'offers_declined',
    'offers_accepted',
  ]) {
    await db.schema.alterTable('providers').dropColumn(column).execute();
  }
  await db.schema.alterTable('tickets').dropColumn('current_assignment_id').execute();
  await db.schema.dropTable('assignments').execute();
}
