import type { SandboxStats } from '../../src/sandbox/sandbox-state.js';
import { cpuMeter } from './children.js';
import {
  awaitQuiet,
  startBenchSandbox,
  startBenchServer,
  type BenchContext,
  type Dialect,
} from './context.js';
import { loadMeter, type LoadSample } from './system-load.js';
import { fmtInt, pollUntil, sleep } from './util.js';

export interface DispatchRunOptions {
  name: string;
  dialect: Dialect;
  /** WHATSAPP_MAX_MPS of the server (0 = no cap). */
  maxMps: number;
  /** DISPATCH_CONCURRENCY; undefined = the default (64). */
  concurrency?: number;
  /** Graph latency the sandbox adds to every answer. */
  latencyMs?: number;
  /** Messages queued (through Outbox.enqueue) before the dispatcher starts. */
  count: number;
  /** Distinct recipients the messages are spread over. */
  spread: number;
  /** 'all-sent': time until every message is `sent`; a number: observe for that many ms and stop. */
  until: 'all-sent' | number;
  timeoutMs: number;
}

export interface DispatchRunResult {
  count: number;
  prefillMs: number;
  /** From the start message to the dispatcher until the last row read `sent` (or the observation end). */
  elapsedMs: number;
  sent: number;
  /** sent ÷ elapsed. */
  rate: number;
  /** Accepted by the sandbox between its first and last accept ÷ that span. */
  sandboxRate: number;
  statusCounts: Record<string, number>;
  sandboxStats: SandboxStats;
  /** Time of every accept at the sandbox (ms since the epoch), in order. */
  acceptTimes: number[];
  serverCpuPercent: number;
  orchestratorCpuPercent: number;
  /** Server CPU milliseconds per message sent. */
  serverCpuMsPerMessage: number;
  machine: LoadSample;
  server: { pid: number; logFile: string };
}

/**
 * Pre-fills the outbox in a server child whose dispatcher is stopped, starts a sandbox in this
 * process, then starts the dispatcher and polls the database (a separate connection, every 50 ms)
 * until all messages are sent, or watches for a fixed time.
 */
export async function dispatchRun(
  ctx: BenchContext,
  options: DispatchRunOptions,
): Promise<DispatchRunResult> {
  const sandbox = await startBenchSandbox({ latencyMs: options.latencyMs ?? 0, maxMps: 0 });
  const acceptTimes: number[] = [];
  const unsubscribe = sandbox.running.state.onMessage(() => {
    acceptTimes.push(Date.now());
  });
  try {
    const server = await startBenchServer(ctx, {
      name: options.name,
      dialect: options.dialect,
      sandbox,
      maxMps: options.maxMps,
      ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
      startDispatcher: false,
    });
    try {
      server.child.send({ type: 'prefill', count: options.count, spread: options.spread });
      const prefilled = await server.child.next('prefilled', 60_000 + options.count * 2);
      const queued = await server.probe().countStatus('queued');
      if (queued !== options.count)
        throw new Error(`expected ${options.count} queued messages, found ${queued}`);
      ctx.log(`    pre-filled ${fmtInt(options.count)} messages in ${fmtInt(prefilled.ms)} ms`);
      await sleep(500); // let the prefill's garbage settle before timing
      await awaitQuiet(ctx);

      const machine = loadMeter();
      const serverCpu = cpuMeter(server.child.pid);
      const ownCpu0 = process.cpuUsage();
      const t0 = performance.now();
      server.child.send({ type: 'start' });
      await server.child.next('started', 10_000);
      const probe = server.probe();
      let sent = 0;
      if (options.until === 'all-sent') {
        sent = await pollUntil(
          `${options.name}: all ${options.count} sent`,
          async () => {
            const n = await probe.countStatus('sent');
            return n >= options.count ? n : undefined;
          },
          { timeoutMs: options.timeoutMs, intervalMs: 50 },
        );
      } else {
        await sleep(options.until);
        sent = await probe.countStatus('sent');
      }
      const elapsedMs = performance.now() - t0;
      const cpu = serverCpu();
      const machineLoad = machine();
      const ownCpu = process.cpuUsage(ownCpu0);
      const statusCounts = await probe.countByStatus();
      const sandboxStats = sandbox.running.state.stats();
      const first = acceptTimes[0] ?? 0;
      const last = acceptTimes.at(-1) ?? 0;
      return {
        count: options.count,
        prefillMs: prefilled.ms,
        elapsedMs,
        sent,
        rate: sent / (elapsedMs / 1000),
        sandboxRate: last > first ? (acceptTimes.length - 1) / ((last - first) / 1000) : 0,
        statusCounts,
        sandboxStats,
        acceptTimes: [...acceptTimes],
        serverCpuPercent: cpu.percent,
        orchestratorCpuPercent: (100 * (ownCpu.user + ownCpu.system)) / 1000 / elapsedMs,
        serverCpuMsPerMessage: (1000 * cpu.cpuSeconds) / Math.max(1, sent),
        machine: machineLoad,
        server: { pid: server.child.pid, logFile: server.child.logFile },
      };
    } finally {
      await server.dispose();
    }
  } finally {
    unsubscribe();
    await sandbox.close();
  }
}
