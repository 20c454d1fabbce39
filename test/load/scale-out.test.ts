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
    // instead of bunching (ADR 0006). The sandbox counts at receipt, at nice -10, with batched statuses, and
    // reports its event-loop lag (ADR 0011).
    expect(report.sandboxLag, 'the sandbox reports its event-loop lag').not.toBeNull();
    // Which seconds above the cap followed a stall of the sandbox is reported (SOAK.md), not asserted: full
    // runs also saw one or two with the sandbox responsive (sender-side delay after the limiter's grant).
    // A stall can still move a few sends into the next second on this shared 2-core machine, so the hard
    // bounds stay those that held in every measured run: one limiter grant over the cap, at most 2 seconds.
    // (Before ADR 0011: 24 of 26 runs at most 99 at the sandbox, one 101, one 105; the limiter before
    // ADR 0006: 105 here, and 96 against 80 in the full soak, 45 seconds over.)
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
