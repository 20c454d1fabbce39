/**
 * (f) Diagnostics, no goals: measurements behind the explanations of (a)–(d).
 *  1. Outbox.claimDue latency against the backlog size, SQLite and PostgreSQL.
 *  2. CPU per Graph send: the service's fetch-based client against a node:http reference client.
 *  3. PostgreSQL: one durable commit against one read round trip.
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { SANDBOX_PHONE_NUMBER_ID } from '../../src/app.js';
import { migrateToLatest, openDatabase } from '../../src/db/database.js';
import { Outbox } from '../../src/messages/outbox.js';
import { systemClock } from '../../src/shared/clock.js';
import type { ClientCost } from '../client-cost.js';
import { track } from '../lib/children.js';
import {
  awaitQuiet,
  startBenchSandbox,
  type BenchContext,
  type Figure,
  type ScenarioReport,
} from '../lib/context.js';
import { dropPgSchema, PG_URL, pgReachable } from '../lib/db-probe.js';
import { loadMeter } from '../lib/system-load.js';
import { errorText, fmt, fmtInt, recipientFor, sleep } from '../lib/util.js';

export const id = 'diag';
export const title = '(f) Diagnostics (no goals): claim latency, Graph client cost, PostgreSQL commit';

export async function run(ctx: BenchContext): Promise<ScenarioReport> {
  const started = performance.now();
  const figures: Figure[] = [];
  const notes: string[] = [];
  const backlogs = ctx.quick ? [1000, 20_000] : [1000, 20_000, 100_000];
  const hasPg = await pgReachable();

  for (const dialect of hasPg ? (['sqlite', 'postgres'] as const) : (['sqlite'] as const)) {
    for (const backlog of backlogs) {
      ctx.log(`  claimDue(64) on ${dialect} with ${fmtInt(backlog)} queued`);
      try {
        const { ms, otherCores } = await claimLatency(ctx, dialect, backlog);
        figures.push({
          label: `${dialect === 'sqlite' ? 'SQLite' : 'PostgreSQL'}: Outbox.claimDue(64) with ${fmtInt(backlog)} queued (median of 10, commit included)`,
          value: `${fmt(ms, 2)} ms`,
          othersCpu: otherCores,
        });
      } catch (error) {
        notes.push(`claim latency ${dialect} ${backlog} failed: ${errorText(error)}`);
      }
    }
  }

  ctx.log('  Graph client CPU per send');
  try {
    const { results, otherCores } = await clientCost(ctx);
    for (const cost of results) {
      figures.push({
        label: `CPU per send, ${cost.client} (64 concurrent, ${fmtInt(cost.calls)} sends)`,
        value: `${fmtInt(cost.cpuMicrosPerCall)} µs (${fmtInt(cost.callsPerSec)} sends/s, ${fmtInt(cost.ok)} ok)`,
        othersCpu: otherCores,
      });
    }
  } catch (error) {
    notes.push(`client cost failed: ${errorText(error)}`);
  }

  if (hasPg) {
    ctx.log('  PostgreSQL commit latency');
    const { commitMs, readMs, settings } = await pgCommitLatency();
    figures.push(
      {
        label: 'PostgreSQL: one autocommit single-row UPDATE (mean of 200)',
        value: `${fmt(commitMs, 2)} ms`,
      },
      { label: 'PostgreSQL: one `select 1` round trip (mean of 200)', value: `${fmt(readMs, 2)} ms` },
    );
    notes.push(`PostgreSQL settings: ${settings}.`);
  }

  return {
    id,
    title,
    ran: [
      'Claim latency: in the orchestrator process (tsx), a fresh database (SQLite file / PostgreSQL schema) migrated by `migrateToLatest`, the backlog queued through `Outbox.enqueue`, then 10 × `Outbox.claimDue(64, …)` timed one by one; the median is shown.',
      'Client cost: a compiled child process (`bench/client-cost.ts`) sends to the sandbox (orchestrator process, uncapped) 64 at a time, first with `createCloudApiClient` (as the dispatcher does), then with a minimal node:http keep-alive client; CPU = `process.cpuUsage()` of that child ÷ sends, after a warm-up.',
      'PostgreSQL commit: 200 autocommit `UPDATE`s of one row and 200 `select 1` on one connection, timed with `performance.now()`.',
    ],
    figures,
    notes,
    seconds: (performance.now() - started) / 1000,
  };
}

async function claimLatency(
  ctx: BenchContext,
  dialect: 'sqlite' | 'postgres',
  backlog: number,
): Promise<{ ms: number; otherCores: number }> {
  const dir = mkdtempSync(path.join(ctx.workDir, 'claim-'));
  const schema = dialect === 'postgres' ? `bench_claim_${randomBytes(4).toString('hex')}` : undefined;
  const database = openDatabase({
    url: dialect === 'postgres' ? PG_URL : null,
    sqliteFile: path.join(dir, 'claim.db'),
    ...(schema === undefined ? {} : { pgSchema: schema }),
  });
  try {
    await migrateToLatest(database, schema);
    const outbox = new Outbox(database.db, database.dialect, SANDBOX_PHONE_NUMBER_ID, systemClock);
    for (let from = 0; from < backlog; from += 5000) {
      const batch: Promise<unknown>[] = [];
      for (let i = from; i < Math.min(backlog, from + 5000); i++) {
        batch.push(
          outbox.enqueue({ to: recipientFor(i, 1000), message: { kind: 'text', body: `Claim probe ${i}` } }),
        );
      }
      await Promise.all(batch);
    }
    await sleep(20); // every row due
    await awaitQuiet(ctx);
    const machine = loadMeter();
    const times: number[] = [];
    for (let i = 0; i < 10; i++) {
      const t0 = performance.now();
      const rows = await outbox.claimDue(64, 'claim-probe', 60_000);
      times.push(performance.now() - t0);
      if (rows.length !== 64) throw new Error(`claimed ${rows.length} rows, expected 64`);
    }
    const { otherCores } = machine();
    times.sort((a, b) => a - b);
    return { ms: ((times[4] ?? 0) + (times[5] ?? 0)) / 2, otherCores };
  } finally {
    await database.close();
    if (schema !== undefined) await dropPgSchema(schema);
    rmSync(dir, { recursive: true, force: true });
  }
}

async function clientCost(ctx: BenchContext): Promise<{ results: ClientCost[]; otherCores: number }> {
  const sandbox = await startBenchSandbox({});
  try {
    await awaitQuiet(ctx);
    const machine = loadMeter();
    const child = track(
      fork(ctx.build.clientCostScript, [], {
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          NODE_ENV: 'production',
          BENCH_GRAPH_URL: sandbox.url,
          BENCH_GRAPH_TOKEN: sandbox.token,
          BENCH_PHONE_ID: SANDBOX_PHONE_NUMBER_ID,
          BENCH_CALLS: String(ctx.quick ? 2000 : 8000),
          BENCH_CONCURRENCY: '64',
        },
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      }),
    );
    const results = await new Promise<ClientCost[]>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error('client-cost child: no answer within 120 s'));
      }, 120_000);
      child.once('message', (message: { type: string; results: ClientCost[] }) => {
        clearTimeout(timer);
        resolve(message.results);
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`client-cost child exited (${code}) without an answer`));
      });
    });
    return { results, otherCores: machine().otherCores };
  } finally {
    await sandbox.close();
  }
}

async function pgCommitLatency(): Promise<{ commitMs: number; readMs: number; settings: string }> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    const show = async (name: string): Promise<string> =>
      `${name}=${(await client.query<Record<string, string>>(`show ${name}`)).rows[0]?.[name] ?? '?'}`;
    const settings = [
      await show('synchronous_commit'),
      await show('fsync'),
      await show('wal_sync_method'),
    ].join(', ');
    const table = `bench_commit_${randomBytes(4).toString('hex')}`;
    await client.query(`create table ${table} (id int primary key, v int not null)`);
    try {
      await client.query(`insert into ${table} values (1, 0)`);
      let t0 = performance.now();
      for (let i = 0; i < 200; i++) await client.query(`update ${table} set v = v + 1 where id = 1`);
      const commitMs = (performance.now() - t0) / 200;
      t0 = performance.now();
      for (let i = 0; i < 200; i++) await client.query('select 1');
      const readMs = (performance.now() - t0) / 200;
      return { commitMs, readMs, settings };
    } finally {
      await client.query(`drop table ${table}`);
    }
  } finally {
    await client.end();
  }
}
