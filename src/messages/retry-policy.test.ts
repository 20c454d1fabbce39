import { describe, expect, it } from 'vitest';
import { decideRetry, RETRY_CAP_MS, type RetryInput } from './retry-policy.js';

const base: RetryInput = {
  failureClass: 'transient',
  attempts: 1,
  maxAttempts: 10,
  baseMs: 1000,
  retryAfterMs: null,
  recipientPairFailures: 0,
  random: () => 0.5,
};

describe('decideRetry', () => {
  it('retries a transient failure with full jitter under an exponential ceiling', () => {
    expect(decideRetry({ ...base, attempts: 1 })).toEqual({
      action: 'retry',
      delayMs: 500,
      holdRecipientMs: null,
    });
    expect(decideRetry({ ...base, attempts: 3 })).toEqual({
      action: 'retry',
      delayMs: 2000,
      holdRecipientMs: null,
    });
    expect(decideRetry({ ...base, attempts: 3, random: () => 0 })).toEqual({
      action: 'retry',
      delayMs: 0,
      holdRecipientMs: null,
    });
  });

  it('never waits longer than the cap', () => {
    const decision = decideRetry({ ...base, attempts: 9, maxAttempts: 20, random: () => 0.999999 });
    expect(decision).toMatchObject({ action: 'retry' });
    if (decision.action === 'retry') expect(decision.delayMs).toBeLessThanOrEqual(RETRY_CAP_MS);
  });

  it('honours Retry-After when it is longer than the jittered delay', () => {
    expect(decideRetry({ ...base, retryAfterMs: 7000 })).toMatchObject({ delayMs: 7000 });
  });

  it('waits at least the base delay after a throughput limit (130429)', () => {
    expect(decideRetry({ ...base, failureClass: 'throughput', random: () => 0 })).toMatchObject({
      delayMs: 1000,
    });
  });

  it('fails once the attempt budget is spent', () => {
    expect(decideRetry({ ...base, attempts: 10 })).toEqual({ action: 'fail', reason: 'attempts_exhausted' });
  });

  it.each(['auth', 'window', 'recipient', 'request', 'account'] as const)(
    'fails %s failures at once',
    (failureClass) => {
      expect(decideRetry({ ...base, failureClass })).toEqual({ action: 'fail', reason: 'permanent' });
    },
  );

  it('holds only the recipient for 4^X seconds after a pair rate limit (131056)', () => {
    expect(decideRetry({ ...base, failureClass: 'pair_rate', recipientPairFailures: 0 })).toEqual({
      action: 'retry',
      delayMs: 1000,
      holdRecipientMs: 1000,
    });
    expect(decideRetry({ ...base, failureClass: 'pair_rate', recipientPairFailures: 2 })).toMatchObject({
      holdRecipientMs: 16_000,
    });
  });
});
