import { afterAll, expect, it } from 'vitest';
import { grantSize } from '../../src/messages/throughput-limiter.js';
import { isPostgresAvailable } from '../helpers/test-app.js';
import { stopAllLoadProcesses } from './processes.js';
import { describeScaleOut, runScaleOut } from './scale-out.js';

afterAll(() => stopAllLoadProcesses());

const hasPostgres = await isPostgresAvailable();
const MESSAGES = 1200;
const MAX_MPS = 100;

it.skipIf(!hasPostgres)(
  'scale-out, scaled down: 4 processes on one PostgreSQL, one SIGKILLed midway: all sent, none twice beyond its in-flight sends, cap held across processes, work spread',
  async () => {
    const report = await runScaleOut({ messages: MESSAGES, processes: 4, maxMps: MAX_MPS, leaseMs: 8000 });
    console.log(`[scale-out]\n${describeScaleOut(report).join('\n')}`);

    expect(report.badEndIds, 'lost, stuck or failed').toEqual([]);
    expect(report.badEnds).toBe(0);
    expect(report.duplicates.unexplainedIds, 'sent twice though not in flight in the killed process').toEqual(
      [],
    );
    // The cap is shared across processes (each applying it alone would allow 4 × cap), paced at 97 % of it
    // on the database's clock, each send at its own slot; a send woken over 10 ms late waits for a new slot
    // instead of bunching (ADR 0006). By our send times no calendar second holds more than 98 here; the
    // sandbox counts at receipt, so its own scheduling on this loaded machine adds jitter. Measured on the
    // shared 2-core machine (load 3–8): 24 of 26 runs at most 99 per second at the sandbox, one 101 and one
    // 105 (one second over each), so the bounds below are the tightest that held in every run, not "never
    // over the cap".
    // The previous limiter here: 105 with 2 seconds over; in the full soak 96 against 80, 45 seconds over.
    // Seconds over: at most 2 (1 in every measured run; CI must not fail on one more second of receipt jitter).
    expect(report.maxPerSecond).toBeLessThanOrEqual(MAX_MPS + grantSize(MAX_MPS));
    expect(report.secondsOverCap).toBeLessThanOrEqual(2);
    expect(report.meanPerSecond).toBeLessThanOrEqual(MAX_MPS);
    for (const share of report.shares)
      expect(share.accepted, `${share.name} sent nothing`).toBeGreaterThan(0);
    const total = report.shares.reduce((sum, share) => sum + share.accepted, 0);
    expect(total).toBe(MESSAGES + report.duplicates.explained + report.duplicates.afterLostAnswer);
  },
  300_000,
);
