/**
 * Who gets a ticket, in this order (design.md §1.2):
 *   1. an active local provider with the same location AND specialty  → source `local_specialty`
 *   2. an active local provider with the same location                 → source `local_location`
 *   3. the external directory (`PROVIDER_DIRECTORY_URL`)               → source `directory`
 *   4. nobody: the caller notifies the center                           → source `center`
 * Location and specialty compare by match key (case, accents and surrounding spaces do not matter).
 * Among several candidates the least recently assigned wins (never assigned first, then oldest, then id),
 * and the winner is marked assigned, so work spreads; concurrent matches skip a provider that another
 * transaction has just taken. Every decision is logged once as `provider.matched` with its `source`.
 *
 * The directory is an HTTP call: do not make it while holding a write transaction (SQLite has one writer).
 * The intended use:
 *
 *     const entries = await lookupDirectoryIfNeeded(deps, db, input);      // outside any transaction
 *     await db.transaction().execute(async (trx) => {
 *       const match = await matchProvider(deps, trx, input, { directoryEntries: entries });
 *       …                                                                   // ticket, outbox, same trx
 *     });
 *
 * Without `directoryEntries`, `matchProvider` calls the directory itself when nothing local matches.
 */
import type { Logger } from 'pino';
import { maskPhoneNumber, type CountryCode } from '../whatsapp/phone-number.js';
import { toMatchKey } from './match-key.js';
import {
  prepareLocation,
  prepareName,
  preparePhone,
  prepareSpecialties,
  type PreparedProvider,
  type Provider,
} from './provider.js';
import type { DirectoryEntry, ProviderDirectory } from './provider-directory.js';
import type { CandidateQuery, Db, ProviderStore } from './provider-store.js';

export type LocalMatchSource = 'local_specialty' | 'local_location';
export type MatchSource = LocalMatchSource | 'directory' | 'center';

export type MatchResult =
  | { provider: Provider; source: LocalMatchSource | 'directory' }
  | { provider: null; source: 'center' };

export interface MatchInput {
  location: string;
  specialty: string;
  /** Providers already tried for this ticket (reassignment). */
  excludeIds?: readonly string[] | undefined;
}

export interface MatchDeps {
  store: ProviderStore;
  directory: ProviderDirectory | null;
  logger: Logger;
  defaultCountry: CountryCode;
}

export interface MatchOptions {
  /** The directory's answer, fetched before the transaction; then no HTTP call is made here. */
  directoryEntries?: readonly DirectoryEntry[];
}

/** How many candidates a match tries before giving the first one to a concurrent race's loser anyway. */
const CLAIM_ATTEMPTS = 10;

/** The whole cascade inside the caller's transaction; marks the chosen provider assigned. */
export async function matchProvider(
  deps: MatchDeps,
  trx: Db,
  input: MatchInput,
  options: MatchOptions = {},
): Promise<MatchResult> {
  const local = await claimLocalMatch(deps, trx, input);
  if (local !== null) return local;
  const entries = options.directoryEntries ?? (await lookupDirectory(deps, input));
  const adopted = await claimDirectoryEntry(deps, trx, input, entries);
  if (adopted !== null) {
    logMatched(deps, input, 'directory', adopted);
    return { provider: adopted, source: 'directory' };
  }
  logMatched(deps, input, 'center', null, { directoryEntries: entries.length });
  return { provider: null, source: 'center' };
}

/**
 * Steps 1–2 inside the caller's transaction: claims (marks assigned) the first free candidate, or null
 * when no active local provider is in that location.
 */
export async function claimLocalMatch(
  deps: MatchDeps,
  trx: Db,
  input: MatchInput,
): Promise<{ provider: Provider; source: LocalMatchSource } | null> {
  for (const source of ['local_specialty', 'local_location'] as const) {
    const provider = await claimInTier(deps.store, trx, tierQuery(input, source));
    if (provider !== null) {
      logMatched(deps, input, source, provider);
      return { provider, source };
    }
  }
  return null;
}

/** Claims the first free candidate of one step (`local_specialty` or `local_location`), or null. */
export async function claimInTier(
  store: ProviderStore,
  trx: Db,
  query: CandidateQuery,
): Promise<Provider | null> {
  const candidates = await store.findCandidates(trx, { ...query, limit: CLAIM_ATTEMPTS });
  const at = store.now();
  for (const candidate of candidates) {
    const isClaimed = await store.markAssigned(trx, candidate.id, at, {
      ifLastAssignedAt: toMillis(candidate.lastAssignedAt),
    });
    if (isClaimed) return { ...candidate, lastAssignedAt: new Date(at).toISOString() };
  }
  // Every candidate was assigned by a concurrent match since we read them: the first in order still gets it.
  const first = candidates[0];
  if (first === undefined) return null;
  await store.markAssigned(trx, first.id, at);
  return { ...first, lastAssignedAt: new Date(at).toISOString() };
}

/** The candidate query of one local step. */
export function tierQuery(input: MatchInput, source: LocalMatchSource): CandidateQuery {
  return {
    locationKey: toMatchKey(input.location),
    specialtyKey: source === 'local_specialty' ? toMatchKey(input.specialty) : null,
    excludeIds: input.excludeIds ?? [],
  };
}

/**
 * The directory's answer when nothing local can match (no active local provider in that location, other
 * than the excluded ones), else `[]` without calling it. Reads only: call it before the transaction.
 */
