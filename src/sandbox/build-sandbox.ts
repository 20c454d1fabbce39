import Fastify, { type FastifyInstance, type FastifyPluginAsync, type FastifyServerOptions } from 'fastify';
import { controlRoutes, sendControlError } from './control-routes.js';
import { graphFailure, sendGraphFailure } from './graph-errors.js';
import { graphRoutes } from './graph-routes.js';
import {
  DEFAULT_WINDOW_MS,
  SandboxState,
  type ResolvedWebhookOptions,
  type SandboxInstrument,
} from './sandbox-state.js';
import { MAX_BATCH_STATUSES } from './status-batcher.js';
import { DEFAULT_STATUS_DELAYS, type StatusDelays, type TemplateCategory } from './status-plan.js';
import { DEFAULT_IDENTITY } from './webhook-payloads.js';

/** The reply leg: where and how the sandbox sends Meta's webhooks (statuses and replies). */
export interface SandboxWebhookOptions {
  /** The service's webhook endpoint; a function when it is known only after the service listens. */
  url: string | (() => string);
  /** Signs every body: `X-Hub-Signature-256` (HMAC-SHA256) and legacy `X-Hub-Signature` (HMAC-SHA1). */
  appSecret: string;
  /** `entry[].id`. Default `100000000000000`. */
  wabaId?: string;
  /** `metadata.display_phone_number` and the `context.from` of replies. Default `15550000000`. */
  displayPhoneNumber?: string;
  /** Ms after acceptance for each status. Default 20 / 60 / 120. */
  statusDelaysMs?: StatusDelays;
  /** False: recipients have read receipts off, so no `read` status. Default true. */
  readReceipts?: boolean;
  /** Tries per webhook (the first included) and the wait before the 2nd, doubling after. Default 4 / 250 ms. */
  retry?: { attempts: number; backoffMs: number };
  /** Webhook POSTs in flight at once, never two for the same recipient. Default 4. */
  concurrency?: number;
  /** Webhooks queued, in flight or waiting for a retry; beyond it new ones are discarded. Default 10,000. */
  maxQueue?: number;
  /** Per attempt. Default 10,000 ms. */
  timeoutMs?: number;
  /**
   * Batch statuses as Meta does under load: up to `maxStatuses` (2..1000) per POST, the first waiting at
   * most `maxWaitMs` for others; one batch in flight per lane (`concurrency` lanes, a recipient always in
   * the same one). Absent: one status per webhook (the default).
   */
  statusBatch?: { maxStatuses: number; maxWaitMs: number };
}

export interface SandboxOptions {
  /** Accepted `Authorization: Bearer` tokens; anything else gets Graph error 190. */
  tokens: string[];
  /** When given, sends and uploads for other phone number ids get Graph error 100. */
  phoneNumberIds?: string[];
  /** Messages per second per phone number id; above it Graph error 130429 (HTTP 429). 0 or absent = unlimited. */
  maxMps?: number;
  /** Delay before every Graph answer, in ms (benchmarks). */
  latencyMs?: number;
  /** Fastify/pino logger options for {@link buildSandbox}; off by default so the hot path does no logging. */
  logger?: FastifyServerOptions['logger'];
  /** Newest messages kept per recipient. Default 1,000. */
  maxMessagesPerNumber?: number;
  /** Newest messages kept overall. Default 50,000. */
  maxMessagesTotal?: number;
  /** Distinct `biz_opaque_callback_data` values remembered for duplicate detection. Default 500,000. */
  maxTrackedCallbackData?: number;
  /** Bytes of uploaded media kept (oldest dropped first). Default 256 MB. */
  maxMediaBytes?: number;
  /**
   * When given, only these templates exist (others: Graph error 132001); otherwise any template is
   * accepted. `category` prices their status webhooks (default utility); `quickReplies` are the
   * labels of their quick-reply buttons, which Meta knows from the template and a send does not carry.
   */
  templates?: { name: string; language: string; category?: TemplateCategory; quickReplies?: string[] }[];
  /** Milliseconds since the epoch; injectable so tests can pin the per-second windows. */
  clock?: () => number;
  /** Uniform [0, 1) source for probability scenarios. */
  random?: () => number;
  /** Send Meta's webhooks to the service. Without it the sandbox sends none (replies are still stored). */
  webhook?: SandboxWebhookOptions;
  /**
   * Free-form messages to a number that has not written in `windowMs` are accepted (200 + wamid),
   * then fail with a 131047 status; templates pass. Default false: the service's default sandbox
   * mode sends free-form first contacts.
   */
  enforceWindow?: boolean;
  /** The customer service window. Default 24 h. */
  windowMs?: number;
  /** The standalone process's event-loop lag and priority, reported in the stats (`npm run sandbox`). */
  instrument?: SandboxInstrument;
}

