import type { Kysely, Selectable } from 'kysely';
import type { DatabaseSchema, UsersTable } from '../db/schema.js';
import type { Clock } from '../shared/clock.js';
import { newId } from '../shared/ids.js';
import { hashPassword, MIN_PASSWORD_LENGTH } from './password.js';
import { isPlausibleEmail, normalizeEmail, type User, type UserRole } from './user.js';

export type CreateUserResult =
  | { ok: true; user: User }
  | { ok: false; reason: 'email_taken' | 'invalid_email' | 'weak_password' };

/** Users of the web app. Passwords are stored only as argon2id hashes. */
export class UserStore {
  constructor(
    private readonly db: Kysely<DatabaseSchema>,
    private readonly clock: Clock,
  ) {}

  async count(): Promise<number> {
    const row = await this.db
      .selectFrom('users')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  async create(input: { email: string; password: string; role: UserRole }): Promise<CreateUserResult> {
    const email = normalizeEmail(input.email);
    if (!isPlausibleEmail(email)) return { ok: false, reason: 'invalid_email' };
    if (input.password.length < MIN_PASSWORD_LENGTH) return { ok: false, reason: 'weak_password' };
    if ((await this.findByEmail(email)) !== null) return { ok: false, reason: 'email_taken' };
    const now = this.clock.now();
    const row = {
      id: newId(),
      email,
      password_hash: await hashPassword(input.password),
      role: input.role,
      active: 1,
      created_at: now,
      updated_at: now,
    };
    try {
      await this.db.insertInto('users').values(row).execute();
    } catch (error) {
      // Two creations of the same email at once: the unique index decides.
      if ((await this.findByEmail(email)) !== null) return { ok: false, reason: 'email_taken' };
      throw error;
    }
    return { ok: true, user: toUser(row) };
  }

  /** The user and their password hash, for a login. */
  async findByEmail(email: string): Promise<{ user: User; passwordHash: string } | null> {
    const row = await this.db
      .selectFrom('users')
      .selectAll()
      .where('email', '=', normalizeEmail(email))
      .executeTakeFirst();
    return row === undefined ? null : { user: toUser(row), passwordHash: row.password_hash };
  }

  async get(id: string): Promise<User | null> {
    const row = await this.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
    return row === undefined ? null : toUser(row);
  }

  async list(): Promise<User[]> {
    const rows = await this.db.selectFrom('users').selectAll().orderBy('email').execute();
    return rows.map(toUser);
  }
}

export function toUser(row: Selectable<UsersTable>): User {
  return {
    id: row.id,
    email: row.email,
    role: row.role,
    active: Number(row.active) === 1,
    createdAt: new Date(Number(row.created_at)).toISOString(),
  };
}
