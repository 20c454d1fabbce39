import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { SANDBOX_PHONE_NUMBER_ID } from '../../src/app.js';
import { startSandbox, type RunningSandbox } from '../../src/sandbox/start-sandbox.js';
import type { Build } from './build.js';
import { startServerChild, type ServerChild } from './children.js';
import { dropPgSchema, PG_URL, pgProbe, sqliteProbe, type DbProbe } from './db-probe.js';
import { waitForQuiet } from './system-load.js';

/** One line of a scenario's figures; `met` is null for figures without a goal. */
export interface Figure {
  label: string;
  value: string;
  goal?: string;
  met?: boolean | null;
  /** Cores other processes on the machine used while this figure was measured. */
  othersCpu?: number;
}

export interface ScenarioReport {
  id: string;
  title: string;
  /** What was run, as Markdown bullet text. */
  ran: string[];
  figures: Figure[];
  notes: string[];
  error?: string;
  seconds: number;
}

export interface BenchContext {
  repoRoot: string;
  quick: boolean;
  build: Build;
  /** Temporary folder for data directories and logs (removed at the end). */
  workDir: string;
  /** When set, server children run with --cpu-prof into this folder and are closed gracefully. */
  profileDir: string | null;
  /** How long to wait, at most, for other processes to go quiet before a measured interval. */
  quietWaitMs: number;
  log(message: string): void;
}

/** Before a measured interval: wait (bounded) for a quiet machine and say what was found. */
export async function awaitQuiet(ctx: BenchContext): Promise<void> {
  const quiet = await waitForQuiet(ctx.quietWaitMs);
  const waited = `${(quiet.waitedMs / 1000).toFixed(0)} s`;
  ctx.log(
    quiet.isQuiet
      ? `    (machine quiet after ${waited})`
      : `    (machine still busy after ${waited}: others use ${quiet.otherCores.toFixed(2)} cores; measuring anyway)`,
  );
}

export const BENCH_API_KEY = 'bench-api-key-0123456789abcdef0123';

export type Dialect = 'sqlite' | 'postgres';

export interface BenchSandbox {
  running: RunningSandbox;
  token: string;
  url: string;
  close(): Promise<void>;
}

/** The Cloud API emulator in the orchestrator process (its own event loop, not the server's). */
export async function startBenchSandbox(options: {
  latencyMs?: number;
  maxMps?: number;
}): Promise<BenchSandbox> {
  const token = randomBytes(16).toString('hex');
  const running = await startSandbox({
    host: '127.0.0.1',
    tokens: [token],
    phoneNumberIds: [SANDBOX_PHONE_NUMBER_ID],
    latencyMs: options.latencyMs ?? 0,
    maxMps: options.maxMps ?? 0,
  });
  return { running, token, url: running.url, close: () => running.close() };
}

export interface BenchServer {
  child: ServerChild;
  dataDir: string;
  dialect: Dialect;
  pgSchema: string | null;
  /** A probe on the server's database from the orchestrator (open lazily; closed by dispose). */
  probe(): DbProbe;
  /** kill -9 (or a graceful close when profiling), then drop a PostgreSQL schema, close the probe. */
  dispose(options?: { keepSchema?: boolean }): Promise<void>;
}

let serial = 0;

/**
 * Starts bench/serve.ts (compiled) like production: NODE_ENV=production, LOG_LEVEL=warn, cloud mode
 * pointed at `sandbox` (or unconfigured), the given cap and concurrency. RATE_LIMIT_MAX is set very
 * high so the rate-limit hook still runs on every request but never refuses the single bench key.
 */
export async function startBenchServer(
  ctx: BenchContext,
  options: {
    name: string;
    dialect: Dialect;
    sandbox: BenchSandbox | null;
    maxMps: number;
    concurrency?: number;
    startDispatcher: boolean;
    env?: Record<string, string>;
    /** Reuse a data directory (e.g. to restart over the same SQLite file). */
    dataDir?: string;
  },
): Promise<BenchServer> {
  serial += 1;
  const dataDir =
    options.dataDir ?? path.join(ctx.workDir, `${String(serial).padStart(2, '0')}-${options.name}`);
  mkdirSync(dataDir, { recursive: true });
  const pgSchema =
    options.dialect === 'postgres'
      ? `bench_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`
      : null;
  const env: Record<string, string> = {
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'warn',
    DATA_DIR: dataDir,
    INTERNAL_API_KEY: BENCH_API_KEY,
    RATE_LIMIT_MAX: '1000000000',
    WHATSAPP_MODE: 'cloud',
    WHATSAPP_MAX_MPS: String(options.maxMps),
    BENCH_START_DISPATCHER: options.startDispatcher ? '1' : '0',
    ...(options.concurrency === undefined ? {} : { DISPATCH_CONCURRENCY: String(options.concurrency) }),
    ...(options.sandbox === null
      ? {}
      : {
          WHATSAPP_TOKEN: options.sandbox.token,
          WHATSAPP_PHONE_NUMBER_ID: SANDBOX_PHONE_NUMBER_ID,
          WHATSAPP_API_URL: options.sandbox.url,
        }),
    ...(pgSchema === null ? {} : { DATABASE_URL: PG_URL, BENCH_PG_SCHEMA: pgSchema }),
    ...options.env,
  };
  const execArgv =
    ctx.profileDir === null
      ? []
      : [
          '--cpu-prof',
          `--cpu-prof-dir=${ctx.profileDir}`,
          `--cpu-prof-name=${options.name}-${serial}.cpuprofile`,
        ];
  const child = await startServerChild({
    script: ctx.build.serveScript,
    env,
    cwd: dataDir,
    logFile: path.join(dataDir, 'server.log'),
    execArgv,
  });
  ctx.log(
    `  started ${options.name} (pid ${child.pid}, ${options.dialect}, dispatcher ${child.dispatcher}) at ${child.url}`,
  );
  let probe: DbProbe | null = null;
  return {
    child,
    dataDir,
    dialect: options.dialect,
    pgSchema,
    probe: () => {
      probe ??= pgSchema === null ? sqliteProbe(path.join(dataDir, 'keyhomekey.db')) : pgProbe(pgSchema);
      return probe;
    },
    dispose: async (disposeOptions = {}) => {
      if (ctx.profileDir !== null) await child.close();
      await child.kill9();
      await probe?.close();
      probe = null;
      if (pgSchema !== null && disposeOptions.keepSchema !== true) await dropPgSchema(pgSchema);
    },
  };
}
