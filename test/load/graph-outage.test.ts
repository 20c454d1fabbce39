import { afterAll, expect, it } from 'vitest';
import { stopAllLoadProcesses } from './processes.js';
import { describeGraphOutage, runGraphOutage } from './graph-outage.js';

afterAll(() => stopAllLoadProcesses());

it('Graph API outage, scaled down: unreachable for 5 s, every message waits and goes out after it returns, within the attempt budget', async () => {
  const report = await runGraphOutage({
    messages: 600,
    outageMs: 5000,
    maxMps: 100,
    retryBaseMs: 500,
    maxAttempts: 10,
    requestTimeoutMs: 2000,
    leaseMs: 6000,
  });
  console.log(`[graph outage]\n${describeGraphOutage(report).join('\n')}`);

  expect(report.badEndIds, 'lost, stuck or failed').toEqual([]);
  expect(report.badEnds).toBe(0);
  expect(report.duplicates.unexplainedIds, 'sent twice without a lost answer').toEqual([]);
  expect(report.waitingAtOutageStart).toBeGreaterThan(0);
  expect(report.retriedMessages).toBeGreaterThan(0);
  expect(report.attemptsPerMessage.max).toBeLessThanOrEqual(10);
  expect(report.outageSeconds).toBeGreaterThanOrEqual(5);
}, 300_000);
