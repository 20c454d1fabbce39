/**
 * The two-phase matcher the ticket flow asks for (`ProviderMatcher` in src/tickets/create-ticket.ts, matched
 * structurally so providers do not import tickets): `findMatch` decides before the transaction (it may
 * call the directory), `adopt` runs inside it and marks the assignment.
 *
 * Between the two another request may take the same provider. So `adopt` of a local match claims again
 * inside the transaction, in the same step (same location, same specialty, same exclusions), which keeps
 * concurrent tickets spread over providers: the provider it returns may differ from `providerId`, never
 * the step (`source`). A match object not made by `findMatch` adopts exactly its `providerId`.
 */
import { AppError } from '../shared/error-codes.js';
import {
  claimDirectoryEntry,
  claimInTier,
  logMatched,
  lookupDirectory,
  rankDirectoryEntries,
  tierQuery,
  type LocalMatchSource,
  type MatchDeps,
  type MatchInput,
} from './match-provider.js';
import type { Provider } from './provider.js';
import type { Db } from './provider-store.js';

export type ProviderMatch =
  | { kind: 'local'; source: LocalMatchSource; providerId: string }
  | { kind: 'manual'; providerId: string }
  | { kind: 'directory'; entry: { name: string; phone: string; location?: string; specialties?: string[] } }
  | { kind: 'none' };

export interface ProviderMatcher {
  findMatch(query: { location: string; specialty: string; excludeIds: string[] }): Promise<ProviderMatch>;
  adopt(trx: Db, match: Exclude<ProviderMatch, { kind: 'none' }>): Promise<Provider>;
}

export function createProviderMatcher(deps: MatchDeps & { db: Db }): ProviderMatcher {
  const { store } = deps;
  const queries = new WeakMap<object, MatchInput>();

  return {
    async findMatch(query) {
      const input: MatchInput = {
        location: query.location,
        specialty: query.specialty,
        excludeIds: query.excludeIds,
      };
      for (const source of ['local_specialty', 'local_location'] as const) {
        const [first] = await store.findCandidates(deps.db, { ...tierQuery(input, source), limit: 1 });
        if (first !== undefined) {
          const match = { kind: 'local' as const, source, providerId: first.id };
          queries.set(match, input);
          return match;
        }
      }
      const entry = await firstUsableEntry(deps, input);
      if (entry !== null) {
        const match = { kind: 'directory' as const, entry };
        queries.set(match, input);
        return match;
      }
      logMatched(deps, input, 'center', null);
      return { kind: 'none' };
    },

    async adopt(trx, match) {
      const input = queries.get(match);
      switch (match.kind) {
        case 'local': {
          const provider =
            input === undefined
              ? await claimExactly(trx, match.providerId)
              : await claimInTier(store, trx, tierQuery(input, match.source));
          if (provider === null) {
            throw new AppError('not_found', 'The matched provider is no longer available', {
              providerId: match.providerId,
            });
          }
          logMatched(deps, input ?? { location: provider.location, specialty: '' }, match.source, provider);
          return provider;
        }
        case 'manual': {
          const provider = await claimExactly(trx, match.providerId);
          if (provider === null) {
            throw new AppError('not_found', `Provider ${match.providerId} not found`, {
              field: 'providerId',
            });
          }
          if (!provider.active) {
            throw new AppError(
              'validation_error',
              'providerId names an inactive provider; activate it first',
              {
                field: 'providerId',
              },
            );
          }
          logMatched(deps, { location: provider.location, specialty: '' }, 'manual', provider);
          return provider;
        }
        case 'directory': {
          const entryInput = input ?? {
            location: match.entry.location ?? '',
            specialty: match.entry.specialties?.[0] ?? '',
          };
          const entry = {
            name: match.entry.name,
            phone: match.entry.phone,
            location: match.entry.location ?? null,
            specialties: match.entry.specialties ?? [],
          };
          const provider = await claimDirectoryEntry(deps, trx, entryInput, [entry]);
          if (provider === null) {
            throw new AppError('not_found', 'The matched provider is no longer available', {
              providerId: null,
            });
          }
          logMatched(deps, entryInput, 'directory', provider);
          return provider;
        }
      }
    },
  };

  async function claimExactly(trx: Db, id: string): Promise<Provider | null> {
    const provider = await store.get(id, trx);
    if (provider === null) return null;
    const at = store.now();
    await store.markAssigned(trx, id, at);
    return { ...provider, lastAssignedAt: new Date(at).toISOString() };
  }
}

/** The directory entry `adopt` will take (the best ranked), filled in with the ticket's location. */
async function firstUsableEntry(
  deps: MatchDeps & { db: Db },
  input: MatchInput,
): Promise<{ name: string; phone: string; location: string; specialties: string[] } | null> {
  const entries = await lookupDirectory(deps, input);
  const [best] = await rankDirectoryEntries(deps, deps.db, input, entries);
  return best === undefined
    ? null
    : { name: best.name, phone: best.phone, location: best.location, specialties: best.specialties };
}
