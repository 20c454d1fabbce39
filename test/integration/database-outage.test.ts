import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signWebhookBody } from '../../src/whatsapp/webhook-signature.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { assertNoSecretsInLogs } from '../helpers/log-secrets.js';
import {
  eventually,
  isPostgresAvailable,
  startTestApp,
  TEST_API_KEY,
  TEST_PG_URL,
  type TestApp,
} from '../helpers/test-app.js';

const hasPostgres = await isPostgresAvailable();
const APP_SECRET = 'outage-app-secret-0123456789abcdef';

/**
 * PostgreSQL goes away while the service runs (a TCP proxy between them is cut; the shared server keeps
 * running): requests answer 503 database_unavailable instead of 500 or hanging, /readyz fails, /healthz
 * does not, nothing crashes, and everything resumes by itself when the database is back.
 */
describe.skipIf(!hasPostgres)('PostgreSQL outage while serving', () => {
  let proxy: TcpProxy;
  let t: TestApp;

  beforeAll(async () => {
    const target = new URL(TEST_PG_URL);
    proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    const proxied = new URL(TEST_PG_URL);
    proxied.hostname = '127.0.0.1';
    proxied.port = String(proxy.port);
    t = await startTestApp({
      dialect: 'postgres',
      env: {
        DATABASE_URL: proxied.toString(),
        WHATSAPP_APP_SECRET: APP_SECRET,
        // Short claims, so the message whose outcome could not be recorded is taken back soon after.
        WHATSAPP_REQUEST_TIMEOUT_MS: '3000',
        DISPATCH_LEASE_MS: '5000',
      },
    });
  });
  afterAll(async () => {
    proxy?.restore();
    if (t !== undefined) assertNoSecretsInLogs(t.logs, { secrets: [TEST_API_KEY, APP_SECRET] });
    await t?.close();
    await proxy?.close();
  });

  it('answers 503 while the database is down and resumes by itself, sending what was in flight', async () => {
    const ok = await t.request('POST', '/api/whatsapp/notify', {
      body: { to: '3005558801', message: 'antes' },
    });
    expect(ok.status).toBe(200);

    // A send in flight when the database goes: Meta has it, but its outcome cannot be recorded.
    const to = '573005558802';
    t.app.sandbox!.state.addScenario({ fault: 'slow', to, delayMs: 300, next: 1 });
    const inFlight = await t.request('POST', '/api/whatsapp/notify', {
      body: { to, message: 'durante' },
      headers: { prefer: 'respond-async' },
    });
    expect(inFlight.status).toBe(202);
    await eventually(() => t.app.sandbox!.state.messagesFor(to)[0]);

    proxy.cut();

    const notify = await t.request('POST', '/api/whatsapp/notify', {
      body: { to: '3005558803', message: 'x' },
    });
    expect(notify.status).toBe(503);
    expect(notify.headers.get('retry-after')).toBe('5');
    expect(notify.body).toEqual({
      success: false,
      error: {
        code: 'database_unavailable',
        message: 'Database unavailable, try again shortly',
        details: { requestId: expect.any(String) },
      },
    });
    for (const [method, path, body] of [
      ['GET', `/api/messages/${inFlight.body.data.id}`, undefined],
      ['GET', '/api/messages', undefined],
      ['GET', '/api/tickets', undefined],
      ['GET', '/api/providers', undefined],
      ['POST', '/api/tickets', { description: 'fuga', location: 'Bogotá', specialty: 'plomería' }],
    ] as const) {
      const res = await t.request(method, path, body === undefined ? {} : { body });
      expect(res.status, `${method} ${path}`).toBe(503);
      expect(res.body.error.code).toBe('database_unavailable');
    }
    const signed = '{"object":"whatsapp_business_account","entry":[]}';
    const webhook = await t.request('POST', '/api/whatsapp/webhook', {
      raw: signed,
      headers: {
        'content-type': 'application/json',
        'x-hub-signature-256': signWebhookBody(signed, APP_SECRET),
      },
    });
    // Meta retries a delivery that was not answered 200.
    expect(webhook.status).toBe(503);

    expect((await t.request('GET', '/readyz')).status).toBe(503);
    expect((await t.request('GET', '/healthz')).status).toBe(200);
    const metrics = await t.request('GET', '/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.body).toMatch(/^khk_database_up 0$/m);

    // The background workers log and keep going.
    for (const event of ['dispatcher.claim_failed', 'dispatcher.record_failed', 'webhook.sweep_failed']) {
      await eventually(() => (t.logs.some((line) => line.includes(`"event":"${event}"`)) ? true : undefined));
    }
    expect(t.logs.some((line) => line.includes('"event":"http.database_unavailable"'))).toBe(true);

    proxy.restore();

    const after = await eventually(async () => {
      const res = await t.request('POST', '/api/whatsapp/notify', {
        body: { to: '3005558804', message: 'después' },
      });
      return res.status === 200 ? res : undefined;
    }, 30_000);
    expect(after.body.data.messageId).toMatch(/^wamid\./);
    expect((await t.request('GET', '/readyz')).status).toBe(200);
    // The message whose outcome was lost is taken back when its claim expires, and goes out.
    const recovered = await eventually(async () => {
      const res = await t.request('GET', `/api/messages/${inFlight.body.data.id}`);
      return ['sent', 'delivered', 'read'].includes(res.body.data?.status) ? res.body.data : undefined;
    }, 30_000);
    expect(recovered.messageId).toMatch(/^wamid\./);
    const bodies = t.logs.join('\n');
    expect(bodies).not.toContain('"event":"server.crashed"');
  });

  it('answers 503 within the connect timeout when the database does not answer at all (partition)', async () => {
    proxy.cut('blackhole');
    try {
      // No open connection is left idle in the pool: the next query must open one, and that one never answers
      // (the dispatcher's own attempts may hold the pool's slots; waiting for a slot has the same timeout).
      const pool = t.app.database.pgPool!;
      await eventually(() => (pool.idleCount === 0 ? true : undefined));
      const res = await t.request('GET', '/api/messages');
      expect(res.status).toBe(503);
      expect(res.body.error.code).toBe('database_unavailable');
      expect((await t.request('GET', '/healthz')).status).toBe(200);
    } finally {
      proxy.restore();
    }
    await eventually(
      async () => ((await t.request('GET', '/api/messages')).status === 200 ? true : undefined),
      30_000,
    );
  });
});

/**
 * The embedded database has no outage, but another writer can hold its lock past busy_timeout (a CLI
 * `keyhomekey send` in a long transaction, a backup): SQLITE_BUSY is a 503 as well, and the next request works.
 */
describe('SQLite locked by another writer', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ dialect: 'sqlite' });
  });
  afterAll(async () => {
    if (t !== undefined) assertNoSecretsInLogs(t.logs, { secrets: [TEST_API_KEY] });
    await t?.close();
  });

  it('answers 503 while the file is locked past busy_timeout, then serves again', async () => {
    // Another process (better-sqlite3 waits synchronously, so not this one): it holds the write lock until
    // its stdin closes.
    const holder = spawn(
      process.execPath,
      [
        '-e',
        `const db = new (require('better-sqlite3'))(process.argv[1]); db.pragma('busy_timeout = 30000');
         db.exec('BEGIN IMMEDIATE'); process.stdout.write('locked\\n');
         process.stdin.on('end', () => { db.exec('ROLLBACK'); db.close(); }); process.stdin.resume();`,
        path.join(t.app.config.dataDir, 'keyhomekey.db'),
      ],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    try {
      await once(holder.stdout, 'data');
      const res = await t.request('POST', '/api/whatsapp/notify', {
        body: { to: '3005558901', message: 'bloqueado' },
        headers: { prefer: 'respond-async' },
      });
      expect(res.status).toBe(503);
      expect(res.body.error.code).toBe('database_unavailable');
    } finally {
      holder.stdin.end();
      await once(holder, 'exit');
    }
    const after = await t.request('POST', '/api/whatsapp/notify', {
      body: { to: '3005558901', message: 'libre' },
      headers: { prefer: 'respond-async' },
    });
    expect(after.status).toBe(202);
  });
});
