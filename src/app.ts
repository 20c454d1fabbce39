/**
 * The composition root: builds every dependency once (database, WhatsApp client or sandbox, outbox,
 * dispatcher, HTTP app) and hands them to the modules that need them. It never listens and never
 * reads the environment; main.ts does both, tests build it against temporary databases.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from './config/load-config.js';
import { isDatabaseReady, migrateToLatest, openDatabase, type Database } from './db/database.js';
import { buildHttpApp } from './http/build-http-app.js';
import { sandboxRoutes } from './http/routes/sandbox/index.js';
import { Dispatcher } from './messages/dispatcher.js';
import { MessageNotifier } from './messages/message-notifier.js';
import { MessageStore } from './messages/message-store.js';
import { Outbox } from './messages/outbox.js';
import { createThroughputLimiter } from './messages/throughput-limiter.js';
import { buildSandbox, type Sandbox } from './sandbox/build-sandbox.js';
import { systemClock, type Clock } from './shared/clock.js';
import { newId } from './shared/ids.js';
import { createCloudApiClient } from './whatsapp/cloud-api-client.js';
import type { WhatsAppClient } from './whatsapp/whatsapp-client.js';

/** The phone number id the sandbox answers to. */
export const SANDBOX_PHONE_NUMBER_ID = '100000000000001';

export interface AppOptions {
  config: Config;
  logger: Logger;
  /** Resolved API keys (config's, or the generated development key). */
  apiKeys: readonly string[];
  version?: string;
  clock?: Clock;
  random?: () => number;
  /** PostgreSQL schema to work in (tests use one per file). */
  pgSchema?: string;
  /** How often an idle dispatcher looks for due messages. */
  pollIntervalMs?: number;
}

export interface App {
  readonly http: FastifyInstance;
  readonly config: Config;
  readonly database: Database;
  readonly outbox: Outbox;
  readonly messageStore: MessageStore;
  /** Null in cloud mode without credentials: messages wait in the outbox. */
  readonly dispatcher: Dispatcher | null;
  /** The in-process emulator in sandbox mode. */
  readonly sandbox: Sandbox | null;
  readonly sandboxUrl: string | null;
  readonly phoneNumberId: string;
  /** Starts background work (the dispatcher). */
  start(): void;
  /** Stops the dispatcher (letting sends in flight finish within `graceMs`), HTTP, sandbox, database. */
  close(graceMs?: number): Promise<void>;
}

export async function buildApp(options: AppOptions): Promise<App> {
  const { config, logger } = options;
  const clock = options.clock ?? systemClock;

  const database = openDatabase({
    url: config.databaseUrl,
    sqliteFile: path.join(config.dataDir, 'keyhomekey.db'),
    ...(options.pgSchema === undefined ? {} : { pgSchema: options.pgSchema }),
  });
  await migrateToLatest(database, options.pgSchema);

  const whatsapp = await connectWhatsApp(config, logger);
  const limiter = await createThroughputLimiter({
    maxPerSecond: config.dispatch.maxMps,
    key: whatsapp.phoneNumberId,
    pgPool: database.pgPool,
  });
  const outbox = new Outbox(database.db, database.dialect, whatsapp.phoneNumberId, clock);
  const messageStore = new MessageStore(database.db);
  const notifier = new MessageNotifier();
  const dispatcher =
    whatsapp.client === null
      ? null
      : new Dispatcher(
          {
            outbox,
            client: whatsapp.client,
            limiter,
            notifier,
            logger,
            clock,
            random: options.random ?? Math.random,
          },
          {
            owner: `${process.pid}-${newId()}`,
            concurrency: config.dispatch.concurrency,
            leaseMs: config.dispatch.leaseMs,
            maxAttempts: config.dispatch.maxAttempts,
            retryBaseMs: config.dispatch.retryBaseMs,
            pollIntervalMs: options.pollIntervalMs ?? 250,
            claimBatch: config.dispatch.maxMps > 0 ? Math.min(config.dispatch.maxMps, 200) : 200,
          },
        );

  const sandbox = whatsapp.sandbox;
  const http = await buildHttpApp({
    logger,
    apiKeys: options.apiKeys,
    bodyLimitBytes: config.bodyLimitBytes,
    requestTimeoutMs: config.requestTimeoutMs,
    rateLimitMax: config.rateLimitMax,
    version: options.version ?? '0.0.0',
    notify: {
      outbox,
      messageStore,
      notifier,
      wakeDispatcher: dispatcher === null ? null : () => dispatcher.wake(),
      defaultCountry: config.defaultCountry,
      notifyWaitMs: config.dispatch.notifyWaitMs,
    },
    messageStore,
    isReady: () => isDatabaseReady(database),
    ...(sandbox === null
      ? {}
      : { extraApiRoutes: (api) => api.register(sandboxRoutes, { state: sandbox.state }) }),
  });

  let isClosed = false;
  return {
    http,
    config,
    database,
    outbox,
    messageStore,
    dispatcher,
    sandbox,
    sandboxUrl: whatsapp.sandboxUrl,
    phoneNumberId: whatsapp.phoneNumberId,
    start: () => dispatcher?.start(),
    close: async (graceMs = 10_000) => {
      if (isClosed) return;
      isClosed = true;
      await dispatcher?.stop(graceMs);
      await http.close();
      await sandbox?.app.close();
      await database.close();
    },
  };
}

interface WhatsAppConnection {
  client: WhatsAppClient | null;
  phoneNumberId: string;
  sandbox: Sandbox | null;
  sandboxUrl: string | null;
}

async function connectWhatsApp(config: Config, logger: Logger): Promise<WhatsAppConnection> {
  const { whatsapp } = config;
  if (whatsapp.mode === 'sandbox') {
    // A fresh random token per start: the sandbox only listens on loopback and trusts only this process.
    const token = randomBytes(24).toString('hex');
    const sandbox = buildSandbox({ tokens: [token], phoneNumberIds: [SANDBOX_PHONE_NUMBER_ID] });
    const sandboxUrl = await sandbox.app.listen({ port: 0, host: '127.0.0.1' });
    const client = createCloudApiClient({
      baseUrl: sandboxUrl,
      apiVersion: whatsapp.apiVersion,
      phoneNumberId: SANDBOX_PHONE_NUMBER_ID,
      token,
      timeoutMs: whatsapp.requestTimeoutMs,
    });
    return { client, phoneNumberId: SANDBOX_PHONE_NUMBER_ID, sandbox, sandboxUrl };
  }
  if (whatsapp.token === null || whatsapp.phoneNumberId === null) {
    logger.warn(
      { event: 'whatsapp.not_configured' },
      'WhatsApp API credentials not configured: set WHATSAPP_TOKEN and WHATSAPP_PHONE_NUMBER_ID (messages stay queued)',
    );
    return {
      client: null,
      phoneNumberId: whatsapp.phoneNumberId ?? 'unconfigured',
      sandbox: null,
      sandboxUrl: null,
    };
  }
  const client = createCloudApiClient({
    baseUrl: whatsapp.apiUrl,
    apiVersion: whatsapp.apiVersion,
    phoneNumberId: whatsapp.phoneNumberId,
    token: whatsapp.token,
    timeoutMs: whatsapp.requestTimeoutMs,
  });
  return { client, phoneNumberId: whatsapp.phoneNumberId, sandbox: null, sandboxUrl: null };
}
