/**
 * Crash safety of the outbox: the real server (a child process) is SIGKILLed while it holds queued
 * and in-flight messages, then restarted on the same database. Every accepted (202) message must
 * reach `sent`, and only a message that was in flight at the kill (status `sending`: Meta may have
 * accepted it without us recording it) may be sent twice; the restarted process sends none twice.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/db/database.js';
import { startSandbox } from '../../src/sandbox/start-sandbox.js';
import { startChildServer, stopAllChildServers, type ChildServer } from '../helpers/child-server.js';
import {
  DIALECTS,
  eventually,
  isPostgresAvailable,
  TEST_API_KEY,
  TEST_PG_URL,
  type TestDialect,
} from '../helpers/test-app.js';

const hasPostgres = await isPostgresAvailable();

const MESSAGES = 400;
/** The server is killed at the first sandbox accept once this many are accepted (and all 400 are queued). */
const KILL_AFTER_ACCEPTED = 40;
const SANDBOX_LATENCY_MS = 150;
/** Below the enqueue rate, so messages are still queued when the kill comes. */
const MAX_MPS = 50;
/**
 * Short, so the restarted process reclaims the killed one's claims soon. Not the 1000 ms minimum: a claimed
 * row may wait up to a whole throughput window (1 s) before it is sent and leases are not renewed, so at
 * 1000 ms the live processes expire their own claims and send dozens of messages twice.
 */
const LEASE_MS = 3000;
const ENQUEUE_CONCURRENCY = 16;
const SANDBOX_TOKEN = 'crash-recovery-sandbox-token-0123456789';
const PHONE_NUMBER_ID = '100000000000777';

type Phase = 'first' | 'dead' | 'restarted';

interface Accept {
  id: string;
  wamid: string;
  phase: Phase;
}

interface KillSnapshot {
  /** Sends the sandbox had accepted when the SIGKILL was sent. */
  accepted: number;
  /** HTTP requests open at the sandbox at that moment (in flight). */
  openSandboxRequests: number;
  at: number;
}

interface DatabaseUnderTest {
  /** Variables that point the server at this database. */
  env: Record<string, string>;
  /** A connection of the test's own, for reading the outbox directly. */
  open(): Database;
  dispose(): Promise<void>;
}

afterAll(async () => stopAllChildServers());