export interface Sandbox {
  app: FastifyInstance;
  state: SandboxState;
}

const DEFAULTS = {
  maxMessagesPerNumber: 1_000,
  maxMessagesTotal: 50_000,
  maxTrackedCallbackData: 500_000,
  maxMediaBytes: 256 * 1024 * 1024,
  webhookAttempts: 4,
  webhookBackoffMs: 250,
  webhookConcurrency: 4,
  webhookMaxQueue: 10_000,
  webhookTimeoutMs: 10_000,
};

/** Longest configurable status delay or retry wait. */
const MAX_DELAY_MS = 10 * 60 * 1000;

/**
 * A local emulator of Meta's WhatsApp Cloud API (Graph routes) plus a phone-like inbox and fault
 * control under `/sandbox`, as its own Fastify app. Does not listen; see start-sandbox.ts.
 */
export function buildSandbox(options: SandboxOptions): Sandbox {
  assertTokens(options.tokens);
  const state = createSandboxState(options);
  const app = Fastify({ logger: options.logger ?? false });
  app.setNotFoundHandler((request, reply) => {
    if (request.url.startsWith('/sandbox/')) {
      return sendControlError(reply, 404, 'not_found', `No sandbox route ${request.method} ${request.url}`);
    }
    const path = request.url.split('?')[0] ?? request.url;
    return sendGraphFailure(reply, graphFailure(2500, `Unknown path components: ${path}`));
  });
  void app.register(sandboxPlugin, { ...options, state });
  return { app, state };
}

export function createSandboxState(options: SandboxOptions): SandboxState {
  return new SandboxState({
    maxMessagesPerNumber: count(
      'maxMessagesPerNumber',
      options.maxMessagesPerNumber,
      DEFAULTS.maxMessagesPerNumber,
    ),
    maxMessagesTotal: Math.max(
      1,
      count('maxMessagesTotal', options.maxMessagesTotal, DEFAULTS.maxMessagesTotal),
    ),
    maxTrackedCallbackData: count(
      'maxTrackedCallbackData',
      options.maxTrackedCallbackData,
      DEFAULTS.maxTrackedCallbackData,
    ),
    maxMediaBytes: count('maxMediaBytes', options.maxMediaBytes, DEFAULTS.maxMediaBytes),
    maxMps: count('maxMps', options.maxMps, 0),
    clock: options.clock ?? Date.now,
    random: options.random ?? Math.random,
    webhook: options.webhook ? resolveWebhook(options.webhook) : null,
    enforceWindow: options.enforceWindow ?? false,
    windowMs: options.windowMs === undefined ? DEFAULT_WINDOW_MS : positive('windowMs', options.windowMs),
    ...(options.templates ? { templates: options.templates } : {}),
    ...(options.phoneNumberIds?.[0] === undefined ? {} : { defaultPhoneNumberId: options.phoneNumberIds[0] }),
    ...(options.instrument ? { instrument: options.instrument } : {}),
  });
}

