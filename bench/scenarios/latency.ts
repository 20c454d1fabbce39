/**
 * (d) 200 ms Graph latency, cap lifted: msg/s at several DISPATCH_CONCURRENCY values, the default
 * (64, theoretical ceiling 64 / 0.2 s = 320/s) included, to find what reaches 500 msg/s.
 */
import type { BenchContext, Figure, ScenarioReport } from '../lib/context.js';
import { dispatchRun } from '../lib/dispatch-run.js';
import { errorText, fmt, fmtInt } from '../lib/util.js';
import { CONFIG_VARIABLES } from '../../src/config/config-schema.js';

export const id = 'latency';
export const title = '(d) 200 ms Graph latency, cap lifted: DISPATCH_CONCURRENCY needed for 500 msg/s';

const LATENCY_MS = 200;
const GOAL = 500;

export async function run(ctx: BenchContext): Promise<ScenarioReport> {
  const started = performance.now();
  const count = ctx.quick ? 1500 : 6000;
  const concurrencies = ctx.quick ? [64, 256] : [64, 128, 256];
  const figures: Figure[] = [];
  const notes: string[] = [];
  let needed: number | null = null;
  for (const concurrency of concurrencies) {
    ctx.log(`  concurrency ${concurrency}: ${fmtInt(count)} messages`);
    const ceiling = concurrency / (LATENCY_MS / 1000);
    try {
      const result = await dispatchRun(ctx, {
        name: `latency-c${concurrency}`,
        dialect: 'sqlite',
        maxMps: 0,
        concurrency,
        latencyMs: LATENCY_MS,
        count,
        spread: 1000,
        until: 'all-sent',
        timeoutMs: 240_000,
      });
      ctx.log(`    ${fmtInt(result.rate)} msg/s`);
      const isMet = result.rate >= GOAL && (result.statusCounts.sent ?? 0) === count;
      if (isMet && needed === null) needed = concurrency;
      // The goal is the default's; other values are measured to show the curve.
      const isDefault = String(concurrency) === CONFIG_VARIABLES.DISPATCH_CONCURRENCY.default;
      figures.push({
        label: `DISPATCH_CONCURRENCY=${concurrency}${isDefault ? ' (default)' : ''}: msg/s (ceiling ${fmtInt(ceiling)})`,
        value: `${fmtInt(result.rate)} (${fmt((100 * result.rate) / ceiling, 0)} % of ceiling)`,
        ...(isDefault ? { goal: `≥ ${GOAL} msg/s`, met: isMet } : {}),
        othersCpu: result.machine.otherCores,
      });
      notes.push(
        `concurrency ${concurrency}: ${fmtInt(count)} in ${fmt(result.elapsedMs / 1000, 2)} s, sandbox-side ${fmtInt(result.sandboxRate)} msg/s, ` +
          `server CPU ${fmtInt(result.serverCpuPercent)} % (${fmt(result.serverCpuMsPerMessage, 3)} ms per message), statuses ${JSON.stringify(result.statusCounts)}, duplicates ${result.sandboxStats.duplicateAccepts}.`,
      );
    } catch (error) {
      figures.push({
        label: `DISPATCH_CONCURRENCY=${concurrency}: msg/s`,
        value: 'run failed',
        goal: `≥ ${GOAL} msg/s`,
        met: false,
      });
      notes.push(`concurrency ${concurrency} failed: ${errorText(error)}`);
    }
  }
  figures.push({
    label: 'smallest tested DISPATCH_CONCURRENCY reaching 500 msg/s',
    value: needed === null ? 'none of those tested' : String(needed),
  });
  return {
    id,
    title,
    ran: [
      `Sandbox (orchestrator process) with \`latencyMs: ${LATENCY_MS}\` on every Graph answer, uncapped; server child (SQLite, compiled, NODE_ENV=production, WHATSAPP_MAX_MPS=0) with DISPATCH_CONCURRENCY = ${concurrencies.join(', ')}.`,
      `${fmtInt(count)} messages queued through \`Outbox.enqueue\` each time, then the dispatcher started and timed until all were \`sent\` (as in (b)). Ceiling = concurrency ÷ 0.2 s, since each send holds a slot for at least the 200 ms round trip.`,
    ],
    figures,
    notes,
    seconds: (performance.now() - started) / 1000,
  };
}