describe.each(DIALECTS)('crash recovery on %s', (dialect) => {
  it.skipIf(dialect === 'postgres' && !hasPostgres)(
    'after a SIGKILL with queued and in-flight messages, a restart sends every message, none twice by the restarted process',
    async () => {
      const t0 = performance.now();
      const seconds = (from: number, to = performance.now()): string => ((to - from) / 1000).toFixed(1);
      const target = await prepareDatabase(dialect);
      const sandbox = await startSandbox({ tokens: [SANDBOX_TOKEN], latencyMs: SANDBOX_LATENCY_MS });
      let database: Database | null = null;

      // Every send Meta(-sandbox) accepts, tagged with the phase it was accepted in.
      let phase: Phase = 'first';
      const accepts: Accept[] = [];
      let openSandboxRequests = 0;
      sandbox.app.server.on('request', (_request, response) => {
        openSandboxRequests++;
        response.once('close', () => openSandboxRequests--);
      });
      let first: ChildServer | null = null;
      let isKillArmed = false;
      const kill: { snapshot: KillSnapshot | null } = { snapshot: null };
      const unsubscribe = sandbox.state.onMessage((message) => {
        if (message.callbackData === null) return;
        accepts.push({ id: message.callbackData, wamid: message.wamid, phase });
        if (
          isKillArmed &&
          kill.snapshot === null &&
          accepts.length >= KILL_AFTER_ACCEPTED &&
          first !== null
        ) {
          // Kill from inside the accept: this message and the others at the sandbox are in flight.
          kill.snapshot = { accepted: accepts.length, openSandboxRequests, at: performance.now() };
          phase = 'dead';
          first.signal('SIGKILL');
        }
      });

      try {
        const env: Record<string, string> = {
          ...target.env,
          NODE_ENV: 'test',
          WHATSAPP_MODE: 'cloud',
          WHATSAPP_API_URL: sandbox.url,
          WHATSAPP_TOKEN: SANDBOX_TOKEN,
          WHATSAPP_PHONE_NUMBER_ID: PHONE_NUMBER_ID,
          INTERNAL_API_KEY: TEST_API_KEY,
          WHATSAPP_MAX_MPS: String(MAX_MPS),
          WHATSAPP_RETRY_BASE_MS: '50',
          DISPATCH_LEASE_MS: String(LEASE_MS),
          WHATSAPP_REQUEST_TIMEOUT_MS: '1000',
          RATE_LIMIT_MAX: '0',
          LOG_LEVEL: 'warn',
        };

        // 1. The first process; every message it answers 202 for is durably queued.
        first = await startChildServer({ env });
        const firstReady = performance.now();
        const ids = await enqueue(first.url, MESSAGES);
        const enqueued = performance.now();
        expect(new Set(ids).size).toBe(MESSAGES);

        // 2. SIGKILL at the next accept once enough are accepted: some sent, some in flight, most queued.
        expect(accepts.length, 'the server sent every message before the kill; lower MAX_MPS').toBeLessThan(
          MESSAGES,
        );
        isKillArmed = true;
        const killed = await eventually(() => kill.snapshot ?? undefined, 20_000);
        const exit = await first.exited;
        expect(exit.signal).toBe('SIGKILL');

        // 3. The outbox as the killed process left it.
        database = target.open();
        const db = database.db;
        const rowsAtKill = await db.selectFrom('messages').select(['id', 'status', 'wamid']).execute();
        const statusAtKill = new Map(rowsAtKill.map((row) => [row.id, row.status]));
        expect(
          ids.filter((id) => !statusAtKill.has(id)),
          'messages answered 202 but missing from the outbox',
        ).toEqual([]);
        expect(rowsAtKill).toHaveLength(MESSAGES);
        const sentAtKill = new Map(rowsAtKill.filter((r) => r.status === 'sent').map((r) => [r.id, r.wamid]));
        const ambiguous = new Set(rowsAtKill.filter((r) => r.status === 'sending').map((r) => r.id));
        const queuedAtKill = rowsAtKill.filter(
          (r) => r.status === 'queued' || r.status === 'retrying',
        ).length;
        expect(sentAtKill.size + ambiguous.size + queuedAtKill, 'unexpected statuses at kill').toBe(MESSAGES);
        expect(ambiguous.size, 'no message was in flight at the kill').toBeGreaterThan(0);
        expect(queuedAtKill, 'no message was still queued at the kill').toBeGreaterThan(0);
        for (const [id, wamid] of sentAtKill) {
          expect(accepts.some((a) => a.id === id && a.wamid === wamid && a.phase === 'first')).toBe(true);
        }

        // Requests the dead process left at the sandbox finish there (Meta may accept them); let them.
        await settle(() => accepts.length, 3 * SANDBOX_LATENCY_MS);
        const acceptedAfterKill = accepts.filter((a) => a.phase === 'dead').length;

        // 4. Restart on the same database; wait until every message is sent, then stop it gracefully.
        phase = 'restarted';
        const restartAt = performance.now();
        const second = await startChildServer({ env });
        const secondReady = performance.now();
        await eventually(async () => {
          const pending = await db
            .selectFrom('messages')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .where('status', '!=', 'sent')
            .executeTakeFirstOrThrow();
          return Number(pending.n) === 0;
        }, 40_000);
        const allSent = performance.now();
        await second.stop(10_000);
        await settle(() => accepts.length, 3 * SANDBOX_LATENCY_MS);

        // 5. The proof.
        const rows = await db.selectFrom('messages').select(['id', 'status', 'wamid']).execute();
        const leaseExpired = new Set(
          (
            await db
              .selectFrom('message_events')
              .select('message_id')
              .where('status', '=', 'lease_expired')
              .execute()
          ).map((row) => row.message_id),
        );
        const total = countBy(accepts);
        const byRestart = countBy(accepts.filter((a) => a.phase === 'restarted'));
        const wamidsById = new Map<string, Set<string>>();
        for (const a of accepts) wamidsById.set(a.id, (wamidsById.get(a.id) ?? new Set()).add(a.wamid));

        expect(rows.filter((r) => r.status !== 'sent' || r.wamid === null)).toEqual([]);
        expect(
          rows.filter((r) => !wamidsById.get(r.id)?.has(r.wamid ?? '')),
          'recorded wamid not issued for it',
        ).toEqual([]);
        expect(
          ids.filter((id) => (total.get(id) ?? 0) < 1),
          'never accepted by the sandbox',
        ).toEqual([]);
        const duplicates = ids.filter((id) => (total.get(id) ?? 0) > 1);
        expect(
          new Set(sandbox.state.duplicates().map((d) => d.callbackData)),
          "sandbox's own duplicate list",
        ).toEqual(new Set(duplicates));
        expect(
          duplicates.filter((id) => !ambiguous.has(id)),
          'sent twice though not in flight at the kill',
        ).toEqual([]);
        expect(
          ids.filter((id) => (byRestart.get(id) ?? 0) > 1),
          'sent twice by the restarted process',
        ).toEqual([]);
        expect(
          [...sentAtKill.keys()].filter((id) => (byRestart.get(id) ?? 0) > 0),
          'sent again after it was already sent',
        ).toEqual([]);
        expect(
          rows.filter((r) => sentAtKill.has(r.id) && sentAtKill.get(r.id) !== r.wamid),
          'wamid of a sent message changed',
        ).toEqual([]);
        expect(
          [...ambiguous].filter((id) => !leaseExpired.has(id)),
          'reclaimed without a lease_expired event',
        ).toEqual([]);
        expect(
          [...leaseExpired].filter((id) => !ambiguous.has(id)),
          'lease expired though not held at the kill',
        ).toEqual([]);

        console.log(
          `[crash-recovery ${dialect}] ${MESSAGES} accepted (202). At SIGKILL: sandbox had accepted ${killed.accepted}, ` +
            `${killed.openSandboxRequests} requests open at the sandbox; outbox sent=${sentAtKill.size} ` +
            `sending=${ambiguous.size} queued=${queuedAtKill}. Accepted by the sandbox after the kill: ${acceptedAfterKill}. ` +
            `Restart: reclaimed (lease_expired)=${leaseExpired.size}, sent by the restarted process=` +
            `${accepts.filter((a) => a.phase === 'restarted').length}. Duplicates: ${duplicates.length} ` +
            `(all among the ${ambiguous.size} in flight at the kill). Times: ready ${seconds(t0, firstReady)} s, ` +
            `enqueue ${seconds(firstReady, enqueued)} s, enqueued→kill ${seconds(enqueued, killed.at)} s, ` +
            `restart ready ${seconds(restartAt, secondReady)} s, restart→all sent ${seconds(secondReady, allSent)} s, ` +
            `total ${seconds(t0)} s.`,
        );
      } finally {
        unsubscribe();
        await stopAllChildServers();
        await database?.close();
        await sandbox.close();
        await target.dispose();
      }
    },
  );
});

