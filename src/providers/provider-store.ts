import { sql, type Insertable, type Kysely, type Selectable, type Updateable } from 'kysely';
import { newestFirstPage } from '../db/newest-first-page.js';
import type { DatabaseSchema, ProvidersTable } from '../db/schema.js';
import type { Clock } from '../shared/clock.js';
import { AppError } from '../shared/error-codes.js';
import { newId } from '../shared/ids.js';
import type { CountryCode } from '../whatsapp/phone-number.js';
import { toMatchKey } from './match-key.js';
import { priorRankMinutes, type RankingPolicy } from './provider-ranking.js';
import {
  prepareLocation,
  prepareName,
  preparePhone,
  prepareProvider,
  prepareSpecialties,
  type FieldResult,
  type PreparedProvider,
  type Provider,
  type ProviderInput,
  type ProviderPatch,
  type ProviderSource,
} from './provider.js';

/** The database or a transaction: every method that takes one works inside the caller's transaction. */
export type Db = Kysely<DatabaseSchema>;
type ProviderRow = Selectable<ProvidersTable>;

export interface ProviderFilter {
  /** Compared by match key (case, accents and spaces do not matter). */
  location?: string;
  specialty?: string;
  active?: boolean;
  source?: ProviderSource;
  /** Normalized digits. */
  phone?: string;
  limit: number;
  /** Opaque cursor from a previous page. */
  cursor?: string;
}

export interface ProviderPage {
  items: Provider[];
  nextCursor: string | null;
}

export interface CandidateQuery {
  locationKey: string;
  /** Null: any specialty (the "same location" step). */
  specialtyKey: string | null;
  excludeIds: readonly string[];
  /** Default 20. */
  limit?: number;
}

/** One CSV row, validated; `active: null` keeps an existing provider's state (new ones start active). */
export type ImportRow = Omit<PreparedProvider, 'active'> & { active: boolean | null };

export interface ImportWriteResult {
  created: number;
  updated: number;
}

export interface ProviderStoreOptions {
  db: Db;
  clock: Clock;
  /** For phone numbers written without a country code. */
  defaultCountry: CountryCode;
  /** How candidates of equal match are ranked (src/providers/provider-ranking.ts). */
  ranking?: RankingPolicy;
}

/** ASSIGNMENT_TIMEOUT_MIN's default (30 min) halved. */
const DEFAULT_RANKING: RankingPolicy = { priorMs: 15 * 60_000 };
const PHONE_LOOKUP_CHUNK = 500;
const IMPORT_WRITE_CHUNK = 100;
const SPECIALTY_WRITE_CHUNK = 400;

/**
 * The providers table and its specialty keys. Phone numbers are unique (normalized digits); a duplicate is
 * a 409 `provider_phone_taken` naming the provider that has it, decided by the unique index (so two
 * concurrent requests cannot both win).
 */
export class ProviderStore {
  readonly defaultCountry: CountryCode;
  readonly ranking: RankingPolicy;
  private readonly db: Db;
  private readonly clock: Clock;

  constructor(options: ProviderStoreOptions) {
    this.db = options.db;
    this.clock = options.clock;
    this.defaultCountry = options.defaultCountry;
    this.ranking = options.ranking ?? DEFAULT_RANKING;
  }

  now(): number {
    return this.clock.now();
  }

  async create(input: ProviderInput): Promise<Provider> {
    const prepared = orThrow(prepareProvider(input, this.defaultCountry));
    const now = this.clock.now();
    const id = newId();
    const inserted = await this.db.transaction().execute(async (trx) => {
      const row = await trx
        .insertInto('providers')
        .values(newRow(id, prepared, 'local', now))
        .onConflict((oc) => oc.column('phone').doNothing())
        .returningAll()
        .executeTakeFirst();
      if (row !== undefined) await insertSpecialtyKeys(trx, [{ id, keys: prepared.specialtyKeys }]);
      return row;
    });
    if (inserted === undefined) throw await this.phoneTaken(prepared.phone);
    return toProvider(inserted);
  }

  async get(id: string, executor: Db = this.db): Promise<Provider | null> {
    const row = await executor.selectFrom('providers').selectAll().where('id', '=', id).executeTakeFirst();
    return row === undefined ? null : toProvider(row);
  }

