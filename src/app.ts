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
import {
  isDatabaseReady,
  migrateToLatest,
  openDatabase,
  type Database,
  type DatabaseOptions,
} from './db/database.js';
import { buildHttpApp } from './http/build-http-app.js';
import { listenOrigins, type SessionAuth } from './http/plugins/session-auth.js';
import { userRoutes } from './http/routes/users/index.js';
import { ensureFirstAdmin, type FirstAdmin } from './auth/ensure-first-admin.js';
import { SessionStore } from './auth/session-store.js';
import { UserStore } from './auth/user-store.js';
import { sandboxRoutes } from './http/routes/sandbox/index.js';
import { Dispatcher } from './messages/dispatcher.js';
import { MessageNotifier } from './messages/message-notifier.js';
import { MessageStore } from './messages/message-store.js';
import { Outbox } from './messages/outbox.js';
import { createThroughputLimiter } from './messages/throughput-limiter.js';
import { applyPendingStatuses, type StatusDeps } from './messages/apply-status.js';
import { ConversationWindows } from './messages/conversation-window.js';
import { WebhookInbox } from './messages/webhook-inbox.js';
import { createMediaStorage } from './media/create-media-storage.js';
import { createMetrics, type AppMetrics } from './metrics/metrics.js';
import { createHttpProviderDirectory } from './providers/provider-directory.js';
import { createProviderMatcher } from './providers/provider-matcher.js';
import { ProviderStore } from './providers/provider-store.js';
import { providerRoutes } from './http/routes/providers/index.js';
import { ticketRoutes } from './http/routes/tickets/index.js';
import { mediaUploadRoute } from './http/routes/whatsapp/media.js';
import { webhookRoutes } from './http/routes/whatsapp/webhook.js';
import { handleReply, offerUndeliverable } from './tickets/assignment-flow.js';
import { AssignmentStore } from './tickets/assignment-store.js';
import { AssignmentSweeper } from './tickets/assignment-sweeper.js';
import type { TicketDeps } from './tickets/ticket-deps.js';
import { TicketStore } from './tickets/ticket-store.js';
import { createMediaLinks, deriveMediaLinkSecret } from './media/media-links.js';
import { toMatchKey } from './providers/match-key.js';
import { signedMediaRoute } from './http/routes/tickets/signed-media.js';
import type { InboundEvent } from './whatsapp/webhook-events.js';
import { REENGAGEMENT_CODE } from './messages/apply-status.js';
import { normalizePhoneNumber } from './whatsapp/phone-number.js';
import type { Sandbox } from './sandbox/build-sandbox.js';
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
  /** Folder of the built web app (dist/web); undefined = API only. */
  webRoot?: string;
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
  readonly webhookInbox: WebhookInbox;
  readonly providerStore: ProviderStore;
  readonly tickets: TicketStore;
  /** Expires overdue offers and hands stalled tickets on (also runs on its own every few seconds). */
  readonly assignmentSweeper: AssignmentSweeper;
  readonly users: UserStore;
  /** Whether this start created the first admin (and the password to print once if generated). */
  readonly firstAdmin: FirstAdmin;
  /** This app's Prometheus registry and recorders (one per app, never the global registry). */
  readonly metrics: AppMetrics;
  /** Starts background work (the dispatcher). */
  start(): void;
  /** Stops the dispatcher (letting sends in flight finish within `graceMs`), HTTP, sandbox, database. */
  close(graceMs?: number): Promise<void>;
}

