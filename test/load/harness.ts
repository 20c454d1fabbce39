/**
 * Shared parts of the load scenarios (fault soak, scale-out, Graph outage): databases, enqueueing over
 * HTTP, watching the sandbox's per-second counters, waiting for the outbox to settle, and reading the
 * outcome. Every wait is bounded; all traffic stays on 127.0.0.1.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { eventually } from '../helpers/test-app.js';
import { openDatabase, type Database } from '../../src/db/database.js';
import type { SandboxStats } from '../../src/sandbox/sandbox-state.js';
import type { CallbackDataCount } from '../../src/sandbox/send-stats.js';

export const LOAD_API_KEY = 'load-api-key-0123456789abcdef0123';
export const LOAD_PHONE_NUMBER_ID = '100000000000555';
export const PG_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export type LoadDialect = 'sqlite' | 'postgres';

export interface LoadDatabase {
  dialect: LoadDialect;
  dataDir: string;
  /** Variables that point a server process at this database. */
  env: Record<string, string>;
  /** A connection of the harness's own, for reading the outbox. */
  db: Database;
  dispose(): Promise<void>;
}

/** A fresh SQLite folder, or a fresh PostgreSQL schema at 127.0.0.1 (dropped by dispose). */
export async function prepareDatabase(dialect: LoadDialect, workDir: string): Promise<LoadDatabase> {
  const dataDir = mkdtempSync(path.join(workDir, 'data-'));
  if (dialect === 'sqlite') {
    // The server creates and migrates the file; the harness opens it lazily after the server is up.
    let db: Database | null = null;
    return {
      dialect,
      dataDir,
      env: { DATA_DIR: dataDir, DATABASE_URL: '' },
      get db(): Database {
        db ??= openDatabase({ url: null, sqliteFile: path.join(dataDir, 'keyhomekey.db') });
        return db;
      },
      dispose: async () => {
        await db?.close();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  }
  assertLoopback(PG_URL);
  const schema = `load_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  await withPgClient((client) => client.query(`create schema "${schema}"`));
  const serverUrl = new URL(PG_URL);
  serverUrl.searchParams.set('options', `-c search_path=${schema}`);
  const db = openDatabase({ url: PG_URL, sqliteFile: ':memory:', pgSchema: schema, pgPoolSize: 2 });
  return {
    dialect,
    dataDir,
    env: { DATA_DIR: dataDir, DATABASE_URL: serverUrl.toString() },
    db,
    dispose: async () => {
      await db.close();
      await withPgClient((client) => client.query(`drop schema if exists "${schema}" cascade`));
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export function assertLoopback(url: string): void {
  const host = new URL(url).hostname;
  if (!['127.0.0.1', 'localhost', '::1', '[::1]'].includes(host)) {
    throw new Error(`load runs only talk to loopback addresses, not ${host}`);
  }
}

async function withPgClient<T>(use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

export function makeWorkDir(): { dir: string; dispose(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'khk-load-'));
  return { dir, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The environment every server process of a load run shares (cloud mode against `sandboxUrl`). */
/** The dispatch settings a load scenario runs its servers with (each scenario's options carry them). */
export interface DispatchSettings {
  maxMps: number;
  retryBaseMs: number;
  maxAttempts: number;
  requestTimeoutMs: number;
  leaseMs: number;
}

export function serverEnv(options: {
  sandboxUrl: string;
  token: string;
  appSecret: string;
  database: LoadDatabase;
  dispatch: DispatchSettings;
  extra?: Record<string, string>;
}): Record<string, string> {
  const { dispatch } = options;
  return {
    ...options.database.env,
    NODE_ENV: 'test',
    WHATSAPP_MODE: 'cloud',
    WHATSAPP_API_URL: options.sandboxUrl,
    WHATSAPP_TOKEN: options.token,
    WHATSAPP_PHONE_NUMBER_ID: LOAD_PHONE_NUMBER_ID,
    WHATSAPP_APP_SECRET: options.appSecret,
    INTERNAL_API_KEY: LOAD_API_KEY,
    WHATSAPP_MAX_MPS: String(dispatch.maxMps),
    WHATSAPP_RETRY_BASE_MS: String(dispatch.retryBaseMs),
    WHATSAPP_MAX_ATTEMPTS: String(dispatch.maxAttempts),
    WHATSAPP_REQUEST_TIMEOUT_MS: String(dispatch.requestTimeoutMs),
    DISPATCH_LEASE_MS: String(dispatch.leaseMs),
    RATE_LIMIT_MAX: '0',
    LOG_LEVEL: 'warn',
    ...options.extra,
  };
}

/** A valid Colombian mobile number, one of `recipients` distinct ones. */
export function recipient(index: number, recipients: number): string {
  return `+57300${String(5_550_000 + (index % recipients))}`;
}

/**
 * POSTs `count` notify requests with `Prefer: respond-async` and an `Idempotency-Key` per message,
 * round-robin over `urls`, `concurrency` at a time. A request that dies (connection refused or reset:
 * its process was killed) or gets a 5xx is sent again, with the same key, to the next process; the key
 * makes that safe (the service never queues one key twice). Every message must end with a 202.
 */
export async function enqueueNotifications(
  urls: readonly string[],
  count: number,
  options: { concurrency?: number; recipients?: number; label?: string } = {},
): Promise<{ ids: string[]; seconds: number; failovers: number }> {
  const started = performance.now();
  const ids = new Array<string>(count);
  const recipients = options.recipients ?? 1000;
  const label = options.label ?? 'load';
  const runKey = Math.random().toString(36).slice(2, 10);
  const dead = new Set<string>();
  let failovers = 0;
  let next = 0;
  const post = async (url: string, index: number): Promise<string | null> => {
    try {
      const response = await fetch(`${url}/api/whatsapp/notify`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-api-key': LOAD_API_KEY,
          prefer: 'respond-async',
          'idempotency-key': `${label}-${runKey}-${index}`,
        },
        body: JSON.stringify({
          to: recipient(index, recipients),
          message: `${label} ${index}: a new maintenance ticket is waiting for you.`,
        }),
        signal: AbortSignal.timeout(60_000),
      });
      const text = await response.text();
      if (response.status >= 500) return null;
      const id = response.status === 202 ? (JSON.parse(text) as { data?: { id?: unknown } }).data?.id : null;
      if (typeof id !== 'string')
        throw new Error(`notify ${index}: expected 202, got ${response.status} ${text}`);
      return id;
    } catch (error) {
      if (error instanceof Error && error.message.startsWith('notify ')) throw error;
      dead.add(url);
      return null;
    }
  };
  const worker = async (): Promise<void> => {
    while (next < count) {
      const index = next++;
      for (let attempt = 0; ; attempt++) {
        const live = urls.filter((url) => !dead.has(url));
        const url =
          (live.length > 0 ? live : urls)[(index + attempt) % Math.max(1, live.length || urls.length)] ?? '';
        const id = await post(url, index);
        if (id !== null) {
          ids[index] = id;
          break;
        }
        failovers += 1;
        if (attempt >= 5) throw new Error(`notify ${index}: no process answered after ${attempt + 1} tries`);
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 16 }, worker));
  return { ids, seconds: (performance.now() - started) / 1000, failovers };
}

/**
 * Polls the sandbox's stats every `intervalMs` and keeps each second's counts (the sandbox itself keeps
 * only the last 120 s): accepted, attempts and retries per calendar second for a run of any length.
 * A failed poll (the sandbox unreachable on purpose) is skipped.
 */
export class SandboxWatch {
  readonly acceptedPerSecond = new Map<number, number>();
  readonly attemptsPerSecond = new Map<number, number>();
  readonly retriesPerSecond = new Map<number, number>();
  /** The standalone sandbox's longest event-loop lag per calendar second, in ms (absent in-process). */
  readonly lagPerSecond = new Map<number, number>();
  latest: SandboxStats | null = null;
  private timer: NodeJS.Timeout | null = null;
  private polling: Promise<void> = Promise.resolve();

  constructor(
    private readonly read: () => Promise<SandboxStats>,
    private readonly intervalMs = 2000,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      this.polling = this.poll();
    }, this.intervalMs);
  }

  async poll(): Promise<void> {
    try {
      this.take(await this.read());
    } catch {
      // unreachable for now
    }
  }

  /** Merges a snapshot (counts of a second only grow, so the newest value wins). */
  take(stats: SandboxStats): void {
    this.latest = stats;
    for (const { second, count } of stats.perSecond) this.acceptedPerSecond.set(second, count);
    for (const { second, attempts, retries } of stats.attemptsPerSecond) {
      this.attemptsPerSecond.set(second, attempts);
      this.retriesPerSecond.set(second, retries);
    }
    for (const { second, maxMs } of stats.process?.eventLoop.perSecond ?? []) {
      this.lagPerSecond.set(second, maxMs);
    }
  }

  async stop(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    await this.polling;
    await this.poll();
  }
}

export async function sleep(ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` every `intervalMs` until it returns a value other than undefined/false; throws after `timeoutMs`. */
export function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs: number,
  intervalMs = 250,
): Promise<T> {
  return eventually(check, timeoutMs, { what, intervalMs });
}

export type StatusCounts = Record<string, number>;

export async function statusCounts(db: Database): Promise<StatusCounts> {
  const rows = await db.db
    .selectFrom('messages')
    .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
    .where('direction', '=', 'outbound')
    .groupBy('status')
    .execute();
  return Object.fromEntries(rows.map((row) => [row.status, Number(row.n)]));
}

const PENDING = ['queued', 'sending', 'retrying'];

export function pendingOf(counts: StatusCounts): number {
  return PENDING.reduce((sum, status) => sum + (counts[status] ?? 0), 0);
}

/** Waits until no outbound message is queued, sending or retrying; answers when that happened. */
export async function waitForOutboxSettled(
  db: Database,
  expected: number,
  timeoutMs: number,
): Promise<number> {
  await waitFor(
    'every message sent or failed',
    async () => {
      const counts = await statusCounts(db);
      const total = Object.values(counts).reduce((sum, n) => sum + n, 0);
      return total >= expected && pendingOf(counts) === 0;
    },
    timeoutMs,
    250,
  );
  return performance.now();
}

/** Waits until `value()` has not changed for `quietMs`, at most `timeoutMs`. */
export async function settle(
  value: () => Promise<string> | string,
  quietMs: number,
  timeoutMs: number,
): Promise<void> {
  let last = await value();
  let since = performance.now();
  await waitFor(
    'values settled',
    async () => {
      const now = await value();
      if (now !== last) {
        last = now;
        since = performance.now();
      }
      return performance.now() - since >= quietMs;
    },
    timeoutMs,
    200,
  );
}

export interface OutcomeRow {
  id: string;
  status: string;
  attempts: number;
  errorCode: string | null;
  whatsappCode: number | null;
}

/**
 * Per message id, how many of its attempts our side recorded as unanswered although the request may have
 * reached Meta: `retrying` events marked `mayHaveBeenSent` and `lease_expired` events (a process died
 * mid-send). Only such attempts can make Meta accept a message twice.
 */
export async function unansweredAttempts(db: Database): Promise<Map<string, number>> {
  const rows = await db.db
    .selectFrom('message_events')
    .select(['message_id', 'status', 'detail'])
    .where('status', 'in', ['retrying', 'lease_expired'])
    .execute();
  const counts = new Map<string, number>();
  for (const row of rows) {
    if (row.status === 'retrying' && !(row.detail ?? '').includes('"mayHaveBeenSent":true')) continue;
    counts.set(row.message_id, (counts.get(row.message_id) ?? 0) + 1);
  }
  return counts;
}

export async function readOutcomes(db: Database): Promise<OutcomeRow[]> {
  const rows = await db.db
    .selectFrom('messages')
    .select(['id', 'status', 'attempts', 'last_error'])
    .where('direction', '=', 'outbound')
    .execute();
  return rows.map((row) => {
    const error =
      row.last_error === null
        ? null
        : (JSON.parse(row.last_error) as { code?: string; whatsappCode?: number | null });
    return {
      id: row.id,
      status: row.status,
      attempts: Number(row.attempts),
      errorCode: row.status === 'failed' ? (error?.code ?? null) : null,
      whatsappCode: row.status === 'failed' ? (error?.whatsappCode ?? null) : null,
    };
  });
}

/** Final states a message may end in: Meta has it (sent/delivered/read), or it failed for a permanent reason. */
export function isAcceptableEnd(row: OutcomeRow): boolean {
  if (row.status === 'sent' || row.status === 'delivered' || row.status === 'read') return true;
  return row.status === 'failed' && row.errorCode !== null && row.errorCode !== 'attempts_exhausted';
}

export function countBy<T>(items: readonly T[], key: (item: T) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[key(item)] = (counts[key(item)] ?? 0) + 1;
  return counts;
}

export interface DuplicateSplit {
  /** Extra accepts explained by an earlier accept whose answer was lost (Meta had it; the client timed out). */
  afterLostAnswer: number;
  /**
   * Extra accepts explained by an attempt our side recorded as unanswered though it may have reached Meta
   * (`mayHaveBeenSent`: a timeout, a reset mid-request): an answer lost in transit that the sandbox could not
   * see as lost (it wrote the answer to a connection the client had already given up on).
   */
  afterNoAnswer: number;
  /** Extra accepts explained otherwise (e.g. an expected category given by the scenario). */
  explained: number;
  /** Every other extra accept: a bug. */
  unexplained: number;
  unexplainedIds: string[];
  /** Messages accepted more than once. */
  messages: number;
}

/**
 * Splits the sandbox's duplicate list: each extra accept of a callback data is explained by a lost answer
 * of that callback data, or by `isExpected` (e.g. in flight in a process that was killed), or is a bug.
 */
export function splitDuplicates(
  duplicates: readonly CallbackDataCount[],
  isExpected: (callbackData: string) => boolean = () => false,
  /** Per message: its attempts recorded as unanswered-but-maybe-sent (see unansweredAttempts). */
  unanswered: ReadonlyMap<string, number> = new Map(),
): DuplicateSplit {
  const split: DuplicateSplit = {
    afterLostAnswer: 0,
    afterNoAnswer: 0,
    explained: 0,
    unexplained: 0,
    unexplainedIds: [],
    messages: 0,
  };
  for (const duplicate of duplicates) {
    split.messages += 1;
    let extra = duplicate.count - 1;
    const lost = Math.min(extra, duplicate.answersLost);
    split.afterLostAnswer += lost;
    extra -= lost;
    // Each lost answer the sandbox saw is also one of our unanswered attempts: count the rest only.
    const noAnswer = Math.min(
      extra,
      Math.max(0, (unanswered.get(duplicate.callbackData) ?? 0) - duplicate.answersLost),
    );
    split.afterNoAnswer += noAnswer;
    extra -= noAnswer;
    if (extra === 0) continue;
    if (isExpected(duplicate.callbackData)) {
      split.explained += extra;
      continue;
    }
    split.unexplained += extra;
    split.unexplainedIds.push(duplicate.callbackData);
  }
  return split;
}

export interface Distribution {
  n: number;
  min: number;
  p50: number;
  p99: number;
  max: number;
  mean: number;
}

export function distribution(values: readonly number[]): Distribution {
  if (values.length === 0) return { n: 0, min: 0, p50: 0, p99: 0, max: 0, mean: 0 };
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return {
    n: sorted.length,
    min: sorted[0] ?? 0,
    p50: at(0.5),
    p99: at(0.99),
    max: sorted.at(-1) ?? 0,
    mean: sorted.reduce((sum, v) => sum + v, 0) / sorted.length,
  };
}

/** The seconds strictly inside [from, to] (calendar seconds fully covered by the run). */
export function fullSeconds(series: ReadonlyMap<number, number>, fromMs: number, toMs: number): number[] {
  const first = Math.ceil(fromMs / 1000);
  const last = Math.floor(toMs / 1000) - 1;
  const values: number[] = [];
  for (let second = first; second <= last; second++) values.push(series.get(second) ?? 0);
  return values;
}

/** The machine right now: for the reports (the machine may be shared). */
export async function loadAverage(): Promise<string> {
  const { loadavg, cpus } = await import('node:os');
  return `load average ${loadavg()
    .map((n) => n.toFixed(2))
    .join(' / ')} on ${cpus().length} cores`;
}
