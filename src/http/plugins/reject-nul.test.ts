import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { containsNul, findNul } from './reject-nul.js';

/** JSON-like values whose strings and keys sometimes hold U+0000. */
const withNuls = fc.letrec((tie) => ({
  text: fc.oneof(fc.string(), fc.constantFrom('\u0000', 'a\u0000b', '\u0000\u0000')),
  value: fc.oneof(
    { depthSize: 'small' },
    tie('text'),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(tie('text') as fc.Arbitrary<string>, tie('value'), { maxKeys: 4 }),
  ),
})).value;

describe('containsNul', () => {
  it('agrees with findNul on every value', () => {
    fc.assert(
      fc.property(withNuls, (value) => {
        expect(containsNul(value)).toBe(findNul(value) !== null);
      }),
      { numRuns: 2000 },
    );
  });

  it('finds a NUL in a string, a key, an array item and a nested value', () => {
    expect(containsNul('a\u0000')).toBe(true);
    expect(containsNul({ ['k\u0000']: 1 })).toBe(true);
    expect(containsNul(['x', ['y', 'z\u0000']])).toBe(true);
    expect(containsNul({ a: { b: { c: 'd\u0000' } } })).toBe(true);
    expect(containsNul({ a: { b: ['c', 1, null, true] } })).toBe(false);
  });

  it('ignores raw bodies (Buffers), as findNul does', () => {
    expect(containsNul(Buffer.from([0, 1, 2]))).toBe(false);
  });

  it('hands a deeply nested value to findNul rather than recursing without bound', () => {
    let deep: unknown = 'clean';
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(containsNul(deep)).toBe(true); // past the scan depth: "look closer"
    expect(findNul(deep)).toBeNull();
  });
});
