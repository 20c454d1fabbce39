import { migrateToLatest, openDatabase, type Database } from '../../src/db/database.js';

/** A fresh SQLite database in memory with every migration applied: the schema for a unit test. */
export async function openMemoryDatabase(): Promise<Database> {
  const database = openDatabase({ url: null, sqliteFile: ':memory:' });
  await migrateToLatest(database);
  return database;
}
