import { CompiledQuery, sql, type Kysely } from 'kysely';
import type { DatabaseSchema } from './schema.js';

/**
 * A multi-row INSERT into one table whose SQL text is compiled once per row count and reused: the outbox
 * writes a batch of rows on every group commit, and building Kysely's query tree for n × columns values
 * each time was a measurable part of the notify route's CPU (BENCHMARKS.md, scenario a). The text is
 * Kysely's own (identifier quoting and placeholders of the dialect), so it runs on SQLite and PostgreSQL.
 */
export class BulkInsert<Table extends keyof DatabaseSchema> {
  private readonly texts = new Map<number, string>();

  constructor(
    private readonly db: Kysely<DatabaseSchema>,
    private readonly table: Table,
    /** Every column written, in a fixed order; each row must have a value (or null) for each. */
    private readonly columns: readonly (keyof DatabaseSchema[Table] & string)[],
  ) {}

  async execute(
    executor: Kysely<DatabaseSchema>,
    rows: readonly Partial<Record<keyof DatabaseSchema[Table] & string, unknown>>[],
  ): Promise<void> {
    if (rows.length === 0) return;
    const parameters: unknown[] = [];
    for (const row of rows) for (const column of this.columns) parameters.push(row[column] ?? null);
    await executor.executeQuery(CompiledQuery.raw(this.textFor(rows.length), parameters));
  }

  private textFor(count: number): string {
    let text = this.texts.get(count);
    if (text === undefined) {
      const values = sql.join(
        Array.from({ length: count }, () => sql`(${sql.join(this.columns.map(() => null))})`),
      );
      const columns = sql.join(this.columns.map((column) => sql.ref(column)));
      text = sql`insert into ${sql.table(this.table)} (${columns}) values ${values}`.compile(this.db).sql;
      this.texts.set(count, text);
    }
    return text;
  }
}
