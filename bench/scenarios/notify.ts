/**
 * (a) POST /api/whatsapp/notify with `Prefer: respond-async` at 50 connections against a bare Fastify
 * route on the same machine in the same run (and, to tell the costs apart, the bare route plus only the
 * outbox's durable insert, and notify without the dispatcher); then durability: kill -9 right after the
 * load and count rows against 2xx responses, and kill -9 in the middle of a load and look up every
 * 202's id.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Instance } from 'autocannon';
import { cpuMeter, startServerChild } from '../lib/children.js';
import {
  awaitQuiet,
  BENCH_API_KEY,
  startBenchSandbox,
  startBenchServer,
  type BenchContext,
  type Figure,
  type ScenarioReport,
} from '../lib/context.js';
import { runLoad, type LoadResult } from '../lib/load.js';
import { cores, loadMeter, type LoadSample } from '../lib/system-load.js';
import { fmt, fmtInt, median, sleep } from '../lib/util.js';

export const id = 'notify';
export const title = '(a) POST /api/whatsapp/notify (Prefer: respond-async) vs a bare Fastify route';

const CONNECTIONS = 50;
const BODY = JSON.stringify({
  to: '310 305 5424',
  message: 'Nuevo ticket #1234: fuga de agua en el baño, Calle 10 # 5-20.',
});

interface Measured {
  result: LoadResult;
  /** Server CPU ms per response. */
  cpuMs: number;
  cpuPercent: number;
  load: LoadSample;
  warmup2xx: number;
}

/** A load run's options but its length (measure() runs a warm-up and the measured run). */
type LoadSpec = Omit<Parameters<typeof runLoad>[0], 'durationSec'>;

/** Warm-up, a (bounded) wait for a quiet machine, then the measured run with CPU meters around it. */
async function measure(ctx: BenchContext, pid: number, load: LoadSpec): Promise<Measured> {
  const warm = await runLoad({ ...load, durationSec: ctx.quick ? 2 : 3 });
  await awaitQuiet(ctx);
  const meter = cpuMeter(pid);
  const machine = loadMeter();
  const result = await runLoad({ ...load, durationSec: ctx.quick ? 4 : 10 });
  const cpu = meter();
  return {
    result,
    cpuMs: (1000 * cpu.cpuSeconds) / Math.max(1, result.completed),
    cpuPercent: cpu.percent,
    load: machine(),
    warmup2xx: warm.count2xx,
  };
}

/** The same body and connections to a route that needs no headers (the bare and floor servers). */
function plainLoad(url: string, route: string): LoadSpec {
  return { url, path: route, connections: CONNECTIONS, headers: {}, body: BODY };
}

function notifyLoad(url: string): LoadSpec {
  return {
    url,
    path: '/api/whatsapp/notify',
    connections: CONNECTIONS,
    headers: { 'x-api-key': BENCH_API_KEY, prefer: 'respond-async' },
    body: BODY,
  };
}

/**
 * Rounds of bare → notify → notify without the dispatcher. This machine's speed drifts by up to 3× over
 * minutes (BENCHMARKS.md): one bare run and one notify run a minute apart compared the host's moods as
 * much as the code. Each round compares runs seconds apart, and the median round is reported.
 */
const ROUNDS = 3;

interface Round {
  bare: Measured;
  /** Bare Fastify + the outbox's group-committed insert, nothing else (bench/outbox-serve.ts). */
  floor: Measured;
  notify: Measured;
  requestPathOnly: Measured;
  /** Rows after a kill -9 right after the notify run, against its 2xx (warm-up + run). */
  rows: number;
  rowsByStatus: Record<string, number>;
}

