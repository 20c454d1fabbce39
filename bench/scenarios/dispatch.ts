/**
 * (b) Dispatch rate with the cap lifted (WHATSAPP_MAX_MPS=0): N queued messages, the dispatcher
 * started against the sandbox, messages/s until all are `sent` — on SQLite and on PostgreSQL.
 */
import type { BenchContext, Dialect, Figure, ScenarioReport } from '../lib/context.js';
import { pgReachable } from '../lib/db-probe.js';
import { dispatchRun, type DispatchRunResult } from '../lib/dispatch-run.js';
import { errorText, fmt, fmtInt } from '../lib/util.js';

export const id = 'dispatch';
export const title = '(b) Dispatch rate, cap lifted (WHATSAPP_MAX_MPS=0)';

const GOALS: Record<Dialect, number> = { sqlite: 3000, postgres: 2000 };

export async function run(ctx: BenchContext): Promise<ScenarioReport> {
  const started = performance.now();
  const count = ctx.quick ? 3000 : 20_000;
  const figures: Figure[] = [];
  const notes: string[] = [];
  for (const dialect of ['sqlite', 'postgres'] as const) {
    if (dialect === 'postgres' && !(await pgReachable())) {
      figures.push({
        label: 'PostgreSQL: msg/s',
        value: 'not run: PostgreSQL unreachable',
        goal: '≥ 2,000 msg/s',
        met: false,
      });
      continue;
    }
    ctx.log(`  ${dialect}: ${fmtInt(count)} messages`);
    try {
      const result = await dispatchRun(ctx, {
        name: `dispatch-${dialect}`,
        dialect,
        maxMps: 0,
        count,
        spread: 1000,
        until: 'all-sent',
        timeoutMs: 180_000,
      });
      ctx.log(`    ${fmtInt(result.rate)} msg/s (${fmt(result.elapsedMs / 1000, 2)} s)`);
      figures.push(
        ...dispatchFigures(dialect === 'sqlite' ? 'SQLite' : 'PostgreSQL', result, GOALS[dialect]),
      );
      notes.push(dispatchNote(dialect === 'sqlite' ? 'SQLite' : 'PostgreSQL', result));
    } catch (error) {
      figures.push({
        label: `${dialect}: msg/s`,
        value: 'run failed',
        goal: `≥ ${fmtInt(GOALS[dialect])} msg/s`,
        met: false,
      });
      notes.push(`${dialect} run failed: ${errorText(error)}`);
    }
  }
  return {
    id,
    title,
    ran: [
      `${fmtInt(count)} text messages to 1,000 recipients queued through \`Outbox.enqueue\` (the call notify makes; group commit, 500 per transaction) inside the server child while its dispatcher is stopped.`,
      'Then the dispatcher is started over IPC in that child (compiled `bench/serve.ts` on `node`, NODE_ENV=production, LOG_LEVEL=warn, WHATSAPP_MAX_MPS=0, DISPATCH_CONCURRENCY default 64, claim batch 200) — a separate process from the sandbox, which runs uncapped with no latency in the orchestrator process.',
      'Clock: `performance.now()` from the start message until a separate database connection in the orchestrator (polling every 50 ms) counts all N rows `sent`. The sandbox rate (first to last accept) is shown as a cross-check.',
    ],
    figures,
    notes,
    seconds: (performance.now() - started) / 1000,
  };
}

export function dispatchFigures(label: string, result: DispatchRunResult, goal: number | null): Figure[] {
  const failed = (result.statusCounts.failed ?? 0) + (result.statusCounts.retrying ?? 0);
  const figures: Figure[] = [
    {
      label: `${label}: msg/s (${fmtInt(result.count)} in ${fmt(result.elapsedMs / 1000, 2)} s)`,
      value: fmtInt(result.rate),
      ...(goal === null ? {} : { goal: `≥ ${fmtInt(goal)} msg/s`, met: result.rate >= goal }),
      othersCpu: result.machine.otherCores,
    },
    {
      label: `${label}: server CPU per message`,
      value: `${fmt(result.serverCpuMsPerMessage, 3)} ms (${fmtInt(result.serverCpuPercent)} % of a core; one free core ⇒ ≤ ${fmtInt(1000 / result.serverCpuMsPerMessage)} msg/s)`,
      othersCpu: result.machine.otherCores,
    },
    {
      label: `${label}: all sent once, none failed or retried, no duplicate sends`,
      value: `sent ${fmtInt(result.statusCounts.sent ?? 0)}, failed/retrying ${fmtInt(failed)}, duplicates ${result.sandboxStats.duplicateAccepts}`,
      goal: 'all sent, 0 duplicates',
      met: (result.statusCounts.sent ?? 0) === result.count && result.sandboxStats.duplicateAccepts === 0,
    },
  ];
  return figures;
}

export function dispatchNote(label: string, result: DispatchRunResult): string {
  return (
    `${label}: sandbox-side rate ${fmtInt(result.sandboxRate)} msg/s; pre-fill ${fmtInt(result.prefillMs)} ms ` +
    `(${fmtInt(result.count / (result.prefillMs / 1000))} enqueues/s); server CPU ${fmtInt(result.serverCpuPercent)} % ` +
    `of one core, orchestrator (sandbox + poller) ${fmtInt(result.orchestratorCpuPercent)} %.`
  );
}
