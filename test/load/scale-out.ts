/**
 * Scale-out (issue #7, part 4): several server processes on one PostgreSQL database, all sending through
 * ONE standalone sandbox process (`npm run sandbox`), one process SIGKILLed midway. Measured at the
 * sandbox: every accept per message id, accepts per calendar second (the per-number cap across processes)
 * and accepts per process (each process calls with its own token; the sandbox counts per token label).
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { grantSize } from '../../src/messages/throughput-limiter.js';
import { SandboxControlClient } from '../../src/sandbox/sandbox-client.js';
import { senderLabel } from '../../src/sandbox/send-stats.js';
import type { WebhookCounts } from '../../src/sandbox/webhook-sender.js';
import { metricValue, parsePrometheus } from '../helpers/prometheus.js';
import {
  countBy,
  enqueueNotifications,
  isAcceptableEnd,
  loadAverage,
  LOAD_API_KEY,
  makeWorkDir,
  prepareDatabase,
  readOutcomes,
  SandboxWatch,
  serverEnv,
  settle,
  splitDuplicates,
  statusCounts,
  waitFor,
  waitForOutboxSettled,
  type DuplicateSplit,
} from './harness.js';
import {
  freePort,
  nicenessOf,
  startSandboxProcess,
  startServerProcess,
  stopAllLoadProcesses,
  type LoadProcess,
} from './processes.js';

export interface ScaleOutOptions {
  messages: number;
  processes: number;
  recipients?: number;
  /** WHATSAPP_MAX_MPS, shared by all processes through PostgreSQL; the sandbox itself is uncapped. */
  maxMps: number;
  leaseMs: number;
  retryBaseMs?: number;
  requestTimeoutMs?: number;
  /** SIGKILL one process once the sandbox has accepted this share of the messages (after enqueueing). */
  killAtShare?: number;
  /**
   * The sandbox's nice value (default -10): it stands in for Meta's servers, which do not share a CPU
   * with the senders, so it runs ahead of them; without the right to raise a priority it runs at 0.
   */
  sandboxNiceness?: number;
  timeoutMs?: number;
  log?: (line: string) => void;
}

export interface ProcessShare {
  name: string;
  pid: number;
  killed: boolean;
  accepted: number;
}

export interface ScaleOutReport {
  options: Omit<ScaleOutOptions, 'log'>;
  machine: string;
  enqueueSeconds: number;
  /** Notify requests sent again to another process because theirs died (same Idempotency-Key). */
  failovers: number;
  drainSeconds: number;
  statuses: Record<string, number>;
  badEnds: number;
  badEndIds: string[];
  /** Accepted by the sandbox when the kill came (of `messages`). */
  acceptedAtKill: number;
  /** Rows the killed process held (status `sending`, its lease) at the kill. */
  inFlightAtKill: number;
  leaseExpiredEvents: number;
  duplicates: DuplicateSplit;
  shares: ProcessShare[];
  /** Highest accepted count in one calendar second, whole run (sandbox), and the allowance checked. */
  maxPerSecond: number;
  capAllowance: number;
  /** Calendar seconds above the cap, and the most accepted in any two consecutive seconds. */
  secondsOverCap: number;
  /** Sends that could not start within their throughput slot and took a new one (surviving processes). */
  lateStarts: number;
  maxPerTwoSeconds: number;
  /** Full seconds at the cap (≥ 95 % of it), of the seconds the run took. */
  secondsNearCap: number;
  secondsMeasured: number;
  /** Accepted per second over the full seconds from the first request until drained. */
  meanPerSecond: number;
  /** Nice values in effect (null: could not be read): the sandbox's (by itself), the servers', this process's. */
  niceness: { sandbox: number | null; servers: (number | null)[]; harness: number | null };
  /** The sandbox's event-loop lag over the run (null if it did not report it). */
  sandboxLag: SandboxLag | null;
  /** The sandbox's status webhooks to the first process: outcomes, POSTs, statuses delivered. */
  webhooks: WebhookCounts | null;
}

export interface SandboxLag {
  resolutionMs: number;
  maxMs: number;
  p99Ms: number;
  meanMs: number;
  /** Calendar seconds in which the sandbox's event loop ran a timer more than 50 ms late. */
  secondsOver50Ms: number;
  /** The longest lag in each second above the cap and the second before it (a stall there counts late). */
  overCapSeconds: { second: number; accepted: number; lagMs: number; lagBeforeMs: number }[];
}

