import { afterAll, expect, it } from 'vitest';
import { stopAllLoadProcesses } from './processes.js';
import { describeGraphOutage, runGraphOutage } from './graph-outage.js';

afterAll(() => stopAllLoadProcesses());

// A budget of 3 attempts lasts about 1.5 s of refused connections at a 500 ms base: it would not survive the
// outage if refused connections counted (they do not: the request never left), and the circuit breaker
// pauses sending while the Graph API cannot be reached.
it('Graph API outage, scaled down: unreachable for 5 s, every message waits and goes out after it returns, within the attempt budget', async () => {
  const report = await runGraphOutage({
    messages: 600,
    outageMs: 5000,
    maxMps: 100,
    retryBaseMs: 500,
    maxAttempts: 3,
    requestTimeoutMs: 2000,
    leaseMs: 6000,
  });
  console.log(`[graph outage]\n${describeGraphOutage(report).join('\n')}`);

  expect(report.badEndIds, 'lost, stuck or failed').toEqual([]);
  expect(report.badEnds).toBe(0);
  expect(report.duplicates.unexplainedIds, 'sent twice without a lost answer').toEqual([]);
  expect(report.waitingAtOutageStart).toBeGreaterThan(0);
  expect(report.retriedMessages).toBeGreaterThan(0);
  expect(report.attemptsPerMessage.max).toBeLessThanOrEqual(3);
  expect(report.outageSeconds).toBeGreaterThanOrEqual(5);
}, 300_000);