export async function buildApp(options: AppOptions): Promise<App> {
  const { config, logger } = options;
  const clock = options.clock ?? systemClock;

  const databaseOptions: DatabaseOptions = {
    url: config.databaseUrl,
    sqliteFile: path.join(config.dataDir, 'keyhomekey.db'),
    ...(options.pgSchema === undefined ? {} : { pgSchema: options.pgSchema }),
    onConnectionError: (error) =>
      logger.warn(
        { event: 'db.connection_lost', err: error },
        'database connection lost; reconnecting on demand',
      ),
  };
  const database = openDatabase({
    ...databaseOptions,
    statementTimeoutMs: config.databaseStatementTimeoutMs,
  });
  if (database.dialect === 'postgres') {
    // A migration may run longer than the serving pool's statement timeout (an index on a large table):
    // it gets a connection of its own with no limit. The serving pool connects only on its first query.
    const migrating = openDatabase({ ...databaseOptions, pgPoolSize: 1 });
    try {
      await migrateToLatest(migrating, options.pgSchema);
    } finally {
      await migrating.close();
    }
  } else {
    await migrateToLatest(database);
  }

  // The in-process sandbox sends its webhooks to this app; the port is known once the app listens.
  const selfUrl = { webhook: '' };
  const whatsapp = await connectWhatsApp(config, logger, () => selfUrl.webhook);
  const limiter = await createThroughputLimiter({
    maxPerSecond: config.dispatch.maxMps,
    key: whatsapp.phoneNumberId,
    pgPool: database.pgPool,
  });
  const outbox = new Outbox(database.db, database.dialect, whatsapp.phoneNumberId, clock);
  const metrics = createMetrics({ outboxSnapshot: () => outbox.snapshot(), clock });
  const messageStore = new MessageStore(database.db);
  const notifier = new MessageNotifier();
  const windows = new ConversationWindows(database.db, clock);
  const wakeDispatcher = (): void => dispatcher?.wake();
  const statusDeps: StatusDeps = {
    db: database.db,
    outbox,
    notifier,
    clock,
    logger,
    wakeDispatcher,
    unmatched: { count: 0 },
    // What a ticket does when its offer fails for good: the next candidate at once (ticketDeps below).
    onStatus: async ({ message, status, event }) => {
      if (status !== 'failed') return;
      const whatsappCode = event.errors[0]?.code ?? null;
      await offerUndeliverable(ticketDeps, {
        ticketId: message.ticket_id,
        recipient: message.recipient,
        whatsappCode,
        reengaging: whatsappCode === REENGAGEMENT_CODE && message.fallback_payload !== null,
      });
    },
    metrics: metrics.messages,
  };
  const webhookInbox = new WebhookInbox({
    db: database.db,
    clock,
    logger,
    status: statusDeps,
    inbound: {
      db: database.db,
      windows,
      clock,
      logger,
      // Aceptar / Rechazar / Tomar taps move their ticket (assignment-flow.ts); other replies are just kept.
      onInbound: async ({ event }) => {
        const payload = buttonPayload(event);
        if (payload !== null) await handleReply(ticketDeps, { from: event.from, payload });
      },
    },
    metrics: metrics.messages,
  });
  const dispatcher: Dispatcher | null =
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
            windows,
            onSent: async (_messageId, wamid) => {
              if (statusDeps.unmatched.count > 0) await applyPendingStatuses(statusDeps, wamid);
            },
            onFailed: async (row, error, fallbackQueued) => {
              await offerUndeliverable(ticketDeps, {
                ticketId: row.ticket_id,
                recipient: row.recipient,
                whatsappCode: error.whatsappCode,
                reengaging: fallbackQueued,
              });
            },
            metrics: metrics.messages,
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

  const media = await createMediaStorage(config.media);
  // A provider without history ranks as if every offer cost half the default deadline (provider-ranking.ts).
  const ranking = { priorMs: config.tickets.assignmentTimeoutMs / 2 };
  const providerStore = new ProviderStore({
    db: database.db,
    clock,
    defaultCountry: config.defaultCountry,
    ranking,
  });
  const directory =
    config.tickets.directoryUrl === null
      ? null
      : createHttpProviderDirectory({
          url: config.tickets.directoryUrl,
          timeoutMs: config.tickets.directoryTimeoutMs,
          logger,
          defaultCountry: config.defaultCountry,
        });
  const tickets = new TicketStore(
    database.db,
    clock,
    (ticketId, mediaId) => `/api/tickets/${ticketId}/media/${mediaId}`,
  );
  const centerNumber = normalizeCenter(config, logger);
  const mediaLinks = createMediaLinks({
    secret:
      config.tickets.mediaLinkSecret ??
      deriveMediaLinkSecret(options.apiKeys[0] ?? randomBytes(32).toString('hex')),
    baseUrl: config.tickets.baseUrl,
    clock,
  });
  const ticketDeps: TicketDeps = {
    db: database.db,
    tickets,
    assignments: new AssignmentStore(database.db),
    outbox,
    matcher: createProviderMatcher({
      db: database.db,
      store: providerStore,
      directory,
      logger,
      defaultCountry: config.defaultCountry,
    }),
    media,
    clock,
    logger,
    wakeDispatcher,
    defaultCountry: config.defaultCountry,
    centerNumber,
    templateName: config.whatsapp.templateNewTicket,
    templateLanguage: config.whatsapp.templateLanguage,
    includeReporterPhone: config.tickets.includeReporterPhone,
    ticketLink: (ticketId) => `${config.tickets.baseUrl}/tickets/${ticketId}`,
    notifyReporter: config.tickets.notifyReporter,
    mediaLink: (ticketId, mediaId) => mediaLinks.link(ticketId, mediaId),
    offerTimeouts: {
      defaultMs: config.tickets.assignmentTimeoutMs,
      bySpecialtyKey: new Map(
        [...config.tickets.assignmentTimeoutBySpecialty].map(([specialty, ms]) => [
          toMatchKey(specialty),
          ms,
        ]),
      ),
    },
    ranking,
  };
  const assignmentSweeper = new AssignmentSweeper(ticketDeps, config.tickets.assignmentCheckIntervalMs);

  const users = new UserStore(database.db, clock);
  const firstAdmin = await ensureFirstAdmin(users, {
    email: config.auth.adminEmail,
    password: config.auth.adminPassword,
  });
  // Without APP_ORIGIN, the listen URL's origins; with port 0 they are known once listening.
  let allowedOrigins: readonly string[] =
    config.auth.allowedOrigins ?? listenOrigins(config.host, config.port);
  const sessionAuth: SessionAuth = {
    sessions: new SessionStore(database.db, clock, config.auth.sessionTtlMs),
    allowedOrigins: () => allowedOrigins,
    secureCookies: config.auth.secureCookies,
    sessionTtlMs: config.auth.sessionTtlMs,
  };

  const sandbox = whatsapp.sandbox;
  const http = await buildHttpApp({
    logger,
    apiKeys: options.apiKeys,
    bodyLimitBytes: config.bodyLimitBytes,
    requestTimeoutMs: config.requestTimeoutMs,
    rateLimitMax: config.rateLimitMax,
    trustProxy: config.trustProxy,
    version: options.version ?? '0.0.0',
    notify: {
      outbox,
      messageStore,
      notifier,
      wakeDispatcher: dispatcher === null ? null : () => dispatcher.wake(),
      defaultCountry: config.defaultCountry,
      notifyWaitMs: config.dispatch.notifyWaitMs,
      templateLanguage: config.whatsapp.templateLanguage,
      templateParameterCounts: config.whatsapp.templateParameterCounts,
    },
    messageStore,
    isReady: () => isDatabaseReady(database),
    extraApiRoutes: async (api) => {
      await api.register(ticketRoutes, { deps: ticketDeps, tickets, media });
      await api.register(providerRoutes, { store: providerStore });
      await api.register(mediaUploadRoute, { client: whatsapp.client });
      if (sandbox !== null) await api.register(sandboxRoutes, { state: sandbox.state });
      await api.register(userRoutes, { users });
    },
    session: {
      auth: sessionAuth,
      users,
      loginRateLimitMax: config.auth.loginRateLimitMax,
      sandbox: sandbox !== null,
    },
    ...(options.webRoot === undefined ? {} : { webRoot: options.webRoot }),
    publicRoutes: async (scope) => {
      await scope.register(webhookRoutes, {
        inbox: webhookInbox,
        appSecret: whatsapp.appSecret,
        verifyToken: config.whatsapp.verifyToken,
        rateLimitMax: config.webhookRateLimitMax,
        metrics: metrics.http,
      });
      await scope.register(signedMediaRoute, { links: mediaLinks, tickets, media });
    },
    ops: { metrics: metrics.http, metricsPublic: config.metricsPublic, corsOrigins: config.corsOrigins },
  });

  http.server.on('listening', () => {
    const address = http.server.address();
    if (address !== null && typeof address === 'object') {
      selfUrl.webhook = `http://127.0.0.1:${address.port}/api/whatsapp/webhook`;
      if (config.auth.allowedOrigins === null) allowedOrigins = listenOrigins(config.host, address.port);
    }
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
    webhookInbox,
    providerStore,
    tickets,
    assignmentSweeper,
    users,
    firstAdmin,
    metrics,
    start: () => {
      dispatcher?.start();
      webhookInbox.start();
      assignmentSweeper.start();
    },
    close: async (graceMs = 10_000) => {
      if (isClosed) return;
      isClosed = true;
      await assignmentSweeper.stop();
      await dispatcher?.stop(graceMs);
      // The in-process sandbox first: it stops sending webhooks into the server we are about to close.
      await sandbox?.app.close();
      await closeHttp(http);
      await webhookInbox.stop();
      await database.close();
    },
  };
}

/**
 * Stops accepting, lets requests in flight finish, and closes each keep-alive connection as soon as it is
 * idle (otherwise a connection that was busy at close time stays open for the 72 s keep-alive timeout).
 */
async function closeHttp(http: FastifyInstance): Promise<void> {
  const closing = http.close();
  const sweeper = setInterval(() => http.server.closeIdleConnections(), 100);
  try {
    await closing;
  } finally {
    clearInterval(sweeper);
  }
}

/** The payload of a tapped button (interactive reply id or template quick-reply payload), else null. */
function buttonPayload(event: InboundEvent): string | null {
  if (event.content.kind === 'button_reply') return event.content.id;
  if (event.content.kind === 'template_button') return event.content.payload;
  return null;
}

/** WHATSAPP_DEFAULT_TO as digits; a wrong value is reported at start and treated as unset. */
function normalizeCenter(config: Config, logger: Logger): string | null {
  const raw = config.whatsapp.defaultTo;
  if (raw === null) return null;
  const phone = normalizePhoneNumber(raw, config.defaultCountry);
  if (phone.ok) return phone.digits;
  logger.error(
    { event: 'config.invalid_center_number', reason: phone.reason },
    'WHATSAPP_DEFAULT_TO is not a valid number',
  );
  return null;
}

interface WhatsAppConnection {
  /** Verifies webhooks: WHATSAPP_APP_SECRET, or a random one shared with the in-process sandbox. */
  appSecret: string | null;
  client: WhatsAppClient | null;
  phoneNumberId: string;
  sandbox: Sandbox | null;
  sandboxUrl: string | null;
}

async function connectWhatsApp(
  config: Config,
  logger: Logger,
  webhookUrl: () => string,
): Promise<WhatsAppConnection> {
  const { whatsapp } = config;
  if (whatsapp.mode === 'sandbox') {
    // A fresh random token per start: the sandbox only listens on loopback and trusts only this process.
    const token = randomBytes(24).toString('hex');
    const sandboxSecret = randomBytes(24).toString('hex');
    // Loaded only in sandbox mode, so production processes do not carry the emulator.
    const { buildSandbox } = await import('./sandbox/build-sandbox.js');
    const sandbox = buildSandbox({
      tokens: [token],
      phoneNumberIds: [SANDBOX_PHONE_NUMBER_ID],
      webhook: { url: webhookUrl, appSecret: whatsapp.appSecret ?? sandboxSecret },
    });
    const sandboxUrl = await sandbox.app.listen({ port: 0, host: '127.0.0.1' });
    const client = createCloudApiClient({
      baseUrl: sandboxUrl,
      apiVersion: whatsapp.apiVersion,
      phoneNumberId: SANDBOX_PHONE_NUMBER_ID,
      token,
      timeoutMs: whatsapp.requestTimeoutMs,
    });
    return {
      client,
      phoneNumberId: SANDBOX_PHONE_NUMBER_ID,
      sandbox,
      sandboxUrl,
      appSecret: whatsapp.appSecret ?? sandboxSecret,
    };
  }
  if (whatsapp.token === null || whatsapp.phoneNumberId === null) {
    logger.warn(
      { event: 'whatsapp.not_configured' },
      'WhatsApp API credentials not configured: set WHATSAPP_TOKEN and WHATSAPP_PHONE_NUMBER_ID (messages stay queued)',
    );
    return {
      appSecret: whatsapp.appSecret,
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
  return {
    client,
    phoneNumberId: whatsapp.phoneNumberId,
    sandbox: null,
    sandboxUrl: null,
    appSecret: whatsapp.appSecret,
  };
}
