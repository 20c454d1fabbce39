import { createHash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { DatabaseSchema } from '../db/schema.js';
import type { Clock } from '../shared/clock.js';
import type { User } from './user.js';
import { toUser } from './user-store.js';

/**
 * Sessions: a random 32-byte id goes to the browser (in a cookie); only its sha256 is stored, so a copy
 * of the database cannot be replayed as a login. Expiry slides: a session used after half its life is
 * extended to a full TTL again.
 */
export class SessionStore {
  constructor(
    private readonly db: Kysely<DatabaseSchema>,
    private readonly clock: Clock,
    private readonly ttlMs: number,
  ) {}

  /** Starts a session; returns the id to put in the cookie (never log it). */
  async create(userId: string): Promise<{ id: string; expiresAt: number }> {
    const id = randomBytes(32).toString('base64url');
    const now = this.clock.now();
    const expiresAt = now + this.ttlMs;
    await this.db
      .insertInto('sessions')
      .values({ id_hash: hashSessionId(id), user_id: userId, created_at: now, expires_at: expiresAt })
      .execute();
    // Expired sessions of anyone are dropped now and then, here rather than on a timer.
    await this.db.deleteFrom('sessions').where('expires_at', '<', now).execute();
    return { id, expiresAt };
  }

  /** The active user of a live session, or null (unknown, expired, or user disabled). */
  async resolve(id: string): Promise<{ user: User; expiresAt: number; extended: boolean } | null> {
    if (id === '' || id.length > 128) return null;
    const idHash = hashSessionId(id);
    const row = await this.db
      .selectFrom('sessions')
      .innerJoin('users', 'users.id', 'sessions.user_id')
      .selectAll('users')
      .select(['sessions.expires_at as session_expires_at'])
      .where('sessions.id_hash', '=', idHash)
      .executeTakeFirst();
    const now = this.clock.now();
    if (row === undefined || Number(row.session_expires_at) <= now || Number(row.active) !== 1) return null;
    let expiresAt = Number(row.session_expires_at);
    const extended = expiresAt - now < this.ttlMs / 2;
    if (extended) {
      expiresAt = now + this.ttlMs;
      await this.db
        .updateTable('sessions')
        .set({ expires_at: expiresAt })
        .where('id_hash', '=', idHash)
        .execute();
    }
    return { user: toUser(row), expiresAt, extended };
  }

  async destroy(id: string): Promise<void> {
    await this.db.deleteFrom('sessions').where('id_hash', '=', hashSessionId(id)).execute();
  }
}

function hashSessionId(id: string): string {
  return createHash('sha256').update(id).digest('hex');
}
