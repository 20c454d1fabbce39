import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../db/database.js';
import { openMemoryDatabase } from '../../test/helpers/memory-database.js';
import { createLogger } from '../shared/logger.js';
import { lookupDirectoryIfNeeded, matchProvider, type MatchDeps, type MatchInput } from './match-provider.js';
import type { DirectoryEntry, ProviderDirectory } from './provider-directory.js';
import { ProviderStore } from './provider-store.js';

/** The ordering and cascade rules on an in-memory SQLite database (test/integration runs them on both). */
describe('matchProvider', () => {
  let database: Database;
  let now: number;
  let logs: Record<string, unknown>[];
  let directoryCalls: number;
  let directoryAnswer: DirectoryEntry[];
  let deps: MatchDeps;

  beforeEach(async () => {
    database = await openMemoryDatabase();
    now = Date.UTC(2026, 0, 1);
    logs = [];
    directoryCalls = 0;
    directoryAnswer = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        logs.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        callback();
      },
    });
    const directory: ProviderDirectory = {
      find: () => {
        directoryCalls += 1;
        return Promise.resolve(directoryAnswer);
      },
    };
    deps = {
      store: new ProviderStore({ db: database.db, clock: { now: () => now }, defaultCountry: 'CO' }),
      directory,
      logger: createLogger({ level: 'debug', destination: sink }),
      defaultCountry: 'CO',
    };
  });
  afterEach(async () => database.close());

  const add = async (name: string, phone: string, location: string, specialties: string[], active = true) => {
    now += 1000;
    return deps.store.create({ name, phone, location, specialties, active });
  };
  const match = (input: MatchInput) =>
    database.db.transaction().execute((trx) => matchProvider(deps, trx, input));
  const names = async (input: MatchInput, times: number) => {
    const picked: (string | null)[] = [];
    for (let i = 0; i < times; i += 1) {
      now += 1000;
      picked.push((await match(input)).provider?.name ?? null);
    }
    return picked;
  };

  it('prefers location + specialty, then location, then the directory, then nobody', async () => {
    await add('Electricista', '3000000001', 'Chapinero', ['Electricidad']);
    await add('Plomero', '3000000002', 'Chapinero', ['Plomería']);
    await add('Inactivo', '3000000003', 'Usaquén', ['Plomería'], false);

    expect(await match({ location: ' chapinero', specialty: 'PLOMERIA ' })).toMatchObject({
      source: 'local_specialty',
      provider: { name: 'Plomero' },
    });
    expect(await match({ location: 'Chapinero', specialty: 'Jardinería' })).toMatchObject({
      source: 'local_location',
    });
    expect(directoryCalls).toBe(0);

    directoryAnswer = [{ name: 'Externo', phone: '573000000009', location: null, specialties: [] }];
    const external = await match({ location: 'Usaquén', specialty: 'Plomería' });
    expect(external).toMatchObject({
      source: 'directory',
      provider: { name: 'Externo', source: 'directory', location: 'Usaquén', specialties: ['Plomería'] },
    });
    expect(directoryCalls).toBe(1);

    directoryAnswer = [];
    expect(await match({ location: 'Bosa', specialty: 'Gas' })).toEqual({ provider: null, source: 'center' });
    expect(logs.filter((l) => l.event === 'provider.matched').map((l) => l.source)).toEqual([
      'local_specialty',
      'local_location',
      'directory',
      'center',
    ]);
    expect(JSON.stringify(logs)).not.toContain('573000000002');
  });

  it('gives work to the least recently assigned first, never-assigned before all, ties by age', async () => {
    await add('A', '3000000001', 'Suba', ['Gas']);
    await add('B', '3000000002', 'Suba', ['Gas']);
    await add('C', '3000000003', 'Suba', ['Gas']);
    expect(await names({ location: 'Suba', specialty: 'Gas' }, 7)).toEqual([
      'A',
      'B',
      'C',
      'A',
      'B',
      'C',
      'A',
    ]);
    await add('D', '3000000004', 'Suba', ['Gas']);
    expect(await names({ location: 'Suba', specialty: 'Gas' }, 3)).toEqual(['D', 'B', 'C']);
  });

  it('skips excluded providers and falls through the steps when all are excluded', async () => {
    const a = await add('A', '3000000001', 'Suba', ['Gas']);
    const b = await add('B', '3000000002', 'Suba', ['Pintura']);
    expect((await match({ location: 'Suba', specialty: 'Gas', excludeIds: [a.id] })).provider?.name).toBe(
      'B',
    );
    directoryAnswer = [
      { name: 'A again', phone: '573000000001', location: null, specialties: [] },
      { name: 'X', phone: '573000000008', location: null, specialties: [] },
    ];
    const result = await match({ location: 'Suba', specialty: 'Gas', excludeIds: [a.id, b.id] });
    expect(result).toMatchObject({ source: 'directory', provider: { name: 'X' } });
  });

  it('spreads directory work too and never adopts a deactivated provider', async () => {
    await add('Off', '3000000005', 'Bosa', ['Gas'], false);
    directoryAnswer = [
      { name: 'Off', phone: '573000000005', location: 'Bosa', specialties: ['Gas'] },
      { name: 'X', phone: '573000000008', location: null, specialties: [] },
      { name: 'Y', phone: '573000000009', location: null, specialties: [] },
    ];
    expect(await names({ location: 'Kennedy', specialty: 'Gas' }, 4)).toEqual(['X', 'Y', 'X', 'Y']);
  });

  it('asks the directory before the transaction only when nothing local can match', async () => {
    await add('A', '3000000001', 'Suba', ['Gas']);
    expect(await lookupDirectoryIfNeeded(deps, database.db, { location: 'suba', specialty: 'x' })).toEqual(
      [],
    );
    expect(directoryCalls).toBe(0);
    directoryAnswer = [{ name: 'X', phone: '573000000008', location: null, specialties: [] }];
    const input = { location: 'Bosa', specialty: 'Gas' };
    const entries = await lookupDirectoryIfNeeded(deps, database.db, input);
    expect(directoryCalls).toBe(1);
    const result = await database.db
      .transaction()
      .execute((trx) => matchProvider(deps, trx, input, { directoryEntries: entries }));
    expect(result).toMatchObject({ source: 'directory', provider: { name: 'X' } });
    expect(directoryCalls).toBe(1);
  });
});