/** A counter's value summed over the servers' `/metrics` (processes that answer; a dead one counts 0). */
async function sumCounter(urls: readonly string[], name: string): Promise<number> {
  let sum = 0;
  for (const url of urls) {
    const response = await fetch(`${url}/metrics`, { headers: { 'x-api-key': LOAD_API_KEY } }).catch(
      () => null,
    );
    if (response === null || !response.ok) continue;
    sum += metricValue(parsePrometheus(await response.text()), name);
  }
  return sum;
}

export async function runScaleOut(options: ScaleOutOptions): Promise<ScaleOutReport> {
  const log = options.log ?? (() => undefined);
  const work = makeWorkDir();
  const database = await prepareDatabase('postgres', work.dir);
  const appSecret = randomBytes(16).toString('hex');
  const tokens = Array.from({ length: options.processes }, () => randomBytes(16).toString('hex'));
  const ports = await Promise.all(Array.from({ length: options.processes }, () => freePort()));
  const sandboxPort = await freePort();
  const killIndex = options.processes - 1;
  let watch: SandboxWatch | null = null;
  try {
    // Webhooks go to the first process, which is never killed (any process would do: one database).
    const sandbox = await startSandboxProcess({
      name: 'sandbox',
      port: sandboxPort,
      niceness: options.sandboxNiceness ?? -10,
      logFile: path.join(work.dir, 'sandbox.log'),
      env: {
        SANDBOX_TOKENS: tokens.join(','),
        SANDBOX_MAX_MPS: '0',
        SANDBOX_WEBHOOK_URL: `http://127.0.0.1:${ports[0]}/api/whatsapp/webhook`,
        SANDBOX_APP_SECRET: appSecret,
        // ~3 statuses per message at the cap: batched as Meta does under load (up to 100 per POST, 200 ms
        // to fill, 4 lanes), so posting them does not starve the counting and every one arrives.
        SANDBOX_WEBHOOK_BATCH: '100',
        SANDBOX_WEBHOOK_BATCH_MS: '200',
        SANDBOX_WEBHOOK_CONCURRENCY: '4',
      },
    });
    const control = new SandboxControlClient(sandbox.url);
    const servers: LoadProcess[] = await Promise.all(
      tokens.map((token, index) =>
        startServerProcess({
          name: `server-${index + 1}`,
          port: ports[index] ?? 0,
          logFile: path.join(work.dir, `server-${index + 1}.log`),
          env: serverEnv({
            sandboxUrl: sandbox.url,
            token,
            appSecret,
            database,
            dispatch: {
              maxMps: options.maxMps,
              retryBaseMs: options.retryBaseMs ?? 1000,
              maxAttempts: 10,
              requestTimeoutMs: options.requestTimeoutMs ?? 5000,
              leaseMs: options.leaseMs,
            },
          }),
        }),
      ),
    );
    log(
      `scale-out: ${options.processes} processes (pids ${servers.map((s) => s.pid).join(', ')}), sandbox pid ${sandbox.pid}`,
    );
    const machine = await loadAverage();
    const niceness = {
      sandbox: (await control.stats()).process?.niceness ?? null,
      servers: servers.map((server) => nicenessOf(server.pid)),
      harness: nicenessOf(process.pid),
    };
    await control.resetStats(); // the lag while the servers started is not part of the run
    watch = new SandboxWatch(() => control.stats(), 1000);
    watch.start();
    const startedAt = Date.now();
    const t0 = performance.now();
    // Enqueueing runs while the kill comes: requests to the killed process fail over (same Idempotency-Key).
    const enqueueing = enqueueNotifications(
      servers.map((server) => server.url),
      options.messages,
      { recipients: options.recipients ?? 1000, concurrency: 8 * options.processes, label: 'scale-out' },
    );
    let enqueueFailed = false;
    enqueueing.catch(() => {
      enqueueFailed = true;
    });

    // The kill: once the sandbox has accepted the given share, SIGKILL the last process.
    const victim = servers[killIndex];
    if (victim === undefined) throw new Error('no process to kill');
    const killAt = Math.floor(options.messages * (options.killAtShare ?? 0.5));
    const acceptedAtKill = await waitFor(
      'the sandbox accepted enough to kill midway',
      async () => {
        if (enqueueFailed) await enqueueing; // throws its error
        const stats = await control.stats();
        return stats.accepted >= killAt ? stats.accepted : false;
      },
      options.timeoutMs ?? 600_000,
      250,
    );
    await victim.kill9();
    const held = await database.db.db
      .selectFrom('messages')
      .select('id')
      .where('status', '=', 'sending')
      .where('lease_owner', 'like', `${victim.pid}-%`)
      .execute();
    const heldAtKill = new Set(held.map((row) => row.id));
    log(
      `  SIGKILLed ${victim.name} (pid ${victim.pid}) at ${acceptedAtKill} accepted; it held ${heldAtKill.size} in flight`,
    );
    const { ids, seconds: enqueueSeconds, failovers } = await enqueueing;
    log(`  enqueued ${ids.length} in ${enqueueSeconds.toFixed(1)} s (${failovers} requests failed over)`);

    const settledAt = await waitForOutboxSettled(
      database.db,
      ids.length,
      options.timeoutMs ??
        120_000 + (3000 * options.messages) / Math.max(1, options.maxMps) + options.leaseMs,
    ).catch((error: unknown) => {
      throw new Error(`${String(error)}\n--- ${servers[0]?.name} log ---\n${servers[0]?.logTail() ?? ''}`);
    });
    const endedAt = Date.now();
    log(`  outbox settled after ${((settledAt - t0) / 1000).toFixed(1)} s`);
    await control.webhooksIdle(120_000).catch(() => undefined);
    await settle(async () => JSON.stringify(await statusCounts(database.db)), 1500, 60_000);
    await watch.stop();

    const lateStarts = await sumCounter(
      servers.filter((_, index) => index !== killIndex).map((server) => server.url),
      'khk_whatsapp_late_starts_total',
    );
    const rows = await readOutcomes(database.db);
    const badEnds = rows.filter((row) => !isAcceptableEnd(row) || row.status === 'failed');
    const stats = await control.stats();
    const duplicates = splitDuplicates((await control.duplicates(1_000_000)).duplicates, (id) =>
      heldAtKill.has(id),
    );
    const leaseExpired = await database.db.db
      .selectFrom('message_events')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('status', '=', 'lease_expired')
      .executeTakeFirstOrThrow();
    const secondsSeries: number[] = [];
    for (let second = Math.ceil(startedAt / 1000) + 1; second < Math.floor(endedAt / 1000) - 1; second++) {
      secondsSeries.push(watch.acceptedPerSecond.get(second) ?? 0);
    }
    const lag = stats.process?.eventLoop ?? null;
    const overCap = [...watch.acceptedPerSecond.entries()]
      .filter(([, count]) => count > options.maxMps)
      .sort(([a], [b]) => a - b);
    const report: ScaleOutReport = {
      options,
      niceness,
      webhooks: stats.webhooks,
      sandboxLag:
        lag === null
          ? null
          : {
              resolutionMs: lag.resolutionMs,
              maxMs: lag.maxMs,
              p99Ms: lag.p99Ms,
              meanMs: lag.meanMs,
              secondsOver50Ms: [...watch.lagPerSecond.values()].filter((ms) => ms > 50).length,
              overCapSeconds: overCap.map(([second, accepted]) => ({
                second,
                accepted,
                lagMs: watch?.lagPerSecond.get(second) ?? 0,
                lagBeforeMs: watch?.lagPerSecond.get(second - 1) ?? 0,
              })),
            },
      machine,
      enqueueSeconds,
      failovers,
      drainSeconds: (settledAt - t0) / 1000,
      statuses: countBy(rows, (row) => row.status),
      badEnds: badEnds.length + (ids.length - rows.length),
      badEndIds: badEnds.slice(0, 20).map((row) => `${row.id}:${row.status}:${row.errorCode ?? ''}`),
      acceptedAtKill,
      inFlightAtKill: heldAtKill.size,
      leaseExpiredEvents: Number(leaseExpired.n),
      duplicates,
      shares: servers.map((server, index) => ({
        name: server.name,
        pid: server.pid,
        killed: index === killIndex,
        accepted: stats.acceptedBySender[senderLabel(tokens[index] ?? '')] ?? 0,
      })),
      maxPerSecond: Math.max(stats.maxPerSecond, ...watch.acceptedPerSecond.values()),
      capAllowance: options.maxMps + grantSize(options.maxMps),
      secondsOverCap: overCap.length,
      lateStarts,
      maxPerTwoSeconds: Math.max(
        0,
        ...[...watch.acceptedPerSecond.entries()].map(
          ([second, count]) => count + (watch?.acceptedPerSecond.get(second + 1) ?? 0),
        ),
      ),
      secondsNearCap: secondsSeries.filter((count) => count >= 0.95 * options.maxMps).length,
      secondsMeasured: secondsSeries.length,
      meanPerSecond:
        secondsSeries.length === 0 ? 0 : secondsSeries.reduce((sum, n) => sum + n, 0) / secondsSeries.length,
    };
    await Promise.all(servers.map((server) => server.stop(10_000)));
    await sandbox.stop(5000);
    return report;
  } finally {
    await watch?.stop();
    await stopAllLoadProcesses();
    await database.dispose();
    work.dispose();
  }
}

