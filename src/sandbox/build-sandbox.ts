import Fastify, { type FastifyInstance, type FastifyPluginAsync, type FastifyServerOptions } from 'fastify';
import { controlRoutes, sendControlError } from './control-routes.js';
import { graphFailure, sendGraphFailure } from './graph-errors.js';
import { graphRoutes } from './graph-routes.js';
import { SandboxState } from './sandbox-state.js';

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
  /** When given, only these templates exist (others: Graph error 132001); otherwise any template is accepted. */
  templates?: { name: string; language: string }[];
  /** Milliseconds since the epoch; injectable so tests can pin the per-second windows. */
  clock?: () => number;
  /** Uniform [0, 1) source for probability scenarios. */
  random?: () => number;
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
};

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
  });
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
