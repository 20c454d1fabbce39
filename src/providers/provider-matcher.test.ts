import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../db/database.js';
import { openMemoryDatabase } from '../../test/helpers/memory-database.js';
import { AppError } from '../shared/error-codes.js';
import { createLogger } from '../shared/logger.js';
import type { DirectoryEntry } from './provider-directory.js';
import { createProviderMatcher, type ProviderMatcher } from './provider-matcher.js';
import { ProviderStore } from './provider-store.js';

describe('createProviderMatcher (findMatch before the transaction, adopt inside it)', () => {
  let database: Database;
  let store: ProviderStore;
  let matcher: ProviderMatcher;
  let directoryAnswer: DirectoryEntry[];
  let events: Record<string, unknown>[];
  let now: number;

  beforeEach(async () => {
    database = await openMemoryDatabase();
    now = Date.UTC(2026, 0, 1);
    directoryAnswer = [];
    events = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        events.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        callback();
      },
    });
    store = new ProviderStore({ db: database.db, clock: { now: () => (now += 1) }, defaultCountry: 'CO' });
    matcher = createProviderMatcher({
      db: database.db,
      store,
      directory: { find: () => Promise.resolve(directoryAnswer) },
      logger: createLogger({ level: 'info', destination: sink }),
      defaultCountry: 'CO',
    });
  });
  afterEach(async () => database.close());

  const add = (name: string, phone: string, location: string, specialties: string[]) =>
    store.create({ name, phone, location, specialties });
  const adopt = (match: Awaited<ReturnType<ProviderMatcher['findMatch']>>) => {
    if (match.kind === 'none') throw new Error('expected a match');
    return database.db.transaction().execute((trx) => matcher.adopt(trx, match));
  };

  it('finds a local match, and two tickets matched before either adopts still go to two providers', async () => {
    await add('A', '3000000001', 'Suba', ['Gas']);
    await add('B', '3000000002', 'Suba', ['Gas']);
    const query = { location: 'suba', specialty: 'GAS', excludeIds: [] };
    const first = await matcher.findMatch(query);
    const second = await matcher.findMatch(query);
    expect(first).toMatchObject({ kind: 'local', source: 'local_specialty' });
    expect(second).toEqual(first);
    const adopted = [(await adopt(first)).name, (await adopt(second)).name];
    expect(adopted).toEqual(['A', 'B']);
    expect(events.filter((e) => e.event === 'provider.matched').map((e) => e.source)).toEqual([
      'local_specialty',
      'local_specialty',
    ]);
  });

  it('falls back to the location, then the directory (filled with the ticket location), then none', async () => {
    await add('Pintor', '3000000001', 'Suba', ['Pintura']);
    expect(await matcher.findMatch({ location: 'Suba', specialty: 'Gas', excludeIds: [] })).toMatchObject({
      kind: 'local',
      source: 'local_location',
    });

    directoryAnswer = [{ name: 'Ext', phone: '573000000009', location: null, specialties: [] }];
    const external = await matcher.findMatch({ location: 'Bosa', specialty: 'Gas', excludeIds: [] });
    expect(external).toEqual({
      kind: 'directory',
      entry: { name: 'Ext', phone: '573000000009', location: 'Bosa', specialties: ['Gas'] },
    });
    const provider = await adopt(external);
    expect(provider).toMatchObject({ name: 'Ext', source: 'directory', location: 'Bosa' });
    expect(provider.lastAssignedAt).not.toBeNull();

    directoryAnswer = [];
    expect(await matcher.findMatch({ location: 'Kennedy', specialty: 'Gas', excludeIds: [] })).toEqual({
      kind: 'none',
    });
    expect(events.at(-1)).toMatchObject({ event: 'provider.matched', source: 'center' });
  });

  it('respects exclusions and adopts a chosen provider, or says it does not exist', async () => {
    const a = await add('A', '3000000001', 'Suba', ['Gas']);
    const b = await add('B', '3000000002', 'Suba', ['Gas']);
    const match = await matcher.findMatch({ location: 'Suba', specialty: 'Gas', excludeIds: [a.id] });
    expect(match).toMatchObject({ providerId: b.id });
    expect((await adopt(match)).id).toBe(b.id);

    expect((await adopt({ kind: 'manual', providerId: a.id })).id).toBe(a.id);
    await expect(adopt({ kind: 'manual', providerId: 'nope' })).rejects.toBeInstanceOf(AppError);
  });
});