export async function run(ctx: BenchContext): Promise<ScenarioReport> {
  const started = performance.now();
  const notes: string[] = [];
  const rounds: Round[] = [];
  const roundCount = ctx.quick ? 1 : ROUNDS;

  // Baseline: bare Fastify in its own child process, same body and connections.
  const bareChild = await startServerChild({
    script: ctx.build.bareScript,
    env: { NODE_ENV: 'production' },
    cwd: ctx.workDir,
    logFile: path.join(ctx.workDir, 'bare.log'),
  });
  // The service, production-like: SQLite default, dispatcher started at 80/s against the sandbox.
  const sandbox = await startBenchSandbox({ maxMps: 80 });
  let durability: { received202: number; found: number; killedAtMs: number; rows: number } | null = null;
  try {
    for (let round = 1; round <= roundCount; round++) {
      ctx.log(`  round ${round} of ${roundCount}: bare Fastify route`);
      const bare = await measure(ctx, bareChild.pid, plainLoad(bareChild.url, '/bare'));
      ctx.log(`    ${fmtInt(bare.result.requestsPerSec)} req/s, p99 ${bare.result.latencyP99} ms`);

      ctx.log('  diagnostic: bare Fastify + the outbox insert (group commit), nothing else');
      const floorDir = path.join(ctx.workDir, `floor-${round}`);
      mkdirSync(floorDir, { recursive: true });
      const floorChild = await startServerChild({
        script: ctx.build.outboxScript,
        env: { NODE_ENV: 'production' },
        cwd: floorDir,
        logFile: path.join(floorDir, 'server.log'),
      });
      let floor: Measured;
      try {
        floor = await measure(ctx, floorChild.pid, plainLoad(floorChild.url, '/floor'));
      } finally {
        await floorChild.kill9();
      }
      ctx.log(`    ${fmtInt(floor.result.requestsPerSec)} req/s, p99 ${floor.result.latencyP99} ms`);

      ctx.log('  notify (SQLite, dispatcher running at the default 80/s)');
      const server = await startBenchServer(ctx, {
        name: `notify-${round}`,
        dialect: 'sqlite',
        sandbox,
        maxMps: 80,
        startDispatcher: true,
      });
      let notify: Measured;
      let rowsByStatus: Record<string, number>;
      try {
        notify = await measure(ctx, server.child.pid, notifyLoad(server.child.url));
        // kill -9 right after the load: whatever got a 2xx must already be committed.
        if (ctx.profileDir === null) await server.child.kill9();
        rowsByStatus = await server.probe().countByStatus();
      } finally {
        await server.dispose();
      }
      ctx.log(`    ${fmtInt(notify.result.requestsPerSec)} req/s, p99 ${notify.result.latencyP99} ms`);

      // Diagnostic: the same with the dispatcher not started, to separate the request path's cost.
      ctx.log('  diagnostic: notify with the dispatcher not started');
      const quiet = await startBenchServer(ctx, {
        name: `notify-nodispatch-${round}`,
        dialect: 'sqlite',
        sandbox,
        maxMps: 80,
        startDispatcher: false,
      });
      let requestPathOnly: Measured;
      try {
        requestPathOnly = await measure(ctx, quiet.child.pid, notifyLoad(quiet.child.url));
      } finally {
        await quiet.dispose();
      }
      ctx.log(
        `    ${fmtInt(requestPathOnly.result.requestsPerSec)} req/s, p99 ${requestPathOnly.result.latencyP99} ms`,
      );
      const rows = Object.values(rowsByStatus).reduce((a, b) => a + b, 0);
      rounds.push({ bare, floor, notify, requestPathOnly, rows, rowsByStatus });
    }

    // kill -9 while 50 connections are mid-request; every 202 id must be in the database afterwards.
    if (ctx.profileDir === null) durability = await killDuringLoad(ctx, sandbox);
  } finally {
    await sandbox.close();
    await bareChild.kill9();
  }

  const ratios = rounds.map((r) => r.notify.result.requestsPerSec / r.bare.result.requestsPerSec);
  const quietRatios = rounds.map(
    (r) => r.requestPathOnly.result.requestsPerSec / r.bare.result.requestsPerSec,
  );
  const floorRatios = rounds.map((r) => r.floor.result.requestsPerSec / r.bare.result.requestsPerSec);
  const ratio = median(ratios);
  // The round whose ratio is the median gives the other figures, so they belong together.
  const middle = rounds[ratios.indexOf(ratio)] ?? rounds[0];
  if (middle === undefined) throw new Error('no round was measured');
  const { bare, floor, notify, requestPathOnly, rowsByStatus: rowsAfterKill } = middle;
  const notifyP99s = rounds.map((r) => r.notify.result.latencyP99);
  const worstP99 = Math.max(...notifyP99s);
  const totalRows = middle.rows;
  const total2xx = notify.warmup2xx + notify.result.count2xx;
  const everyRoundDurable = rounds.every((r) => r.rows >= r.notify.warmup2xx + r.notify.result.count2xx);
  const both = Math.max(bare.load.otherCores, notify.load.otherCores);
  const figures: Figure[] = [
    {
      label: 'bare Fastify route: req/s',
      value: fmtInt(bare.result.requestsPerSec),
      othersCpu: bare.load.otherCores,
    },
    {
      label: 'bare Fastify route: p50 / p99 latency',
      value: `${bare.result.latencyP50} / ${bare.result.latencyP99} ms`,
      othersCpu: bare.load.otherCores,
    },
    {
      label: 'bare Fastify route: server CPU per request',
      value: `${fmt(bare.cpuMs, 3)} ms (${fmtInt(bare.cpuPercent)} % of a core)`,
      othersCpu: bare.load.otherCores,
    },
    {
      label: 'notify: req/s',
      value: fmtInt(notify.result.requestsPerSec),
      othersCpu: notify.load.otherCores,
    },
    {
      label: `notify ÷ bare req/s (median of ${rounds.length} rounds: ${ratios.map((r) => fmt(r, 2)).join(', ')})`,
      value: fmt(ratio, 2),
      goal: '≥ 0.50',
      met: ratio >= 0.5,
      othersCpu: both,
    },
    {
      label: `notify: p50 / p99 latency (p99 of every round: ${notifyP99s.join(', ')} ms)`,
      value: `${notify.result.latencyP50} / ${notify.result.latencyP99} ms`,
      goal: 'p99 ≤ 20 ms',
      met: notify.result.latencyP99 <= 20,
      othersCpu: notify.load.otherCores,
    },
    {
      label: 'notify: server CPU per request (dispatcher included)',
      value: `${fmt(notify.cpuMs, 3)} ms (${fmtInt(notify.cpuPercent)} % of a core) = ${fmt(notify.cpuMs / bare.cpuMs, 1)} × bare`,
      othersCpu: notify.load.otherCores,
    },
    {
      label: 'notify: responses (measured run)',
      value: statusLine(notify.result),
      goal: 'all 202',
      met: notify.result.non2xx === 0 && notify.result.errors === 0 && notify.result.count2xx > 0,
    },
    {
      label: 'durability, kill -9 right after the load: rows vs 2xx (warm-up + run)',
      value: `${fmtInt(totalRows)} rows ≥ ${fmtInt(total2xx)} 2xx${rounds.length > 1 ? ` (and in each of the ${rounds.length} rounds: ${everyRoundDurable ? 'yes' : 'no'})` : ''}`,
      goal: 'rows ≥ 2xx',
      met: totalRows >= total2xx && everyRoundDurable,
    },
  ];
  if (durability !== null) {
    figures.push({
      label: `durability, kill -9 ${fmtInt(durability.killedAtMs)} ms into a load: 202 ids found in the database`,
      value: `${fmtInt(durability.found)} of ${fmtInt(durability.received202)} (${fmtInt(durability.rows)} rows)`,
      goal: 'all',
      met: durability.received202 > 0 && durability.found === durability.received202,
    });
  }
  figures.push(
    ...diagnosticFigures('bare Fastify + the outbox insert only', 'req/s', floor, floorRatios, bare),
    ...diagnosticFigures('dispatcher not started', 'notify req/s', requestPathOnly, quietRatios, bare),
  );
  notes.push(
    `CPU per request = the server process's user+system CPU over the measured run (/proc/PID/stat) ÷ responses. It depends little on contention: one uncontended core would give notify about ${fmtInt(1000 / notify.cpuMs)} req/s (${fmtInt(1000 / requestPathOnly.cpuMs)} without the dispatcher) and the bare route ${fmtInt(1000 / bare.cpuMs)} req/s.`,
    `With ${CONNECTIONS} closed-loop connections, mean latency ≈ ${CONNECTIONS} ÷ throughput (Little's law): p99 ≤ 20 ms needs well over ${fmtInt(CONNECTIONS / 0.02)} req/s.`,
    `Bench processes (load generator, sandbox, server) used ${fmt(notify.load.ownCores, 2)} cores during the notify run and ${fmt(bare.load.ownCores, 2)} during the bare run, of ${cores()}.`,
    `Rows by status right after the kill: ${JSON.stringify(rowsAfterKill)}.`,
    `Worst notify p99 of the rounds: ${worstP99} ms. The figures above are those of the median round.`,
  );
  if (ctx.profileDir !== null)
    notes.push('Profiling run: the server was closed gracefully, so the kill -9 checks were skipped.');

  return {
    id,
    title,
    ran: [
      `autocannon programmatic API in the orchestrator process, ${CONNECTIONS} connections, pipelining 1, a ${ctx.quick ? 2 : 3} s warm-up then a ${ctx.quick ? 4 : 10} s measured run against each target; same JSON body (${BODY.length} bytes) to both.`,
      `${rounds.length} round(s) of bare → bare + outbox insert → notify → notify without the dispatcher, each on a fresh server; the ratio reported is the median round's (this machine's speed drifts over minutes, so runs seconds apart are compared, not runs a minute apart).`,
      'Bare route: `Fastify()` with one `POST /bare` → `{ok:true}` in its own child process.',
      'Service: `bench/serve.ts` compiled with tsc and run with `node` in a child process (what `main.ts` does: buildApp from the environment, listen, start the dispatcher); NODE_ENV=production, LOG_LEVEL=warn (JSON to a log file), embedded SQLite in a fresh DATA_DIR, API key auth on, rate-limit hook on with RATE_LIMIT_MAX=1e9 so it never refuses the one bench key.',
      'Dispatcher started as in production (WHATSAPP_MAX_MPS=80, DISPATCH_CONCURRENCY=64), cloud mode pointed at the sandbox (cap 80/s) running in the orchestrator process: the backlog grows while the dispatcher drains 80/s, as in a real burst.',
      'Durability: SIGKILL of the server right after the run, then the SQLite file opened from the orchestrator (WAL recovery as on restart) and rows counted; then a fresh server, a load whose 202 bodies are collected, SIGKILL mid-load, and every 202 id looked up.',
      'Diagnostic (no goal): the same notify measurement on a fresh server whose dispatcher is not started, to tell the request path from the dispatcher.',
      'Diagnostic (no goal), the floor: `bench/outbox-serve.ts`, the bare route plus `Outbox.enqueue` (the group-committed SQLite insert notify makes) and a 202 with the id; no API key, rate limit, validation, phone parsing, metrics, logging, security headers or dispatcher. bare ÷ floor is what the durable write costs on this machine; floor ÷ notify is what the rest of the service costs.',
    ],
    figures,
    notes,
    seconds: (performance.now() - started) / 1000,
  };
}

