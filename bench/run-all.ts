/**
 * `npm run bench [-- --quick] [-- --profile] [-- --keep] [-- --out FILE] [-- SCENARIO…]`
 *
 * Runs the performance scenarios of the dispatch service on this machine and writes a Markdown
 * report: BENCHMARKS.md for a full run of every scenario; a quick or partial run writes to a file in
 * the temporary folder (or --out) so it never replaces the reference figures.
 *
 * Scenarios: notify (a), dispatch (b), cap (c), latency (d), memory (e), diag (f: measurements
 * behind the explanations, no goals), seed (g: the seed's in-request design vs the outbox). --profile runs the servers
 * with --cpu-prof and prints where their time went; --quiet-wait (default 60 s, 5 s with --quick)
 * bounds the wait for a quiet machine before each measured interval. Every child process is
 * SIGKILLed on the way out, whatever happens; the whole run is bounded by a watchdog.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildServers, type Build } from './lib/build.js';
import { killAllChildren } from './lib/children.js';
import type { BenchContext, ScenarioReport } from './lib/context.js';
import { describeMachine } from './lib/machine.js';
import { summarizeProfile } from './lib/profile.js';
import { renderReport } from './lib/report.js';
import { errorText, fmt } from './lib/util.js';
import * as cap from './scenarios/cap.js';
import * as diagnostics from './scenarios/diagnostics.js';
import * as dispatch from './scenarios/dispatch.js';
import * as latency from './scenarios/latency.js';
import * as memory from './scenarios/memory.js';
import * as notify from './scenarios/notify.js';
import * as seed from './scenarios/seed.js';

interface Scenario {
  id: string;
  title: string;
  alias: string;
  run(ctx: BenchContext): Promise<ScenarioReport>;
}

const SCENARIOS: Scenario[] = [
  { ...notify, alias: 'a' },
  { ...dispatch, alias: 'b' },
  { ...cap, alias: 'c' },
  { ...latency, alias: 'd' },
  { ...memory, alias: 'e' },
  { ...diagnostics, alias: 'f' },
  { ...seed, alias: 'g' },
];

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

interface Args {
  quick: boolean;
  profile: boolean;
  keep: boolean;
  out: string | null;
  quietWaitSec: number | null;
  selected: Scenario[];
}

function parseArgs(argv: string[]): Args {
  const args: Args = {
    quick: false,
    profile: false,
    keep: false,
    out: null,
    quietWaitSec: null,
    selected: [],
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--quick') args.quick = true;
    else if (arg === '--profile') args.profile = true;
    else if (arg === '--keep') args.keep = true;
    else if (arg === '--out') args.out = path.resolve(argv[++i] ?? '');
    else if (arg === '--quiet-wait')
      args.quietWaitSec = Math.max(0, Math.min(600, Number(argv[++i] ?? '0') || 0));
    else if (arg === '--help' || arg === '-h') {
      console.log(
        `usage: npm run bench -- [--quick] [--profile] [--keep] [--out FILE] [--quiet-wait SECONDS] [${SCENARIOS.map((s) => s.id).join('|')}…]`,
      );
      process.exit(0);
    } else {
      const scenario = SCENARIOS.find((s) => s.id === arg || s.alias === arg);
      if (scenario === undefined) {
        console.error(
          `unknown argument or scenario "${arg}"; scenarios: ${SCENARIOS.map((s) => `${s.id} (${s.alias})`).join(', ')}`,
        );
        process.exit(2);
      }
      if (!args.selected.includes(scenario)) args.selected.push(scenario);
    }
  }
  if (args.selected.length === 0) args.selected = [...SCENARIOS];
  args.selected.sort((a, b) => SCENARIOS.indexOf(a) - SCENARIOS.indexOf(b));
  return args;
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const isFullRun = !args.quick && args.selected.length === SCENARIOS.length && !args.profile;
  const reportFile =
    args.out ??
    (isFullRun ? path.join(repoRoot, 'BENCHMARKS.md') : path.join(tmpdir(), 'keyhomekey-bench-report.md'));
  const startedAt = performance.now();
  const log = (message: string): void => console.log(message);

  // Watchdog: the whole run is bounded; children die with the process (see children.ts).
  const limitMinutes = args.quick ? 20 : 60;
  const watchdog = setTimeout(() => {
    console.error(`bench: still running after ${limitMinutes} min; killing every child and giving up`);
    killAllChildren();
    process.exit(3);
  }, limitMinutes * 60_000);
  watchdog.unref();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      killAllChildren();
      process.exit(130);
    });
  }

  const machine = describeMachine(repoRoot);
  log(
    `KeyhomeKey Dispatch benchmarks — ${machine.cpuModel}, ${machine.cores} cores, Node ${machine.node}${args.quick ? ' (quick)' : ''}`,
  );
  log(`scenarios: ${args.selected.map((s) => s.id).join(', ')}`);
  const workDir = mkdtempSync(path.join(tmpdir(), 'khk-bench-'));
  const profileDir = args.profile ? path.join(workDir, 'profiles') : null;
  if (profileDir !== null) mkdirSync(profileDir);
  let build: Build | null = null;
  const reports: ScenarioReport[] = [];
  let failed = false;
  try {
    log('building the servers with tsc…');
    try {
      build = await buildServers(repoRoot);
    } catch (error) {
      rmSync(workDir, { recursive: true, force: true });
      throw error;
    }
    log(`  built in ${fmt(build.ms / 1000, 1)} s`);
    if (build.typeErrors !== null)
      log(`  tsc reported type errors (JavaScript emitted and used):\n${build.typeErrors}`);
    const quietWaitMs = (args.quietWaitSec ?? (args.quick ? 5 : 60)) * 1000;
    const ctx: BenchContext = { repoRoot, quick: args.quick, build, workDir, profileDir, quietWaitMs, log };
    for (const scenario of args.selected) {
      log(`\n== ${scenario.title}`);
      const scenarioStarted = performance.now();
      try {
        reports.push(await scenario.run(ctx));
      } catch (error) {
        failed = true;
        console.error(`scenario ${scenario.id} failed: ${errorText(error)}`);
        reports.push({
          id: scenario.id,
          title: scenario.title,
          ran: [],
          figures: [],
          notes: [],
          error: errorText(error),
          seconds: (performance.now() - scenarioStarted) / 1000,
        });
      } finally {
        killAllChildren();
      }
    }
  } finally {
    killAllChildren();
    build?.dispose();
    clearTimeout(watchdog);
  }

  const markdown = renderReport({
    machine,
    quick: args.quick,
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    buildSeconds: (build?.ms ?? 0) / 1000,
    typeErrors: build?.typeErrors ?? null,
    totalSeconds: (performance.now() - startedAt) / 1000,
    scenarios: reports,
  });
  writeFileSync(reportFile, markdown);
  log(`\n${markdown}`);
  log(`report written to ${reportFile}`);

  if (profileDir !== null) printProfiles(profileDir);
  if (args.keep || failed || profileDir !== null) log(`work folder kept: ${workDir}`);
  else rmSync(workDir, { recursive: true, force: true });
  const missed = reports.flatMap((r) =>
    r.figures.filter((f) => f.met === false).map((f) => `${r.id}: ${f.label}`),
  );
  if (missed.length > 0) log(`\ngoals not met:\n  ${missed.join('\n  ')}`);
  return failed ? 1 : 0;
}

function printProfiles(profileDir: string): void {
  for (const file of readdirSync(profileDir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .sort()) {
    const summary = summarizeProfile(path.join(profileDir, file));
    console.log(`\n--- ${file}: ${fmt(summary.totalMs / 1000, 1)} s sampled`);
    console.log('  by area:');
    for (const area of summary.areas.slice(0, 15))
      console.log(`    ${fmt(area.percent, 1).padStart(5)} %  ${area.name}`);
    console.log('  project functions (inclusive time):');
    for (const fn of summary.ownInclusive) console.log(`    ${fmt(fn.percent, 1).padStart(5)} %  ${fn.name}`);
    console.log('  by function (self time):');
    for (const fn of summary.functions) console.log(`    ${fmt(fn.percent, 1).padStart(5)} %  ${fn.name}`);
  }
}

main().then(
  (code) => {
    process.exitCode = code;
    // Anything still holding the loop open (a socket in TIME_WAIT, a pool) must not keep us here.
    setTimeout(() => process.exit(code), 2000).unref();
  },
  (error: unknown) => {
    console.error(errorText(error));
    killAllChildren();
    process.exitCode = 1;
  },
);