export async function lookupDirectoryIfNeeded(
  deps: MatchDeps,
  db: Db,
  input: MatchInput,
): Promise<DirectoryEntry[]> {
  if (deps.directory === null) return [];
  const local = await deps.store.findCandidates(db, { ...tierQuery(input, 'local_location'), limit: 1 });
  return local.length > 0 ? [] : lookupDirectory(deps, input);
}

/** Step 3's HTTP call; never throws (a failing directory only logs). */
export async function lookupDirectory(deps: MatchDeps, input: MatchInput): Promise<DirectoryEntry[]> {
  if (deps.directory === null) return [];
  try {
    return await deps.directory.find({ location: input.location.trim(), specialty: input.specialty.trim() });
  } catch (error) {
    deps.logger.warn(
      { event: 'provider_directory.failed', reason: 'exception', err: error },
      'provider directory lookup failed; matching goes on without it',
    );
    return [];
  }
}

/**
 * Step 3 inside the caller's transaction: the first of `rankDirectoryEntries` becomes a provider row
 * (source `directory`, or the existing provider with that phone) and is marked assigned.
 */
export async function claimDirectoryEntry(
  deps: MatchDeps,
  trx: Db,
  input: MatchInput,
  entries: readonly DirectoryEntry[],
): Promise<Provider | null> {
  const excluded = new Set(input.excludeIds ?? []);
  const at = deps.store.now();
  let fallback: Provider | null = null;
  for (const entry of await rankDirectoryEntries(deps, trx, input, entries)) {
    const provider = await deps.store.upsertFromDirectory(trx, entry);
    if (!provider.active || excluded.has(provider.id)) continue;
    fallback ??= provider;
    const isClaimed = await deps.store.markAssigned(trx, provider.id, at, {
      ifLastAssignedAt: toMillis(provider.lastAssignedAt),
    });
    if (isClaimed) return { ...provider, lastAssignedAt: new Date(at).toISOString() };
  }
  if (fallback === null) return null;
  await deps.store.markAssigned(trx, fallback.id, at);
  return { ...fallback, lastAssignedAt: new Date(at).toISOString() };
}

/**
 * The directory's entries that can take the ticket, best first: valid, one per phone, not an excluded or
 * deactivated provider; never assigned (or unknown) before least recently assigned, then the directory's
 * own order.
 */
export async function rankDirectoryEntries(
  deps: MatchDeps,
  executor: Db,
  input: MatchInput,
  entries: readonly DirectoryEntry[],
): Promise<PreparedProvider[]> {
  const prepared = usableEntries(deps, input, entries);
  if (prepared.length === 0) return [];
  const known = new Map(
    (
      await deps.store.findByPhones(
        executor,
        prepared.map((entry) => entry.phone),
      )
    ).map((provider) => [provider.phone, provider]),
  );
  const excluded = new Set(input.excludeIds ?? []);
  return prepared
    .map((entry, order) => ({ entry, order, provider: known.get(entry.phone) }))
    .filter(({ provider }) => provider === undefined || (provider.active && !excluded.has(provider.id)))
    .map(({ entry, order, provider }) => ({
      entry,
      order,
      lastAssignedAt: toMillis(provider?.lastAssignedAt ?? null) ?? -1,
    }))
    .sort((a, b) => a.lastAssignedAt - b.lastAssignedAt || a.order - b.order)
    .map(({ entry }) => entry);
}

/**
 * An entry as a provider: its location or the ticket's; its specialties plus the ticket's (the directory
 * offered them for it). Invalid entries and repeated phones are left out.
 */
export function prepareDirectoryEntry(
  entry: DirectoryEntry,
  input: MatchInput,
  defaultCountry: CountryCode,
): PreparedProvider | null {
  const name = prepareName(entry.name);
  const phone = preparePhone(entry.phone, defaultCountry);
  const location = prepareLocation(entry.location ?? input.location);
  const specialties = prepareSpecialties([...entry.specialties, input.specialty]);
  if (!name.ok || !phone.ok || !location.ok || !specialties.ok) return null;
  return {
    name: name.value,
    phone: phone.value,
    location: location.value,
    locationKey: toMatchKey(location.value),
    specialties: specialties.value.specialties,
    specialtyKeys: specialties.value.keys,
    active: true,
  };
}

function usableEntries(
  deps: MatchDeps,
  input: MatchInput,
  entries: readonly DirectoryEntry[],
): PreparedProvider[] {
  const byPhone = new Map<string, PreparedProvider>();
  for (const entry of entries) {
    const prepared = prepareDirectoryEntry(entry, input, deps.defaultCountry);
    if (prepared === null) {
      deps.logger.warn(
        {
          event: 'provider_directory.entry_dropped',
          reason: 'invalid_entry',
          phone: maskPhoneNumber(entry.phone),
        },
        'directory entry dropped',
      );
    } else if (!byPhone.has(prepared.phone)) byPhone.set(prepared.phone, prepared);
  }
  return [...byPhone.values()];
}

export function logMatched(
  deps: Pick<MatchDeps, 'logger'>,
  input: MatchInput,
  source: MatchSource | 'manual',
  provider: Provider | null,
  extra: Record<string, unknown> = {},
): void {
  deps.logger.info(
    {
      event: 'provider.matched',
      source,
      providerId: provider?.id ?? null,
      ...(provider === null ? {} : { to: maskPhoneNumber(provider.phone), providerSource: provider.source }),
      location: toMatchKey(input.location),
      specialty: toMatchKey(input.specialty),
      excluded: input.excludeIds?.length ?? 0,
      ...extra,
    },
    provider === null ? 'no provider matched' : 'provider matched',
  );
}

function toMillis(iso: string | null): number | null {
  return iso === null ? null : Date.parse(iso);
}