function resolveWebhook(webhook: SandboxWebhookOptions): ResolvedWebhookOptions {
  if (typeof webhook.url !== 'function' && !isHttpUrl(webhook.url)) {
    throw new TypeError('sandbox: webhook.url must be an http(s) URL');
  }
  if (typeof webhook.appSecret !== 'string' || webhook.appSecret === '') {
    throw new TypeError('sandbox: webhook.appSecret must be a non-empty string');
  }
  const delays = webhook.statusDelaysMs ?? DEFAULT_STATUS_DELAYS;
  for (const status of ['sent', 'delivered', 'read'] as const) {
    delay(`webhook.statusDelaysMs.${status}`, delays[status]);
  }
  return {
    url: webhook.url,
    appSecret: webhook.appSecret,
    identity: {
      wabaId: webhook.wabaId ?? DEFAULT_IDENTITY.wabaId,
      displayPhoneNumber: webhook.displayPhoneNumber ?? DEFAULT_IDENTITY.displayPhoneNumber,
    },
    statusDelaysMs: { sent: delays.sent, delivered: delays.delivered, read: delays.read },
    readReceipts: webhook.readReceipts ?? true,
    attempts: positive('webhook.retry.attempts', webhook.retry?.attempts ?? DEFAULTS.webhookAttempts),
    backoffMs: delay('webhook.retry.backoffMs', webhook.retry?.backoffMs ?? DEFAULTS.webhookBackoffMs),
    concurrency: positive('webhook.concurrency', webhook.concurrency ?? DEFAULTS.webhookConcurrency),
    maxQueue: positive('webhook.maxQueue', webhook.maxQueue ?? DEFAULTS.webhookMaxQueue),
    timeoutMs: positive('webhook.timeoutMs', webhook.timeoutMs ?? DEFAULTS.webhookTimeoutMs),
    statusBatch: webhook.statusBatch
      ? {
          maxStatuses: between(
            'webhook.statusBatch.maxStatuses',
            webhook.statusBatch.maxStatuses,
            2,
            MAX_BATCH_STATUSES,
          ),
          maxWaitMs: delay('webhook.statusBatch.maxWaitMs', webhook.statusBatch.maxWaitMs),
        }
      : null,
  };
}

function isHttpUrl(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  try {
    const { protocol } = new URL(value);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}

/**
 * The sandbox's routes as a plugin, to mount inside another Fastify app (e.g. the service's own
 * server under a prefix such as `/whatsapp-sandbox`); `state` comes from {@link createSandboxState}.
 */
export const sandboxPlugin: FastifyPluginAsync<SandboxOptions & { state: SandboxState }> = async (
  app,
  options,
) => {
  assertTokens(options.tokens);
  const { state, templates } = options;
  app.addHook('preClose', (done) => {
    state.heldRequests.releaseAll();
    state.closeWebhooks();
    done();
  });
  await app.register(graphRoutes, {
    state,
    access: {
      tokens: new Set(options.tokens),
      phoneNumberIds: options.phoneNumberIds ? new Set(options.phoneNumberIds) : null,
    },
    latencyMs: count('latencyMs', options.latencyMs, 0),
    ...(templates
      ? {
          templateExists: (name, language) =>
            templates.some((t) => t.name === name && t.language === language),
        }
      : {}),
  });
  await app.register(controlRoutes, { prefix: '/sandbox', state });
};

function assertTokens(tokens: string[]): void {
  if (tokens.length === 0) throw new TypeError('sandbox: at least one token is required');
}

function count(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 0) throw new TypeError(`sandbox: ${name} must be an integer >= 0`);
  return value;
}

function positive(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new TypeError(`sandbox: ${name} must be an integer >= 1`);
  return value;
}

function between(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new TypeError(`sandbox: ${name} must be an integer between ${min} and ${max}`);
  }
  return value;
}

function delay(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 0 || value > MAX_DELAY_MS) {
    throw new TypeError(`sandbox: ${name} must be an integer between 0 and ${MAX_DELAY_MS}`);
  }
  return value;
}
