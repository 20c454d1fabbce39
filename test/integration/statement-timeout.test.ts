import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPostgresAvailable, startTestApp, TEST_PG_URL, type TestApp } from '../helpers/test-app.js';

const hasPostgres = await isPostgresAvailable();
const TIMEOUT_MS = 300;

/**
 * A statement stuck behind a lock (a long migration, a manual `LOCK TABLE`, a runaway transaction in
 * another client) is cancelled by PostgreSQL after DATABASE_STATEMENT_TIMEOUT_MS: its request answers 503
 * instead of hanging and holding a pooled connection, and the service serves again once the lock is gone.
 */
describe.skipIf(!hasPostgres)('PostgreSQL statement timeout', () => {
  let t: TestApp;
  let locker: pg.Client;
  let schema: string;

  beforeAll(async () => {
    t = await startTestApp({
      dialect: 'postgres',
      env: { DATABASE_STATEMENT_TIMEOUT_MS: String(TIMEOUT_MS) },
    });
    schema = t.data.pgSchema ?? '';
    locker = new pg.Client({ connectionString: TEST_PG_URL });
    await locker.connect();
  });
  afterAll(async () => {
    await locker?.end();
    await t?.close();
  });

  it('answers 503 while a lock outlasts the timeout, and serves again once it is released', async () => {
    expect((await t.request('GET', '/api/messages')).status).toBe(200);

    await locker.query('begin');
    await locker.query(`lock table "${schema}".messages in access exclusive mode`);
    const answers: { status: number; code: unknown; ms: number }[] = [];
    try {
      // More requests than the pool has connections: each must come back, none may keep its connection.
      for (let i = 0; i < 12; i++) {
        const started = performance.now();
        const res = await t.request(
          'POST',
          '/api/whatsapp/notify',
          i % 2 === 0
            ? { body: { to: '3005558811', message: `bloqueado ${i}` }, headers: { prefer: 'respond-async' } }
            : {},
        );
        answers.push({
          status: res.status,
          code: (res.body as { error?: { code?: unknown } }).error?.code,
          ms: performance.now() - started,
        });
      }
      const listed = await t.request('GET', '/api/messages');
      answers.push({
        status: listed.status,
        code: (listed.body as { error?: { code?: unknown } }).error?.code,
        ms: 0,
      });
    } finally {
      await locker.query('rollback');
    }

    // The odd requests had no body (400 before any query); every request that reached the table was cancelled.
    for (const [index, answer] of answers.entries()) {
      if (index % 2 === 1 && index < 12) {
        expect(answer.status, `request ${index}`).toBe(400);
        continue;
      }
      expect(answer, `request ${index}`).toMatchObject({ status: 503, code: 'database_unavailable' });
    }
    // Each waited about the timeout, not until the lock went (a generous bound for a loaded machine).
    const slowest = Math.max(...answers.map((answer) => answer.ms));
    expect(slowest).toBeLessThan(TIMEOUT_MS + 5000);

    const sent = await t.request('POST', '/api/whatsapp/notify', {
      body: { to: '3005558812', message: 'desbloqueado' },
      headers: { prefer: 'respond-async' },
    });
    expect(sent.status).toBe(202);
    expect((await t.request('GET', '/api/messages')).status).toBe(200);
  });
});