/**
 * A diagnostic server's req/s (÷ bare, with every round's ratio), latency and CPU per request: no goals.
 * `rateLabel` names the rate (`req/s`, or `notify req/s` where the server is the service itself).
 */
function diagnosticFigures(
  name: string,
  rateLabel: string,
  measured: Measured,
  ratios: number[],
  bare: Measured,
): Figure[] {
  const { result, cpuMs, load } = measured;
  return [
    {
      label: `diagnostic, ${name}: ${rateLabel} (÷ bare; every round: ${ratios.map((r) => fmt(r, 2)).join(', ')})`,
      value: `${fmtInt(result.requestsPerSec)} (${fmt(result.requestsPerSec / bare.result.requestsPerSec, 2)})`,
      othersCpu: load.otherCores,
    },
    {
      label: `diagnostic, ${name}: p50 / p99 latency`,
      value: `${result.latencyP50} / ${result.latencyP99} ms`,
      othersCpu: load.otherCores,
    },
    {
      label: `diagnostic, ${name}: server CPU per request`,
      value: `${fmt(cpuMs, 3)} ms = ${fmt(cpuMs / bare.cpuMs, 1)} × bare`,
      othersCpu: load.otherCores,
    },
  ];
}

function statusLine(result: LoadResult): string {
  const codes = Object.entries(result.statusCodes)
    .map(([code, count]) => `${fmtInt(count)}×${code}`)
    .join(', ');
  return `${codes || 'none'}; ${result.errors} errors, ${result.timeouts} timeouts`;
}