  /** Providers having one of these phone numbers (normalized digits). */
  async findByPhones(executor: Db, phones: readonly string[]): Promise<Provider[]> {
    const found: Provider[] = [];
    for (const chunk of chunks([...new Set(phones)], PHONE_LOOKUP_CHUNK)) {
      const rows = await executor.selectFrom('providers').selectAll().where('phone', 'in', chunk).execute();
      found.push(...rows.map(toProvider));
    }
    return found;
  }

  /** Newest first; the cursor is the last item's (created_at, id). */
  async list(filter: ProviderFilter): Promise<ProviderPage> {
    let query = this.db.selectFrom('providers').selectAll();
    if (filter.location !== undefined) query = query.where('location_key', '=', toMatchKey(filter.location));
    if (filter.specialty !== undefined) {
      const key = toMatchKey(filter.specialty);
      query = query.where('id', 'in', (eb) =>
        eb.selectFrom('provider_specialties').select('provider_id').where('specialty_key', '=', key),
      );
    }
    if (filter.active !== undefined) query = query.where('active', '=', filter.active ? 1 : 0);
    if (filter.source !== undefined) query = query.where('source', '=', filter.source);
    if (filter.phone !== undefined) query = query.where('phone', '=', filter.phone);
    const { rows, nextCursor } = await newestFirstPage(query, filter.limit, filter.cursor);
    return { items: rows.map(toProvider), nextCursor };
  }

  /**
   * PATCH semantics: only the fields present change (`specialties` replaces the list). An edited provider
   * is `local` from then on (the directory no longer refreshes it). Throws `not_found`, a field's 400, or
   * 409 when the new phone belongs to another provider.
   */
  async update(id: string, patch: ProviderPatch): Promise<Provider> {
    const changes = this.preparePatch(patch);
    try {
      return await this.db.transaction().execute(async (trx) => {
        const current = await trx.selectFrom('providers').selectAll().where('id', '=', id).executeTakeFirst();
        if (current === undefined) throw new AppError('not_found', `Provider ${id} not found`);
        if (changes.phone !== undefined && changes.phone !== current.phone) {
          const owner = await trx
            .selectFrom('providers')
            .select('id')
            .where('phone', '=', changes.phone)
            .executeTakeFirst();
          if (owner !== undefined) throw phoneTakenError(owner.id);
        }
        const set: Updateable<ProvidersTable> = { updated_at: this.clock.now(), source: 'local' };
        if (changes.name !== undefined) set.name = changes.name;
        if (changes.phone !== undefined) set.phone = changes.phone;
        if (changes.location !== undefined) {
          set.location = changes.location;
          set.location_key = toMatchKey(changes.location);
        }
        if (changes.specialties !== undefined)
          set.specialties = JSON.stringify(changes.specialties.specialties);
        if (changes.active !== undefined) set.active = changes.active ? 1 : 0;
        const row = await trx
          .updateTable('providers')
          .set(set)
          .where('id', '=', id)
          .returningAll()
          .executeTakeFirstOrThrow();
        if (changes.specialties !== undefined) {
          await trx.deleteFrom('provider_specialties').where('provider_id', '=', id).execute();
          await insertSpecialtyKeys(trx, [{ id, keys: changes.specialties.keys }]);
        }
        return toProvider(row);
      });
    } catch (error) {
      if (changes.phone !== undefined && isUniqueViolation(error)) throw await this.phoneTaken(changes.phone);
      throw error;
    }
  }

  /** Removes the provider and its specialty keys; its tickets keep their history with no provider. */
  async delete(id: string): Promise<Provider | null> {
    return this.db.transaction().execute(async (trx) => {
      const row = await trx.selectFrom('providers').selectAll().where('id', '=', id).executeTakeFirst();
      if (row === undefined) return null;
      await trx.deleteFrom('provider_specialties').where('provider_id', '=', id).execute();
      await trx.deleteFrom('providers').where('id', '=', id).execute();
      return toProvider(row);
    });
  }

  /**
   * Active `local` providers in one location (and with one specialty, when given), in the order matching
   * offers them: best rank first (expected minutes to acceptance, provider-ranking.ts), then least
   * recently assigned (never assigned before all), then oldest, then id.
   * Directory-adopted providers are reached through the directory step, not here.
   */
  async findCandidates(executor: Db, query: CandidateQuery): Promise<Provider[]> {
    let select = executor
      .selectFrom('providers')
      .selectAll()
      .where('active', '=', 1)
      .where('source', '=', 'local')
      .where('location_key', '=', query.locationKey);
    const { specialtyKey } = query;
    if (specialtyKey !== null) {
      select = select.where('id', 'in', (eb) =>
        eb.selectFrom('provider_specialties').select('provider_id').where('specialty_key', '=', specialtyKey),
      );
    }
    if (query.excludeIds.length > 0) select = select.where('id', 'not in', [...query.excludeIds]);
    const rows = await select
      .orderBy(sql`coalesce(rank_minutes, ${priorRankMinutes(this.ranking)})`)
      .orderBy('last_assigned_at', (ob) => ob.asc().nullsFirst())
      .orderBy('created_at', 'asc')
      .orderBy('id', 'asc')
      .limit(query.limit ?? 20)
      .execute();
    return rows.map(toProvider);
  }

