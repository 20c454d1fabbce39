import type { FastifyInstance } from 'fastify';
import type { HttpMetrics } from '../../metrics/metrics.js';
import { apiKeyGuard, type ApiKeyMatcher } from './api-key-auth.js';

export interface MetricsRouteOptions {
  metrics: HttpMetrics;
  /** METRICS_PUBLIC: serve /metrics without the API key (a scraper inside a private network). */
  isPublic: boolean;
  isValidKey: ApiKeyMatcher;
}

/**
 * Counts every response by route pattern (`request.routeOptions.url`, never the raw URL: ids and query
 * strings would make a series per request). Add it before any route, so every route inherits it.
 */
export function countRequests(app: FastifyInstance, metrics: HttpMetrics): void {
  app.addHook('onResponse', (request, reply, done) => {
    metrics.onRequest({
      method: request.method,
      route: request.routeOptions.url ?? '(unmatched)',
      statusCode: reply.statusCode,
      durationMs: reply.elapsedTime,
    });
    done();
  });
}

/** `GET /metrics` in Prometheus text format; behind the API key unless METRICS_PUBLIC. */
export function metricsRoute(app: FastifyInstance, options: MetricsRouteOptions): void {
  app.get(
    '/metrics',
    {
      schema: { tags: ['ops'], summary: 'Prometheus metrics', security: [{ apiKey: [] }] },
      ...(options.isPublic ? {} : { onRequest: apiKeyGuard(options.isValidKey) }),
    },
    async (_request, reply) => {
      const { contentType, body } = await options.metrics.render();
      return reply.code(200).type(contentType).send(body);
    },
  );
}
