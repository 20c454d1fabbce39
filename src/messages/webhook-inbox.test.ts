import { describe, expect, it } from 'vitest';
import { withoutNul } from './webhook-inbox.js';

describe('withoutNul', () => {
  it.each([
    ['{"a":"x\\u0000y"}', { a: 'x\uFFFDy' }],
    ['{"a":"\\u0000\\u0000"}', { a: '\uFFFD\uFFFD' }],
    ['{"a":"\\\\u0000"}', { a: '\\u0000' }],
    ['{"a":"\\\\\\u0000"}', { a: '\\\uFFFD' }],
    ['{"a\\u0000":1}', { 'a\uFFFD': 1 }],
    ['{"a":"\\u00001"}', { a: '\uFFFD1' }],
    ['{"a":"plain"}', { a: 'plain' }],
  ])('%s parses without U+0000', (json, expected) => {
    const parsed = JSON.parse(withoutNul(json)) as unknown;
    expect(parsed).toEqual(expected);
  });
});
