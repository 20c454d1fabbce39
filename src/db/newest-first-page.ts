import { sql, type SelectQueryBuilder } from 'kysely';

/** A page of rows newest first, with an opaque cursor for the next page (keyset paging on created_at, id). */
export interface Page<T> {
  rows: T[];
  nextCursor: string | null;
}

/** Runs `query` (one table with `created_at` and `id`) newest first, after `cursor`, one page long. */
export async function newestFirstPage<DB, TB extends keyof DB, O extends { created_at: number; id: string }>(
  query: SelectQueryBuilder<DB, TB, O>,
  limit: number,
  cursor: string | undefined,
): Promise<Page<O>> {
  const after = cursor === undefined ? null : decodePageCursor(cursor);
  const filtered =
    after === null
      ? query
      : query.where(
          sql<boolean>`(created_at < ${after.createdAt} or (created_at = ${after.createdAt} and id < ${after.id}))`,
        );
  const rows = await filtered
    .orderBy(sql`created_at desc`)
    .orderBy(sql`id desc`)
    .limit(limit + 1)
    .execute();
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    rows: page,
    nextCursor: rows.length > limit && last !== undefined ? encodePageCursor(last.created_at, last.id) : null,
  };
}

export function encodePageCursor(createdAt: number, id: string): string {
  return Buffer.from(`${createdAt}:${id}`).toString('base64url');
}

/** Returns null for a cursor we did not make. */
export function decodePageCursor(cursor: string): { createdAt: number; id: string } | null {
  const match = /^(\d{1,16}):([0-9a-f-]{36})$/.exec(Buffer.from(cursor, 'base64url').toString());
  return match === null ? null : { createdAt: Number(match[1]), id: match[2] ?? '' };
}
