import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import pg from 'pg';
import { buildApp, type App } from '../../src/app.js';
import { loadConfig } from '../../src/config/load-config.js';
import { createLogger } from '../../src/shared/logger.js';
import type { Clock } from '../../src/shared/clock.js';

export type TestDialect = 'sqlite' | 'postgres';

export const TEST_API_KEY = 'test-api-key-0123456789abcdef';
export const TEST_PG_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

let pgAvailable: Promise<boolean> | null = null;

/** PostgreSQL is required in CI (CI=true or TEST_DATABASE_URL set); locally it is used when reachable. */
export async function isPostgresAvailable(): Promise<boolean> {
  pgAvailable ??= (async () => {
    const client = new pg.Client({ connectionString: TEST_PG_URL, connectionTimeoutMillis: 2000 });
    try {
      await client.connect();
      await client.end();
      return true;
    } catch (error) {
      if (process.env.CI === 'true' || process.env.TEST_DATABASE_URL !== undefined) throw error;
      return false;
    }
  })();
  return pgAvailable;
}

/** The dialects every integration suite runs on. */
export const DIALECTS: TestDialect[] = ['sqlite', 'postgres'];

export interface TestApp {
  app: App;
  url: string;
  logs: string[];
  /** Where its data lives: pass as `reuse` to start another app on the same database (a restart). */
  data: { dataDir: string; pgSchema?: string };
  /** fetch against the app with the API key (unless `headers['x-api-key']` overrides it). */
  request(
    method: string,
    pathname: string,
    init?: { body?: unknown; headers?: Record<string, string>; raw?: string },
  ): Promise<TestResponse>;
  /** Stops the app; `keepData` leaves its database for a restart with `reuse`. */
  close(options?: { keepData?: boolean }): Promise<void>;
}

/** A clock tests move forward by hand (it runs with real time, plus what they added). */
export class AdjustableClock implements Clock {
  private offsetMs = 0;
  now(): number {
    return Date.now() + this.offsetMs;
  }
  advance(ms: number): void {
    this.offsetMs += ms;
  }
}

export interface TestResponse {
  status: number;
  headers: Headers;
  // Test assertions read arbitrary JSON; typing each response is the assertion's job.
  body: any;
}

export async function startTestApp(options: {
  dialect: TestDialect;
  env?: Record<string, string>;
  clock?: Clock;
  /** The data of an app closed with `keepData` (a restart on the same database). */
  reuse?: TestApp['data'];
  /** Folder of the built web app to serve (browser tests). */
  webRoot?: string;
}): Promise<TestApp> {
  const dataDir = options.reuse?.dataDir ?? mkdtempSync(path.join(tmpdir(), 'khk-test-'));
  const pgSchema =
    options.dialect !== 'postgres'
      ? undefined
      : (options.reuse?.pgSchema ?? `t_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`);
  const config = loadConfig({
    cwd: dataDir,
    readDotenvFiles: false,
    env: {
      DATA_DIR: dataDir,
      PORT: '0',
      LOG_LEVEL: 'info',
      INTERNAL_API_KEY: TEST_API_KEY,
      WHATSAPP_MAX_MPS: '0',
      WHATSAPP_RETRY_BASE_MS: '20',
      NOTIFY_WAIT_MS: '5000',
      RATE_LIMIT_MAX: '0',
      ...(options.dialect === 'postgres' ? { DATABASE_URL: TEST_PG_URL } : {}),
      ...options.env,
    },
  });
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      logs.push(chunk.toString());
      callback();
    },
  });
  const logger = createLogger({ level: config.logLevel, destination: sink });
  const app = await buildApp({
    config,
    logger,
    apiKeys: config.internalApiKeys,
    pollIntervalMs: 50,
    ...(options.clock === undefined ? {} : { clock: options.clock }),
    ...(pgSchema === undefined ? {} : { pgSchema }),
    ...(options.webRoot === undefined ? {} : { webRoot: options.webRoot }),
  });
  const url = await app.http.listen({ port: 0, host: '127.0.0.1' });
  app.start();

  return {
    app,
    url,
    logs,
    data: pgSchema === undefined ? { dataDir } : { dataDir, pgSchema },
    async request(method, pathname, init = {}) {
      const headers: Record<string, string> = { 'x-api-key': TEST_API_KEY, ...init.headers };
      let body: string | undefined;
      if (init.raw !== undefined) body = init.raw;
      else if (init.body !== undefined) {
        body = JSON.stringify(init.body);
        headers['content-type'] ??= 'application/json';
      }
      for (const [name, value] of Object.entries(headers)) if (value === '') delete headers[name];
      const response = await fetch(`${url}${pathname}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body }),
      });
      const text = await response.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        // not JSON: keep the text
      }
      return { status: response.status, headers: response.headers, body: parsed };
    },
    async close(closeOptions = {}) {
      await app.close(2000);
      if (closeOptions.keepData === true) return;
      if (pgSchema !== undefined) await dropSchema(pgSchema);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_PG_URL });
  await client.connect();
  try {
    await client.query(`drop schema if exists "${schema}" cascade`);
  } finally {
    await client.end();
  }
}

/** Polls until `check` returns a value (not undefined/false) or the time is up (`what` names it in the error). */
export async function eventually<T>(
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 10_000,
  options: { what?: string; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`${options.what ?? 'condition'} not met within ${timeoutMs} ms`, { cause: last });
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 25));
  }
}
