import type { FastifyRequest } from 'fastify';
import { describe, expect, it } from 'vitest';
import { createApiKeyMatcher } from './api-key-auth.js';

const request = (key: unknown): FastifyRequest =>
  ({ headers: { 'x-api-key': key } }) as unknown as FastifyRequest;

describe('createApiKeyMatcher', () => {
  const match = createApiKeyMatcher(['first-key-0123456789', 'second-key-0123456789']);

  it('accepts every configured key (rotation) and names it by a fingerprint, never the key', () => {
    const first = match(request('first-key-0123456789'));
    const second = match(request('second-key-0123456789'));
    expect(first.isValid && second.isValid).toBe(true);
    expect(first.fingerprint).toMatch(/^[0-9a-f]{16}$/);
    expect(first.fingerprint).not.toBe(second.fingerprint);
    expect(first.fingerprint).not.toContain('first');
  });

  it.each([['wrong-key-0123456789'], [''], [undefined], [['first-key-0123456789']], ['first-key-012345678']])(
    'refuses %j',
    (key) => {
      expect(match(request(key))).toEqual({ isValid: false, fingerprint: null });
    },
  );

  it('answers from the key each time: a refused key stays refused and a good one after it is accepted', () => {
    expect(match(request('wrong-key-0123456789')).isValid).toBe(false);
    expect(match(request('wrong-key-0123456789')).isValid).toBe(false);
    expect(match(request('first-key-0123456789')).isValid).toBe(true);
    expect(match(request('first-key-0123456789')).isValid).toBe(true);
    expect(match(request('wrong-key-0123456789')).isValid).toBe(false);
  });
});
