import { sql, type Kysely } from 'kysely';
import type { DatabaseSchema } from '../db/schema.js';

type Db = Kysely<DatabaseSchema>;

/**
 * How candidates of equal match are ordered (issue: "faster acceptors first").
 *
 * Each resolved offer costs the ticket some waiting: an acceptance costs the time the provider took to
 * tap Aceptar; a decline, an expiry or an undeliverable offer costs a whole offer deadline, because the
 * ticket has to start over with someone else. A provider's rank is the expected cost of offering them the
 * next ticket, in whole minutes:
 *
 *     rank_minutes = round((sum of costs + PRIOR) / (resolved offers + 1))
 *
 * PRIOR is half the default deadline (15 minutes with ASSIGNMENT_TIMEOUT_MIN=30): one imagined offer that
 * keeps a single fast answer from putting a newcomer ahead of a provider with a long good record, and
 * a provider without history is ranked as if they had exactly that record. Lower ranks first; equal
 * minutes fall back to the least recently assigned, so work still rotates among equally good providers.
 */
export interface RankingPolicy {
  /** The cost assumed for a provider without history (half the default deadline). */
  priorMs: number;
}

export type OfferOutcome = 'accepted' | 'declined' | 'expired';

/** What one resolved offer cost, in milliseconds. */
export function offerCostMs(outcome: OfferOutcome, answeredAfterMs: number, deadlineMs: number): number {
  return outcome === 'accepted' ? Math.max(0, Math.min(answeredAfterMs, deadlineMs)) : deadlineMs;
}

/** The rank of a provider with these counters (pure; the SQL in `recordOfferOutcome` computes the same). */
export function rankMinutes(totalCostMs: number, resolvedOffers: number, policy: RankingPolicy): number {
  return Math.round((totalCostMs + policy.priorMs) / (resolvedOffers + 1) / 60_000);
}

/** The rank the ordering uses for a provider without history. */
export function priorRankMinutes(policy: RankingPolicy): number {
  return rankMinutes(0, 0, policy);
}

/**
 * Adds one resolved offer to the provider's counters and recomputes the rank, in one statement (the
 * right-hand sides read the row's values before the update, so concurrent outcomes never lose a count).
 */
export async function recordOfferOutcome(
  executor: Db,
  providerId: string,
  outcome: OfferOutcome,
  costMs: number,
  policy: RankingPolicy,
): Promise<void> {
  const cost = Math.round(costMs);
  const counter =
    outcome === 'accepted'
      ? 'offers_accepted'
      : outcome === 'declined'
        ? 'offers_declined'
        : 'offers_expired';
  await executor
    .updateTable('providers')
    .set({
      [counter]: sql`${sql.ref(counter)} + 1`,
      answer_cost_ms: sql`answer_cost_ms + ${cost}`,
      rank_minutes: sql`cast(round((answer_cost_ms + ${cost} + ${policy.priorMs}) * 1.0 / (offers_accepted + offers_declined + offers_expired + 2) / 60000) as integer)`,
    })
    .where('id', '=', providerId)
    .execute();
}
