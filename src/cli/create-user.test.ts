import { PassThrough, Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UserStore } from '../auth/user-store.js';
import { verifyPassword } from '../auth/password.js';
import type { Database } from '../db/database.js';
import { openMemoryDatabase } from '../../test/helpers/memory-database.js';
import { systemClock } from '../shared/clock.js';
import { runCreateUser } from './create-user.js';

function capture() {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return { stream, text: () => text };
}

function tty(): Readable & { isTTY: boolean } {
  return Object.assign(Readable.from([]), { isTTY: true });
}

describe('keyhomekey create-user', () => {
  let database: Database;
  beforeEach(async () => {
    database = await openMemoryDatabase();
  });
  afterEach(async () => {
    await database.close();
  });

  const run = (args: { email?: string; role?: string; password?: string; stdin?: Readable }) => {
    const out = capture();
    const err = capture();
    const done = runCreateUser({
      database,
      email: args.email,
      role: args.role,
      password: args.password,
      stdin: args.stdin ?? tty(),
      out: out.stream,
      err: err.stream,
    });
    return { done, out, err };
  };

  it('generates a password and prints it once when none is given', async () => {
    const { done, out } = run({ email: 'ana@example.co' });
    expect(await done).toBe(0);
    const password = /Password: (\S+)/.exec(out.text())?.[1] ?? '';
    expect(out.text()).toContain('Created operator ana@example.co');
    const found = await new UserStore(database.db, systemClock).findByEmail('ana@example.co');
    expect(await verifyPassword(found?.passwordHash ?? '', password)).toBe(true);
  });

  it('reads the password from stdin when piped, and never prints it', async () => {
    const { done, out } = run({
      email: 'jefe@example.co',
      role: 'admin',
      stdin: Readable.from(['clave-desde-stdin\n']),
    });
    expect(await done).toBe(0);
    expect(out.text()).not.toContain('clave-desde-stdin');
    const found = await new UserStore(database.db, systemClock).findByEmail('jefe@example.co');
    expect(found?.user.role).toBe('admin');
    expect(await verifyPassword(found?.passwordHash ?? '', 'clave-desde-stdin')).toBe(true);
  });

  it('refuses a wrong role, a short password and a taken email', async () => {
    expect(await run({ email: 'a@example.co', role: 'root' }).done).toBe(64);
    expect(await run({ email: 'a@example.co', password: 'corta' }).done).toBe(65);
    expect(await run({ email: 'a@example.co', password: 'una-clave-larga' }).done).toBe(0);
    const taken = run({ email: 'A@example.co', password: 'una-clave-larga' });
    expect(await taken.done).toBe(73);
    expect(taken.err.text()).toContain('already exists');
    expect(await run({}).done).toBe(64);
  });
});
