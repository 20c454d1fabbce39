import { describe, expect, it } from 'vitest';
import { offerCostMs, priorRankMinutes, rankMinutes } from './provider-ranking.js';

const policy = { priorMs: 15 * 60_000 };
const minutes = (n: number): number => n * 60_000;

describe('provider ranking', () => {
  it('charges an acceptance its answer time and anything else a whole deadline', () => {
    expect(offerCostMs('accepted', minutes(3), minutes(30))).toBe(minutes(3));
    expect(offerCostMs('accepted', minutes(45), minutes(30))).toBe(minutes(30));
    expect(offerCostMs('declined', minutes(1), minutes(30))).toBe(minutes(30));
    expect(offerCostMs('expired', minutes(30), minutes(10))).toBe(minutes(10));
  });

  it('ranks a newcomer at half the default deadline', () => {
    expect(priorRankMinutes(policy)).toBe(15);
  });

  it('puts fast acceptors ahead of newcomers and decliners behind them', () => {
    const fast = rankMinutes(minutes(2) * 4, 4, policy); // four acceptances in 2 minutes
    const slowDecliner = rankMinutes(minutes(30) * 3, 3, policy); // three declines
    expect(fast).toBe(5);
    expect(fast).toBeLessThan(priorRankMinutes(policy));
    expect(slowDecliner).toBeGreaterThan(priorRankMinutes(policy));
  });

  it('does not let one quick answer outrank a long good record', () => {
    const oneQuick = rankMinutes(minutes(1), 1, policy);
    const longRecord = rankMinutes(minutes(3) * 20, 20, policy);
    expect(longRecord).toBeLessThan(oneQuick);
  });
});
