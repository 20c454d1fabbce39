import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { MessageStore } from '../messages/message-store.js';
import type { HttpMetrics } from '../metrics/metrics.js';
import type { SendNotificationDeps } from '../messages/send-notification.js';
import { requestIdGenerator } from '../shared/ids.js';
import { ErrorEnvelope } from './contract/envelope.js';
import { apiKeyGuard, createApiKeyMatcher } from './plugins/api-key-auth.js';
import { frameworkErrorHandler, registerErrorEnvelope } from './plugins/error-envelope.js';
import { countRequests, metricsRoute } from './plugins/metrics.js';
import { rateLimitHook, registerRateLimiting } from './plugins/rate-limit.js';
import { rejectNulCharacters } from './plugins/reject-nul.js';
import { lazyChildLogger } from './plugins/request-logger.js';
import { registerSecurityHeaders } from './plugins/security-headers.js';
import { buildValidatorCompiler } from './plugins/validators.js';
import { registerSessionCookies, sessionOrApiKeyGuard } from './plugins/session-auth.js';
import { registerWebUi } from './plugins/web-ui.js';
import { authRoutes, type AuthRouteOptions } from './routes/auth/index.js';
import { messageRoutes } from './routes/messages/index.js';
import { healthRoutes } from './routes/ops/health.js';
import { notifyRoute } from './routes/whatsapp/notify.js';

export interface HttpAppOptions {
  logger: Logger;
  apiKeys: readonly string[];
  bodyLimitBytes: number;
  requestTimeoutMs: number;
  /** Requests per minute per API key or client address; 0 = off. */
  rateLimitMax: number;
  /** TRUST_PROXY: which X-Forwarded-For hops give the client address; default none (the socket's). */
  trustProxy?: boolean | readonly string[];
  version: string;
  notify: SendNotificationDeps;
  messageStore: MessageStore;
  isReady: () => Promise<boolean>;
  /** Feature routes (tickets, providers, the sandbox inbox) registered under the same guard. */
  extraApiRoutes?: (api: FastifyInstance) => PromiseLike<unknown>;
  /** Routes with their own authentication (Meta's webhook), outside the API-key guard. */
  publicRoutes?: (app: FastifyInstance) => PromiseLike<unknown>;
  /** Browser sessions (cookie + Origin) as a second way into /api, and the login routes. */
  session?: AuthRouteOptions;
  /** Folder of the built web app (dist/web), served at `/`; undefined = no web app. */
  webRoot?: string;
  /** Operations and security (issue #7): /metrics, CORS allow list. */
  ops?: {
    metrics: HttpMetrics;
    /** METRICS_PUBLIC: /metrics without the API key. */
    metricsPublic: boolean;
    /** CORS_ORIGINS; empty = no cross-origin access at all. */
    corsOrigins: readonly string[];
  };
}

/**
 * The HTTP skin: plugins in a fixed order, then routes. No business logic here; everything the
 * routes do comes in through the options. Never listens (main.ts does).
 */
export async function buildHttpApp(options: HttpAppOptions): Promise<FastifyInstance> {
  // Typed as Fastify's logger so the instance keeps Fastify's default generic parameters.
  const loggerInstance: FastifyBaseLogger = options.logger;
  const app = Fastify({
    loggerInstance,
    bodyLimit: options.bodyLimitBytes,
    requestTimeout: options.requestTimeoutMs,
    genReqId: requestIdGenerator(),
    childLoggerFactory: lazyChildLogger,
    trustProxy:
      typeof options.trustProxy === 'object' ? [...options.trustProxy] : (options.trustProxy ?? false),
    frameworkErrors: frameworkErrorHandler,
  });

  app.setValidatorCompiler(buildValidatorCompiler());
  app.addSchema(ErrorEnvelope);
  registerErrorEnvelope(app);
  const isValidKey = createApiKeyMatcher(options.apiKeys);

  // --- operations and security (issue #7): headers, CORS, rate limiting, /metrics ---
  await registerSecurityHeaders(app, { corsOrigins: options.ops?.corsOrigins ?? [] });
  await registerRateLimiting(app);
  rejectNulCharacters(app);
  if (options.ops !== undefined) countRequests(app, options.ops.metrics);
  // --- end operations and security ---

  await app.register(swagger, {
    openapi: {
      info: {
        title: 'KeyhomeKey Dispatch',
        description: 'Maintenance tickets to the right provider over WhatsApp.',
        version: options.version,
      },
      components: { securitySchemes: { apiKey: { type: 'apiKey', name: 'x-api-key', in: 'header' } } },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  await app.register(healthRoutes, { isReady: options.isReady });
  if (options.ops !== undefined) {
    const { metrics, metricsPublic } = options.ops;
    metricsRoute(app, { metrics, isPublic: metricsPublic, isValidKey });
  }
  if (options.publicRoutes !== undefined) {
    const register = options.publicRoutes;
    await app.register(async (scope) => {
      await register(scope);
    });
  }

  // Web sessions: cookie parsing for the whole app, and /api/auth/* (login, logout, me).
  if (options.session !== undefined) {
    await registerSessionCookies(app);
    await app.register(authRoutes, options.session);
  }

  // Everything under /api is authenticated and rate limited.
  await app.register(async (api) => {
    if (options.rateLimitMax > 0) {
      // Before authentication, so floods of bad keys are limited too (per address, since the key is unproven).
      api.addHook(
        'onRequest',
        rateLimitHook(api, {
          name: 'api',
          max: options.rateLimitMax,
          key: (request) => {
            // A proven key gets its own budget (fingerprinted, never stored); anything else counts per address.
            const { isValid, fingerprint } = isValidKey(request);
            return isValid ? `key:${fingerprint}` : `ip:${request.ip}`;
          },
        }),
      );
    }
    api.addHook(
      'onRequest',
      options.session === undefined
        ? apiKeyGuard(isValidKey)
        : sessionOrApiKeyGuard(isValidKey, options.session.auth),
    );
    await api.register(notifyRoute, { deps: options.notify });
    await api.register(messageRoutes, { messageStore: options.messageStore });
    if (options.extraApiRoutes !== undefined) await options.extraApiRoutes(api);
  });

  // The React app (after every route, so its index.html fallback never shadows one).
  if (options.webRoot !== undefined) await registerWebUi(app, options.webRoot);

  return app;
}