  /**
   * Records that matching gave this provider a ticket at `at`. With `ifLastAssignedAt` it only does so when
   * nobody assigned them since that value was read (false otherwise), so concurrent matches spread out.
   */
  async markAssigned(
    executor: Db,
    id: string,
    at: number,
    options: { ifLastAssignedAt?: number | null } = {},
  ): Promise<boolean> {
    let update = executor.updateTable('providers').set({ last_assigned_at: at }).where('id', '=', id);
    const expected = options.ifLastAssignedAt;
    if (expected === null) update = update.where('last_assigned_at', 'is', null);
    else if (expected !== undefined) update = update.where('last_assigned_at', '=', expected);
    const result = await update.executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  /**
   * Makes a directory entry a provider row (source `directory`), found again by phone. A `local` provider
   * with that phone is returned untouched; a `directory` one gets the new name and the new specialties
   * added (its location stays the one it was adopted with). Safe against a concurrent adoption.
   */
  async upsertFromDirectory(executor: Db, entry: PreparedProvider): Promise<Provider> {
    const now = this.clock.now();
    const existing = await executor
      .selectFrom('providers')
      .selectAll()
      .where('phone', '=', entry.phone)
      .executeTakeFirst();
    if (existing === undefined) {
      const id = newId();
      const inserted = await executor
        .insertInto('providers')
        .values(newRow(id, { ...entry, active: true }, 'directory', now))
        .onConflict((oc) => oc.column('phone').doNothing())
        .returningAll()
        .executeTakeFirst();
      if (inserted !== undefined) {
        await insertSpecialtyKeys(executor, [{ id, keys: entry.specialtyKeys }]);
        return toProvider(inserted);
      }
      // Adopted by a concurrent request in the meantime: use theirs.
      const theirs = await executor
        .selectFrom('providers')
        .selectAll()
        .where('phone', '=', entry.phone)
        .executeTakeFirstOrThrow();
      return toProvider(theirs);
    }
    if (existing.source === 'local') return toProvider(existing);

    const merged = prepareSpecialties([...parseSpecialties(existing.specialties), ...entry.specialties]);
    const specialties = merged.ok
      ? merged.value
      : { specialties: entry.specialties, keys: entry.specialtyKeys };
    const row = await executor
      .updateTable('providers')
      .set({
        name: entry.name,
        specialties: JSON.stringify(specialties.specialties),
        updated_at: now,
      })
      .where('id', '=', existing.id)
      .returningAll()
      .executeTakeFirstOrThrow();
    await executor.deleteFrom('provider_specialties').where('provider_id', '=', existing.id).execute();
    await insertSpecialtyKeys(executor, [{ id: existing.id, keys: specialties.keys }]);
    return toProvider(row);
  }

  /**
   * Writes validated CSV rows in ONE transaction: new phones are created, known ones updated (and become
   * `local`). With `dryRun` nothing is written and the counts say what would happen.
   */
  async importRows(
    rows: readonly ImportRow[],
    options: { dryRun?: boolean } = {},
  ): Promise<ImportWriteResult> {
    const write = async (trx: Db): Promise<ImportWriteResult> => {
      const existing = new Map(
        (
          await this.findByPhones(
            trx,
            rows.map((row) => row.phone),
          )
        ).map((provider) => [provider.phone, provider]),
      );
      const created = rows.filter((row) => !existing.has(row.phone)).length;
      const result = { created, updated: rows.length - created };
      if (options.dryRun === true) return result;

      const now = this.clock.now();
      for (const chunk of chunks(rows, IMPORT_WRITE_CHUNK)) {
        const values = chunk.map((row) => {
          const known = existing.get(row.phone);
          const active = row.active ?? known?.active ?? true;
          return newRow(known?.id ?? newId(), { ...row, active }, 'local', now);
        });
        // Upsert by phone, so a provider created meanwhile by another request is updated, not duplicated.
        const written = await trx
          .insertInto('providers')
          .values(values)
          .onConflict((oc) =>
            oc.column('phone').doUpdateSet((eb) => ({
              name: eb.ref('excluded.name'),
              location: eb.ref('excluded.location'),
              location_key: eb.ref('excluded.location_key'),
              specialties: eb.ref('excluded.specialties'),
              active: eb.ref('excluded.active'),
              source: eb.ref('excluded.source'),
              updated_at: eb.ref('excluded.updated_at'),
            })),
          )
          .returning(['id', 'phone'])
          .execute();
        const keysByPhone = new Map(chunk.map((row) => [row.phone, row.specialtyKeys]));
        const ids = written.map((row) => row.id);
        for (const idChunk of chunks(ids, PHONE_LOOKUP_CHUNK)) {
          await trx.deleteFrom('provider_specialties').where('provider_id', 'in', idChunk).execute();
        }
        await insertSpecialtyKeys(
          trx,
          written.map((row) => ({ id: row.id, keys: keysByPhone.get(row.phone) ?? [] })),
        );
      }
      return result;
    };
    return options.dryRun === true ? write(this.db) : this.db.transaction().execute(write);
  }

  private preparePatch(patch: ProviderPatch) {
    const check = <T>(result: FieldResult<T> | undefined): T | undefined =>
      result === undefined ? undefined : orThrow(result);
    return {
      name: check(patch.name === undefined ? undefined : prepareName(patch.name)),
      phone: check(patch.phone === undefined ? undefined : preparePhone(patch.phone, this.defaultCountry)),
      location: check(patch.location === undefined ? undefined : prepareLocation(patch.location)),
      specialties: check(patch.specialties === undefined ? undefined : prepareSpecialties(patch.specialties)),
      active: patch.active,
    };
  }

  private async phoneTaken(phone: string): Promise<AppError> {
    const owner = await this.db
      .selectFrom('providers')
      .select('id')
      .where('phone', '=', phone)
      .executeTakeFirst();
    return phoneTakenError(owner?.id ?? null);
  }
}

export function toProvider(row: ProviderRow): Provider {
  return {
    id: row.id,
    name: row.name,
    phone: row.phone,
    location: row.location,
    specialties: parseSpecialties(row.specialties),
    active: row.active === 1,
    source: row.source,
    lastAssignedAt: row.last_assigned_at === null ? null : new Date(row.last_assigned_at).toISOString(),
    stats: {
      accepted: Number(row.offers_accepted),
      declined: Number(row.offers_declined),
      expired: Number(row.offers_expired),
      rankMinutes: row.rank_minutes === null ? null : Number(row.rank_minutes),
    },
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
  };
}

function newRow(
  id: string,
  provider: PreparedProvider,
  source: ProviderSource,
  now: number,
): Insertable<ProvidersTable> {
  return {
    id,
    name: provider.name,
    phone: provider.phone,
    location: provider.location,
    location_key: provider.locationKey,
    specialties: JSON.stringify(provider.specialties),
    active: provider.active ? 1 : 0,
    source,
    last_assigned_at: null,
    created_at: now,
    updated_at: now,
  };
}

async function insertSpecialtyKeys(executor: Db, providers: { id: string; keys: string[] }[]): Promise<void> {
  const rows = providers.flatMap(({ id, keys }) =>
    keys.map((key) => ({ provider_id: id, specialty_key: key })),
  );
  for (const chunk of chunks(rows, SPECIALTY_WRITE_CHUNK)) {
    await executor.insertInto('provider_specialties').values(chunk).execute();
  }
}

function parseSpecialties(json: string): string[] {
  try {
    const value: unknown = JSON.parse(json);
    return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
  } catch {
    return [];
  }
}

function orThrow<T>(result: FieldResult<T>): T {
  if (!result.ok) throw new AppError(result.code, result.message, { field: result.field });
  return result.value;
}

function phoneTakenError(providerId: string | null): AppError {
  return new AppError('provider_phone_taken', 'Another provider already has this phone number', {
    field: 'phone',
    ...(providerId === null ? {} : { providerId }),
  });
}

/** PostgreSQL 23505, SQLite SQLITE_CONSTRAINT_UNIQUE / _PRIMARYKEY. */
function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const result: T[][] = [];
  for (let start = 0; start < items.length; start += size) result.push(items.slice(start, start + size));
  return result;
}