async function killDuringLoad(
  ctx: BenchContext,
  sandbox: Awaited<ReturnType<typeof startBenchSandbox>>,
): Promise<{ received202: number; found: number; killedAtMs: number; rows: number }> {
  ctx.log('  durability: kill -9 in the middle of a load');
  const server = await startBenchServer(ctx, {
    name: 'notify-kill',
    dialect: 'sqlite',
    sandbox,
    maxMps: 80,
    startDispatcher: true,
  });
  const ids: string[] = [];
  const killAfterMs = ctx.quick ? 1500 : 3000;
  try {
    let instance: Instance | null = null;
    const loadDone = runLoad({
      ...notifyLoad(server.child.url),
      durationSec: killAfterMs / 1000 + 5,
      onStart: (started) => {
        instance = started;
      },
      onResponse: (status, body) => {
        if (status !== 202) return;
        const parsed = JSON.parse(body) as { data?: { id?: string } };
        if (typeof parsed.data?.id === 'string') ids.push(parsed.data.id);
      },
    });
    await sleep(killAfterMs);
    await server.child.kill9();
    // Stop the load generator (its reconnects would only fail). Every 202 that reached us, even one
    // parsed after the kill, was sent by the server before it died.
    (instance as Instance | null)?.stop();
    await loadDone;
    const received = ids.length;
    const found = await server.probe().countExisting(ids.slice(0, received));
    const rows = Object.values(await server.probe().countByStatus()).reduce((a, b) => a + b, 0);
    return { received202: received, found, killedAtMs: killAfterMs, rows };
  } finally {
    await server.dispose();
  }
}
