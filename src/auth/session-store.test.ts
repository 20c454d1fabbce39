import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../db/database.js';
import { openMemoryDatabase } from '../../test/helpers/memory-database.js';
import { ensureFirstAdmin } from './ensure-first-admin.js';
import { verifyPassword } from './password.js';
import { SessionStore } from './session-store.js';
import { UserStore } from './user-store.js';

const HOUR = 3_600_000;

describe('users and sessions', () => {
  let database: Database;
  let now: number;
  const clock = { now: () => now };

  beforeEach(async () => {
    now = Date.UTC(2026, 10, 30, 12);
    database = await openMemoryDatabase();
  });
  afterEach(async () => {
    await database.close();
  });

  it('stores an argon2id hash, never the password, and compares emails without regard to case', async () => {
    const users = new UserStore(database.db, clock);
    const created = await users.create({
      email: ' Ana@Example.CO ',
      password: 'una-clave-larga',
      role: 'operator',
    });
    expect(created).toMatchObject({
      ok: true,
      user: { email: 'ana@example.co', role: 'operator', active: true },
    });
    const found = await users.findByEmail('ANA@example.co');
    expect(found?.passwordHash).toMatch(/^\$argon2id\$/);
    expect(found?.passwordHash).not.toContain('una-clave-larga');
    expect(await verifyPassword(found?.passwordHash ?? '', 'una-clave-larga')).toBe(true);
    expect(await verifyPassword(found?.passwordHash ?? '', 'otra-clave')).toBe(false);
    expect(
      await users.create({ email: 'ana@example.co', password: 'otra-clave-larga', role: 'admin' }),
    ).toEqual({
      ok: false,
      reason: 'email_taken',
    });
    expect(await users.create({ email: 'no-es-correo', password: 'una-clave-larga', role: 'admin' })).toEqual(
      {
        ok: false,
        reason: 'invalid_email',
      },
    );
    expect(await users.create({ email: 'b@example.co', password: 'corta', role: 'admin' })).toEqual({
      ok: false,
      reason: 'weak_password',
    });
  });

  it('creates the first admin only on an empty database, with a generated password when none is given', async () => {
    const users = new UserStore(database.db, clock);
    const first = await ensureFirstAdmin(users, { email: 'admin@keyhomekey.local', password: null });
    expect(first.created).toBe(true);
    const password = first.created ? first.generatedPassword : null;
    expect(password?.length).toBeGreaterThanOrEqual(20);
    const found = await users.findByEmail('admin@keyhomekey.local');
    expect(found?.user.role).toBe('admin');
    expect(await verifyPassword(found?.passwordHash ?? '', password ?? '')).toBe(true);
    expect(
      await ensureFirstAdmin(users, { email: 'other@keyhomekey.local', password: 'x'.repeat(12) }),
    ).toEqual({
      created: false,
    });
  });

  it('resolves a session by its id, stores only its hash, slides its expiry and forgets it at logout', async () => {
    const users = new UserStore(database.db, clock);
    const created = await users.create({
      email: 'op@example.co',
      password: 'una-clave-larga',
      role: 'operator',
    });
    if (!created.ok) throw new Error('user not created');
    const sessions = new SessionStore(database.db, clock, 12 * HOUR);
    const { id, expiresAt } = await sessions.create(created.user.id);
    expect(expiresAt).toBe(now + 12 * HOUR);
    const stored = await database.db.selectFrom('sessions').selectAll().execute();
    expect(stored).toHaveLength(1);
    expect(stored[0]?.id_hash).not.toBe(id);

    now += 2 * HOUR;
    expect(await sessions.resolve(id)).toMatchObject({ user: { email: 'op@example.co' }, extended: false });
    now += 5 * HOUR; // less than half the TTL left: extended to a full TTL from now
    expect(await sessions.resolve(id)).toMatchObject({ extended: true, expiresAt: now + 12 * HOUR });
    now += 11 * HOUR;
    expect(await sessions.resolve(id)).not.toBeNull();
    now += 13 * HOUR;
    expect(await sessions.resolve(id)).toBeNull();

    const again = await sessions.create(created.user.id);
    await sessions.destroy(again.id);
    expect(await sessions.resolve(again.id)).toBeNull();
    expect(await sessions.resolve('not-a-session')).toBeNull();
  });
});
