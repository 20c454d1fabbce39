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
 * Checks a request's `x-api-key` against every key in constant time (SHA-256 digests compared with
 * timingSafeEqual). A key that has matched is remembered (at most one entry per configured key, since
 * only the exact key matches), so a busy client's requests skip the hashing: looking up a string someone
 * already proved they hold tells nothing about any other string, and a wrong key always takes the full
 * check. The rate limiter and the guard both ask for every request; the last refused string is
 * remembered too, so a wrong key is hashed once per request, not twice.
 */
export function createApiKeyMatcher(keys: readonly string[]): ApiKeyMatcher {
  const digests = keys.map(digest);
  const proven = new Map<string, ApiKeyCheck>();
  let lastRefused: string | null = null;
  return (request) => {
    const presented = request.headers['x-api-key'];
    if (typeof presented !== 'string' || presented === '' || presented === lastRefused) return NO_KEY;
    const known = proven.get(presented);
    if (known !== undefined) return known;
    const candidate = digest(presented);
    let isMatch = false;
    for (const expected of digests) isMatch = timingSafeEqual(candidate, expected) || isMatch;
    if (!isMatch) {
      lastRefused = presented;
      return NO_KEY;
    }
    const check: ApiKeyCheck = { isValid: true, fingerprint: candidate.toString('hex').slice(0, 16) };
    proven.set(presented, check);
    return check;
  };
}

/**
 * Server-to-server authentication: `x-api-key` equal to one of INTERNAL_API_KEY's keys. The seed's
 * "same-origin" path needs a logged-in session too (design.md §3), so an Origin or Referer header
 * alone never authorizes anything.
 */
export function apiKeyGuard(matchKey: ApiKeyMatcher) {
  // A callback hook: the common case (a valid key) then costs no promise.
  return (request: FastifyRequest, reply: FastifyReply, done: (error?: Error) => void): void => {
    if (matchKey(request).isValid) {
      done();
      return;
    }
    // Answering from a callback hook ends the chain; done() is not called.
    void send(reply, 'unauthorized', 'Unauthorized');
  };
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
