import { describe, expect, it } from 'vitest';
import { newReplyToken, offerTimeoutMs, parseReplyPayload, replyPayload } from './assignment.js';

describe('reply payloads', () => {
  it('round-trips every action', () => {
    const token = newReplyToken();
    for (const action of ['accept', 'decline', 'take'] as const) {
      expect(parseReplyPayload(replyPayload(action, token))).toEqual({ action, token });
    }
  });

  it('makes tokens that differ and carry 128 bits', () => {
    const tokens = new Set(Array.from({ length: 1000 }, () => newReplyToken()));
    expect(tokens.size).toBe(1000);
    expect(Buffer.from([...tokens][0] ?? '', 'base64url')).toHaveLength(16);
  });

  it('refuses anything that is not one of ours', () => {
    for (const payload of [
      '',
      'accept',
      'accept:',
      'accept:short',
      'ACCEPT:abcdefghijklmnopqrstuv',
      'Aceptar',
      'x:abcdefghijklmnopqrstuv',
      'accept:abc def ghi jkl mno pq',
    ]) {
      expect(parseReplyPayload(payload)).toBeNull();
    }
  });
});

describe('offer timeouts', () => {
  it('takes the specialty override before the default', () => {
    const timeouts = { defaultMs: 30 * 60_000, bySpecialtyKey: new Map([['urgencias', 10 * 60_000]]) };
    expect(offerTimeoutMs(timeouts, 'urgencias')).toBe(10 * 60_000);
    expect(offerTimeoutMs(timeouts, 'plomeria')).toBe(30 * 60_000);
  });
});
