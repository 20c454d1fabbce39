import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { send } from './error-envelope.js';

export type ApiKeyMatcher = (presented: unknown) => boolean;

/** True when `presented` equals one of the keys; compared in constant time, against every key. */
export function createApiKeyMatcher(keys: readonly string[]): ApiKeyMatcher {
  const digests = keys.map(digest);
  return (presented) => {
    if (typeof presented !== 'string' || presented === '') return false;
    const candidate = digest(presented);
    let isMatch = false;
    for (const expected of digests) isMatch = timingSafeEqual(candidate, expected) || isMatch;
    return isMatch;
  };
}

/**
 * Server-to-server authentication: `x-api-key` equal to one of INTERNAL_API_KEY's keys. The seed's
 * "same-origin" path needs a logged-in session too (design.md §3), so an Origin or Referer header
 * alone never authorizes anything.
 */
export function apiKeyGuard(isValidKey: ApiKeyMatcher) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (isValidKey(request.headers['x-api-key'])) return;
    await send(reply, 'unauthorized', 'Unauthorized');
  };
}

/** A log- and store-safe identity for a key: never the key itself. */
export function keyFingerprint(key: string): string {
  return digest(key).toString('hex').slice(0, 16);
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
