import type { Kysely, Transaction } from 'kysely';
import type { DatabaseSchema } from './schema.js';

/**
 * Runs several reads that make one answer (a row and what hangs from it) against one snapshot, so a change
 * committed between them cannot show up in one part and not another. Repeatable read on PostgreSQL, where
 * read-only transactions never fail to serialize; on SQLite a read transaction is a snapshot already (WAL),
 * and Kysely's SQLite driver ignores the level.
 */
export function readSnapshot<T>(
  db: Kysely<DatabaseSchema>,
  read: (trx: Transaction<DatabaseSchema>) => Promise<T>,
): Promise<T> {
  return db.transaction().setIsolationLevel('repeatable read').execute(read);
}
