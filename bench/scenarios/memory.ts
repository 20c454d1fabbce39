/**
 * (e) RSS of the server process: idle after start (≤ 120 MB), and holding 100,000 queued messages
 * (≤ 250 MB) — both for the process that accepted them through notify with its dispatcher stopped,
 * and for a fresh process started over that database.
 */
import { readRss, type ServerChild } from '../lib/children.js';
import {
  BENCH_API_KEY,
  startBenchSandbox,
  startBenchServer,
  type BenchContext,
  type BenchServer,
  type Figure,
  type ScenarioReport,
} from '../lib/context.js';
import { runLoad } from '../lib/load.js';
import { fmtInt, mb, sleep } from '../lib/util.js';

export const id = 'memory';
export const title = '(e) Server RSS: idle, and with 100,000 queued messages';

const MB = 1024 * 1024;
const IDLE_GOAL = 120 * MB;
const QUEUED_GOAL = 250 * MB;

export async function run(ctx: BenchContext): Promise<ScenarioReport> {
  const started = performance.now();
  const settleMs = ctx.quick ? 2000 : 5000;
  const queued = ctx.quick ? 20_000 : 100_000;
  const figures: Figure[] = [];
  const notes: string[] = [];
  const sandbox = await startBenchSandbox({ maxMps: 80 });
  try {
    // 1. Idle, production-like: dispatcher started, nothing to send.
    ctx.log('  idle server');
    const idle = await startBenchServer(ctx, {
      name: 'rss-idle',
      dialect: 'sqlite',
      sandbox,
      maxMps: 80,
      startDispatcher: true,
    });
    let idleRss: ReturnType<typeof readRss>;
    try {
      await sleep(settleMs);
      idleRss = readRss(idle.child.pid);
      notes.push(`Idle: ${await heapLine(idle.child)}.`);
    } finally {
      await idle.dispose();
    }
    ctx.log(`    ${mb(idleRss.rss)}`);
    figures.push({
      label: `idle, ${settleMs / 1000} s after start (dispatcher running, nothing queued)`,
      value: `${mb(idleRss.rss)} (peak ${mb(idleRss.peak)})`,
      goal: '≤ 120 MB',
      met: idleRss.rss <= IDLE_GOAL,
    });

    // 2. 100,000 notify requests with the dispatcher stopped: they all stay queued.
    ctx.log(`  ${fmtInt(queued)} notify requests, dispatcher not started`);
    const filler = await startBenchServer(ctx, {
      name: 'rss-queued',
      dialect: 'sqlite',
      sandbox,
      maxMps: 80,
      startDispatcher: false,
    });
    let afterFill: ReturnType<typeof readRss>;
    let beforeFill: ReturnType<typeof readRss>;
    let fillSeconds = 0;
    let accepted = 0;
    try {
      await sleep(1000);
      beforeFill = readRss(filler.child.pid);
      const t0 = performance.now();
      const load = await runLoad({
        url: filler.child.url,
        path: '/api/whatsapp/notify',
        connections: 50,
        amount: queued,
        maxSec: 600,
        headers: { 'x-api-key': BENCH_API_KEY, prefer: 'respond-async' },
        body: JSON.stringify({
          to: '3103055424',
          message: 'Nuevo ticket: revisar la caldera del apartamento 301.',
        }),
      });
      fillSeconds = (performance.now() - t0) / 1000;
      accepted = load.count2xx;
      await sleep(settleMs);
      afterFill = readRss(filler.child.pid);
      notes.push(`After the fill: ${await heapLine(filler.child)}.`);
      const counts = await filler.probe().countByStatus();
      notes.push(
        `Fill: ${fmtInt(accepted)} × 2xx of ${fmtInt(load.completed)} responses in ${fillSeconds.toFixed(1)} s; rows by status afterwards: ${JSON.stringify(counts)}. RSS before the fill ${mb(beforeFill.rss)}.`,
      );
      figures.push({
        label: `the process that accepted ${fmtInt(queued)} notify requests, ${settleMs / 1000} s after the last`,
        value: `${mb(afterFill.rss)} (peak ${mb(afterFill.peak)})`,
        goal: '≤ 250 MB',
        met: afterFill.rss <= QUEUED_GOAL && (counts.queued ?? 0) >= queued,
      });
    } finally {
      await filler.dispose();
    }
    ctx.log(`    ${mb(afterFill.rss)} (peak ${mb(afterFill.peak)})`);

    // 3. A fresh process over the same database (e.g. after a restart while WhatsApp is down).
    ctx.log('  fresh server over the same database');
    let restarted: BenchServer | null = null;
    try {
      restarted = await startBenchServer(ctx, {
        name: 'rss-restart',
        dialect: 'sqlite',
        sandbox,
        maxMps: 80,
        startDispatcher: false,
        dataDir: filler.dataDir,
      });
      await sleep(settleMs);
      const rss = readRss(restarted.child.pid);
      notes.push(`Fresh process over the filled database: ${await heapLine(restarted.child)}.`);
      const stillQueued = await restarted.probe().countStatus('queued');
      ctx.log(`    ${mb(rss.rss)}`);
      figures.push({
        label: `a fresh process over that database (${fmtInt(stillQueued)} queued), ${settleMs / 1000} s after start`,
        value: `${mb(rss.rss)} (peak ${mb(rss.peak)})`,
        goal: '≤ 250 MB',
        met: rss.rss <= QUEUED_GOAL && stillQueued >= queued,
      });
    } finally {
      await restarted?.dispose();
    }
  } finally {
    await sandbox.close();
  }
  return {
    id,
    title,
    ran: [
      'RSS = VmRSS from /proc/PID/status of the server child (compiled `bench/serve.ts` on plain `node`, NODE_ENV=production, LOG_LEVEL=warn, SQLite, cloud mode pointed at the sandbox); peak = VmHWM.',
      `Idle: dispatcher started as in production, ${settleMs / 1000} s after the ready message, no traffic. Like \`main.ts\`, the server runs one low-memory GC once it is up (src/shared/release-startup-memory.ts); the peak (VmHWM) shows the RSS before it.`,
      `Queued: a server whose dispatcher is not started takes ${fmtInt(queued)} \`POST /api/whatsapp/notify\` (Prefer: respond-async, autocannon, 50 connections); RSS read ${settleMs / 1000} s after the last response. Then that process is killed and a fresh one started over the same SQLite file.`,
    ],
    figures,
    notes,
    seconds: (performance.now() - started) / 1000,
  };
}

/** The V8 side of RSS, from the child's process.memoryUsage(). */
async function heapLine(child: ServerChild): Promise<string> {
  child.send({ type: 'memory' });
  const { usage } = await child.next('memory', 10_000);
  return `V8 heap used ${mb(usage.heapUsed)} of ${mb(usage.heapTotal)}, external ${mb(usage.external)} (array buffers ${mb(usage.arrayBuffers)}), RSS ${mb(usage.rss)}`;
}
