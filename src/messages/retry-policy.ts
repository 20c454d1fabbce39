import type { FailureClass } from '../whatsapp/graph-error.js';

export const RETRY_CAP_MS = 60_000;

export type RetryDecision =
  | { action: 'retry'; delayMs: number; holdRecipientMs: number | null }
  | { action: 'fail'; reason: 'permanent' | 'attempts_exhausted' };

export interface RetryInput {
  failureClass: FailureClass;
  /** Attempts made so far, including the one that just failed (≥ 1). */
  attempts: number;
  maxAttempts: number;
  baseMs: number;
  /** From Meta's Retry-After, if any. */
  retryAfterMs: number | null;
  /** Earlier pair-rate failures for this recipient (for 131056's 4^X seconds). */
  recipientPairFailures: number;
  /** Injected for tests; returns [0, 1). */
  random: () => number;
}

/**
 * What to do after a failed send. Pure: decided by the failure class (from Meta's error code), the
 * attempt count and the configured backoff; exponential backoff with full jitter, capped, never
 * sooner than Retry-After.
 */
export function decideRetry(input: RetryInput): RetryDecision {
  const { failureClass, attempts, maxAttempts } = input;
  if (failureClass !== 'transient' && failureClass !== 'throughput' && failureClass !== 'pair_rate') {
    return { action: 'fail', reason: 'permanent' };
  }
  if (attempts >= maxAttempts) return { action: 'fail', reason: 'attempts_exhausted' };

  if (failureClass === 'pair_rate') {
    // Meta: back off that (sender, recipient) pair for 4^X seconds; other recipients keep flowing.
    const holdMs = Math.min(4 ** input.recipientPairFailures * 1000, 15 * 60_000);
    return { action: 'retry', delayMs: holdMs, holdRecipientMs: holdMs };
  }
  const ceiling = Math.min(RETRY_CAP_MS, input.baseMs * 2 ** (attempts - 1));
  const jittered = Math.floor(input.random() * ceiling);
  const delayMs = Math.max(
    jittered,
    input.retryAfterMs ?? 0,
    failureClass === 'throughput' ? input.baseMs : 0,
  );
  return { action: 'retry', delayMs: Math.min(delayMs, RETRY_CAP_MS), holdRecipientMs: null };
}
