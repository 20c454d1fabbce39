import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';

export interface RateLimitRule {
  /** Requests allowed per window and key; callers skip the hook when their setting is 0 (off). */
  max: number;
  timeWindowMs?: number;
  /** Budget key; prefixed with the rule's name so two rules never share a count. */
  name: string;
  key: (request: FastifyRequest) => string;
  onExceeded?: (request: FastifyRequest) => void;
}

/** Registers @fastify/rate-limit once, without a global limit: each rule below is added where it applies. */
export async function registerRateLimiting(app: FastifyInstance): Promise<void> {
  await app.register(rateLimit, { global: false });
}

/**
 * An onRequest hook enforcing one rule, with its own in-memory store (per process). Put it before
 * authentication or signature checks, so floods of bad credentials are limited too; a 429 goes through
 * the error envelope as `rate_limited` with `Retry-After`. The notify/API rule, the webhook rule and the
 * login rule (by address and by account) are all built this way.
 */
export function rateLimitHook(app: FastifyInstance, rule: RateLimitRule): preHandlerAsyncHookHandler {
  return app.rateLimit({
    max: rule.max,
    timeWindow: rule.timeWindowMs ?? 60_000,
    keyGenerator: (request) => `${rule.name}:${rule.key(request)}`,
    ...(rule.onExceeded === undefined ? {} : { onExceeded: rule.onExceeded }),
    errorResponseBuilder: (_request, context) => ({
      statusCode: 429,
      code: 'rate_limited',
      message: `Too many requests, retry in ${Math.ceil(context.ttl / 1000)} s`,
    }),
  });
}
