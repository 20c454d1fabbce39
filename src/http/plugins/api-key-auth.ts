import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { send } from './error-envelope.js';

/** What a request's `x-api-key` proves: whether it is one of the keys, and a log-safe name for it. */
export interface ApiKeyCheck {
  isValid: boolean;
  /** First 16 hex digits of the key's SHA-256 when valid (a rate-limit bucket); never the key. */
  fingerprint: string | null;
}

export type ApiKeyMatcher = (request: FastifyRequest) => ApiKeyCheck;

const NO_KEY: ApiKeyCheck = { isValid: false, fingerprint: null };

/**
 * Checks a request's `x-api-key` against every key in constant time. The answer is kept for the request,
 * so the rate limiter and the guard that both ask hash the key once.
 */
export function createApiKeyMatcher(keys: readonly string[]): ApiKeyMatcher {
  const digests = keys.map(digest);
  const checked = new WeakMap<FastifyRequest, ApiKeyCheck>();
  return (request) => {
    const known = checked.get(request);
    if (known !== undefined) return known;
    const presented = request.headers['x-api-key'];
    let check = NO_KEY;
    if (typeof presented === 'string' && presented !== '') {
      const candidate = digest(presented);
      let isMatch = false;
      for (const expected of digests) isMatch = timingSafeEqual(candidate, expected) || isMatch;
      if (isMatch) check = { isValid: true, fingerprint: candidate.toString('hex').slice(0, 16) };
    }
    checked.set(request, check);
    return check;
  };
}

/**
 * Server-to-server authentication: `x-api-key` equal to one of INTERNAL_API_KEY's keys. The seed's
 * "same-origin" path needs a logged-in session too (design.md §3), so an Origin or Referer header
 * alone never authorizes anything.
 */
export function apiKeyGuard(matchKey: ApiKeyMatcher) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (matchKey(request).isValid) return;
    await send(reply, 'unauthorized', 'Unauthorized');
  };
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