/** POSTs `count` messages with `Prefer: respond-async`; every one must be answered 202. Returns their ids. */
async function enqueue(url: string, count: number): Promise<string[]> {
  const ids = new Array<string>(count);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const index = next++;
      const response = await fetch(`${url}/api/whatsapp/notify`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': TEST_API_KEY, prefer: 'respond-async' },
        body: JSON.stringify({ to: `+57 300 555 ${1000 + (index % 25)}`, message: `crash test ${index}` }),
      });
      const body = (await response.json()) as { data?: { id?: string } };
      if (response.status !== 202 || typeof body.data?.id !== 'string') {
        throw new Error(`message ${index}: expected 202, got ${response.status} ${JSON.stringify(body)}`);
      }
      ids[index] = body.data.id;
    }
  };
  await Promise.all(Array.from({ length: ENQUEUE_CONCURRENCY }, worker));
  return ids;
}

/** Waits until `value()` has not changed for `quietMs` (at most 10 s). */
async function settle(value: () => number, quietMs: number): Promise<void> {
  let last = value();
  let since = performance.now();
  await eventually(() => {
    const now = value();
    if (now !== last) {
      last = now;
      since = performance.now();
    }
    return performance.now() - since >= quietMs;
  }, 10_000);
}

function countBy(accepts: readonly Accept[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const a of accepts) counts.set(a.id, (counts.get(a.id) ?? 0) + 1);
  return counts;
}

async function prepareDatabase(dialect: TestDialect): Promise<DatabaseUnderTest> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'khk-crash-'));
  const removeDataDir = (): void => rmSync(dataDir, { recursive: true, force: true });
  if (dialect === 'sqlite') {
    return {
      // DATABASE_URL='' counts as unset, overriding any DATABASE_URL in a developer's .env.
      env: { DATA_DIR: dataDir, DATABASE_URL: '' },
      open: () => openDatabase({ url: null, sqliteFile: path.join(dataDir, 'keyhomekey.db') }),
      dispose: () => Promise.resolve(removeDataDir()),
    };
  }
  const schema = `crash_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  await withPgClient((client) => client.query(`create schema "${schema}"`));
  // main.ts has no schema setting: the server gets the schema through the URL's `options` (search_path).
  const serverUrl = new URL(TEST_PG_URL);
  serverUrl.searchParams.set('options', `-c search_path=${schema}`);
  return {
    env: { DATA_DIR: dataDir, DATABASE_URL: serverUrl.toString() },
    open: () => openDatabase({ url: TEST_PG_URL, sqliteFile: ':memory:', pgSchema: schema, pgPoolSize: 2 }),
    dispose: async () => {
      await withPgClient((client) => client.query(`drop schema if exists "${schema}" cascade`));
      removeDataDir();
    },
  };
}

async function withPgClient<T>(use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: TEST_PG_URL });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}