export function describeScaleOut(report: ScaleOutReport): string[] {
  const { options: o, niceness: n, sandboxLag: lag } = report;
  const d = report.duplicates;
  const nice = (value: number | null): string => (value === null ? 'unknown' : String(value));
  const total = report.shares.reduce((sum, share) => sum + share.accepted, 0);
  return [
    `- Setup: ${o.messages.toLocaleString('en-US')} messages enqueued over HTTP round-robin across ${o.processes} server processes on one PostgreSQL database (fresh schema), one standalone sandbox process (uncapped, so it counts what is really sent); WHATSAPP_MAX_MPS=${o.maxMps} shared through PostgreSQL, DISPATCH_LEASE_MS=${o.leaseMs}; ${report.machine} at the start.`,
    `- Enqueue ${report.enqueueSeconds.toFixed(1)} s (Idempotency-Key per message; ${report.failovers} requests to the killed process sent again to another); drained ${report.drainSeconds.toFixed(1)} s after the first request.`,
    `- SIGKILL of one process (while enqueueing went on) after the sandbox had accepted ${report.acceptedAtKill.toLocaleString('en-US')}; it held ${report.inFlightAtKill} messages in flight (lease_expired events afterwards: ${report.leaseExpiredEvents}).`,
    `- Final statuses: ${JSON.stringify(report.statuses)}; lost, stuck or failed: **${report.badEnds}**.`,
    `- Sent twice: **${d.explained}** extra accepts of messages in flight in the killed process (allowed), **${d.afterLostAnswer}** after a lost answer, **${d.unexplained}** other (must be 0)${d.unexplainedIds.length > 0 ? `: ${d.unexplainedIds.slice(0, 10).join(', ')}` : ''}.`,
    `- Accepted per process (sandbox, by token): ${report.shares
      .map(
        (share) =>
          `${share.name}${share.killed ? ' (killed)' : ''} ${share.accepted.toLocaleString('en-US')} (${total > 0 ? ((100 * share.accepted) / total).toFixed(0) : 0} %)`,
      )
      .join(', ')}.`,
    `- Priorities (nice; lower runs first): sandbox ${nice(n.sandbox)}, servers ${n.servers.map(nice).join(' / ')}, load generator ${nice(n.harness)}.`,
    lag === null
      ? '- Sandbox event-loop lag: not reported.'
      : `- Sandbox event-loop lag (a ${lag.resolutionMs} ms timer, how late it ran; a send arriving meanwhile waits that long to be counted): max ${lag.maxMs.toFixed(1)} ms, p99 ${lag.p99Ms.toFixed(1)} ms, mean ${lag.meanMs.toFixed(2)} ms; ${lag.secondsOver50Ms} seconds with a stall over 50 ms${lag.overCapSeconds.length > 0 ? `; in the seconds above the cap (and the one before): ${lag.overCapSeconds.map((s) => `${s.accepted} accepted, ${s.lagMs.toFixed(0)} ms (${s.lagBeforeMs.toFixed(0)} ms)`).join('; ')}` : ''}.`,
    report.webhooks === null
      ? '- Status webhooks: none.'
      : `- Status webhooks (sandbox → server-1): ${report.webhooks.eventsDelivered.toLocaleString('en-US')} statuses delivered in ${report.webhooks.outcomes.delivered.toLocaleString('en-US')} webhooks (${report.webhooks.posts.toLocaleString('en-US')} POSTs); outcomes ${JSON.stringify(report.webhooks.outcomes)}.`,
    `- Cap: max **${report.maxPerSecond}** accepted in one calendar second (cap ${o.maxMps}; one limiter grant over it = ${report.capAllowance}); ${report.secondsOverCap} seconds above the cap; most in two consecutive seconds **${report.maxPerTwoSeconds}** (2 × cap = ${2 * o.maxMps}); ${report.secondsNearCap} of ${report.secondsMeasured} full seconds at ≥ 95 % of the cap; mean ${report.meanPerSecond.toFixed(1)}/s over them; ${report.lateStarts.toLocaleString('en-US')} sends could not start within their slot and took a new one (surviving processes).`,
  ];
}
