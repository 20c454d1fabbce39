/**
 * `npm run soak [-- SCENARIO…] [-- --quick]`: the long runs of issue #7 on this machine, written into
 * SOAK.md (each scenario replaces only its own section, so they can be run one at a time). The same
 * implementations run scaled down in `npm test` (test/load/*.test.ts).
 *
 *   fault          20,000 messages through the fault mix (5xx, 130429, hangs, 131026, webhook faults)
 *   scale          20,000 messages, 4 server processes on one PostgreSQL, one SIGKILLed midway, cap 80
 *   outage         Graph API unreachable for 5 minutes, default retry settings (10 attempts, 1 s base)
 *   outage-budget  the same outage with WHATSAPP_MAX_ATTEMPTS=25
 *
 * --quick divides the sizes (and the outage) by 10: a smoke test of the runner itself. Every run is
 * bounded (watchdog) and every child process is ended on the way out.
 */
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeFaultSoak, runFaultSoak } from '../test/load/fault-soak.js';
import { describeGraphOutage, runGraphOutage } from '../test/load/graph-outage.js';
import { stopAllLoadProcesses } from '../test/load/processes.js';
import { describeScaleOut, runScaleOut } from '../test/load/scale-out.js';
import { describeMachine } from './lib/machine.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

interface SoakScenario {
  id: string;
  title: string;
  run(scale: number, log: (line: string) => void): Promise<string[]>;
}

const SCENARIOS: SoakScenario[] = [
  {
    id: 'fault',
    title: 'Fault soak: 20,000 messages through the fault mix',
    run: async (scale, log) =>
      describeFaultSoak(
        await runFaultSoak({
          messages: Math.round(20_000 / scale),
          recipients: 1000,
          maxMps: 80,
          retryBaseMs: 1000,
          maxAttempts: 10,
          requestTimeoutMs: 5000,
          leaseMs: 60_000,
          log,
        }),
      ),
  },
  {
    id: 'scale',
    title: 'Scale-out: 4 processes on one PostgreSQL, 20,000 messages, one SIGKILLed midway',
    run: async (scale, log) =>
      describeScaleOut(
        await runScaleOut({
          messages: Math.round(20_000 / scale),
          processes: 4,
          maxMps: 80,
          leaseMs: 60_000,
          log,
        }),
      ),
  },
  {
    id: 'outage',
    title: 'Graph API unreachable for 5 minutes, default retry settings',
    run: (scale, log) => fiveMinuteOutage(scale, log, 10),
  },
  {
    id: 'outage-budget',
    title: 'Graph API unreachable for 5 minutes, WHATSAPP_MAX_ATTEMPTS=25',
    run: (scale, log) => fiveMinuteOutage(scale, log, 25),
  },
];

/** The 2,000-message, 5-minute Graph outage at the default cap and timeouts, with a given attempt budget. */
async function fiveMinuteOutage(scale: number, log: (line: string) => void, maxAttempts: number) {
  return describeGraphOutage(
    await runGraphOutage({
      messages: Math.round(2000 / scale),
      outageMs: Math.round(300_000 / scale),
      maxMps: 80,
      retryBaseMs: 1000,
      maxAttempts,
      requestTimeoutMs: 15_000,
      leaseMs: 60_000,
      log,
    }),
  );
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const quick = argv.includes('--quick');
  const outIndex = argv.indexOf('--out');
  const out =
    outIndex >= 0
      ? path.resolve(argv[outIndex + 1] ?? '')
      : path.join(quick ? os.tmpdir() : repoRoot, 'SOAK.md');
  const names = argv.filter((arg, index) => !arg.startsWith('--') && argv[index - 1] !== '--out');
  const unknown = names.filter((name) => !SCENARIOS.some((s) => s.id === name));
  if (unknown.length > 0) {
    console.error(
      `unknown scenario ${unknown.join(', ')}; scenarios: ${SCENARIOS.map((s) => s.id).join(', ')}`,
    );
    return 2;
  }
  const selected = names.length === 0 ? SCENARIOS : SCENARIOS.filter((s) => names.includes(s.id));
  const watchdog = setTimeout(
    () => {
      console.error('soak: still running after the watchdog limit; giving up');
      void stopAllLoadProcesses(0).finally(() => process.exit(3));
    },
    (quick ? 15 : 90) * 60_000,
  );
  watchdog.unref();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void stopAllLoadProcesses(0).finally(() => process.exit(130)));
  }

  let failed = false;
  for (const scenario of selected) {
    const machine = describeMachine(repoRoot);
    const log = (line: string): void => console.log(`[${scenario.id}] ${line}`);
    log(`${scenario.title}${quick ? ' (quick: sizes ÷ 10)' : ''}`);
    const started = performance.now();
    let body: string[];
    try {
      body = await scenario.run(quick ? 10 : 1, log);
    } catch (error) {
      failed = true;
      body = [`- **Run failed**: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`];
    } finally {
      await stopAllLoadProcesses();
    }
    const seconds = (performance.now() - started) / 1000;
    const section = [
      `## ${scenario.title}${quick ? ' (quick: sizes ÷ 10)' : ''}`,
      '',
      `\`npm run soak -- ${scenario.id}${quick ? ' --quick' : ''}\` — ${machine.date}, ${machine.cpuModel}, ${machine.cores} cores, Node ${machine.node}, commit ${machine.commit}; ran ${seconds.toFixed(0)} s (load average at the end ${os
        .loadavg()
        .map((n) => n.toFixed(2))
        .join(' / ')}).`,
      '',
      ...body,
    ].join('\n');
    console.log(`\n${section}\n`);
    writeSection(out, scenario.id, section);
  }
  console.log(`report written to ${out}`);
  clearTimeout(watchdog);
  return failed ? 1 : 0;
}

const HEADER = `# Soak runs

Written by \`npm run soak\` (bench/soak.ts): the long runs of the load scenarios in test/load, whose
scaled-down versions run in \`npm test\`. Each section is replaced when its scenario is run again; every
figure below was measured by that run. The machine may be shared with other work: the load average is given.
`;

function writeSection(file: string, id: string, section: string): void {
  const begin = `<!-- soak:${id} -->`;
  const end = `<!-- /soak:${id} -->`;
  let text = existsSync(file) ? readFileSync(file, 'utf8') : HEADER;
  const block = `${begin}\n${section}\n${end}`;
  const from = text.indexOf(begin);
  const to = text.indexOf(end);
  if (from >= 0 && to > from) text = text.slice(0, from) + block + text.slice(to + end.length);
  else text = `${text.trimEnd()}\n\n${block}\n`;
  writeFileSync(file, text);
}

main().then(
  (code) => {
    process.exitCode = code;
    setTimeout(() => process.exit(code), 2000).unref();
  },
  (error: unknown) => {
    console.error(error);
    void stopAllLoadProcesses(0).finally(() => process.exit(1));
  },
);
