import fc from 'fast-check';

/**
 * Runs per property: moderate in `npm test` (CI has 2 cores), raised with FUZZ_RUNS (`npm run fuzz`).
 * `scale` lets an expensive property (an HTTP round trip on PostgreSQL) run fewer times than a pure one.
 */
export function fuzzRuns(base: number): number {
  const fromEnv = Number(process.env.FUZZ_RUNS);
  return Number.isFinite(fromEnv) && fromEnv > 0 ? Math.max(fromEnv, base) : base;
}

/** FUZZ_SEED replays a failure fast-check reported. */
export function fuzzParameters(numRuns: number): fc.Parameters<unknown> {
  const seed = Number(process.env.FUZZ_SEED);
  return { numRuns, ...(Number.isFinite(seed) && process.env.FUZZ_SEED !== undefined ? { seed } : {}) };
}

/** Text of every kind: ASCII, full Unicode (astral, combining), lone surrogates, NUL and control bytes. */
export const anyText = (maxLength = 64): fc.Arbitrary<string> =>
  fc.oneof(
    fc.string({ maxLength }),
    fc.string({ unit: 'grapheme', maxLength }),
    fc.string({ unit: 'binary', maxLength }),
    fc.constantFrom(
      '',
      ' ',
      '\u0000',
      '\uD800',
      '\uDFFF',
      '‮',
      '٣١٠',
      '３１０',
      '🙂'.repeat(10),
      'null',
      '[]',
      '{}',
    ),
  );

/** A rare huge string (up to ~70 KB, over the 64 KB body limit when serialised). */
export const hugeText = fc
  .integer({ min: 4_000, max: 70_000 })
  .chain((n) =>
    fc
      .constantFrom('a', 'é', '🙂', '\\', '"', '\u0000')
      .map((unit) => unit.repeat(Math.ceil(n / unit.length))),
  );

/** Any JSON value, with wrong types, unicode and some deep nesting. */
export const anyJson: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: fc.jsonValue({ maxDepth: 4 }) },
  { weight: 1, arbitrary: fc.integer({ min: 50, max: 3000 }).map((depth) => nest(depth)) },
  { weight: 1, arbitrary: hugeText },
);

function nest(depth: number): unknown {
  let value: unknown = 'bottom';
  for (let i = 0; i < depth; i++) value = i % 2 === 0 ? [value] : { a: value };
  return value;
}

/** An object with some of `keys` (plus stray ones) holding values of any type. */
export const objectWith = (keys: readonly string[]): fc.Arbitrary<Record<string, unknown>> =>
  fc.dictionary(
    fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...keys) }, { weight: 1, arbitrary: anyText(12) }),
    fc.oneof(anyText(), fc.jsonValue({ maxDepth: 2 }), fc.integer(), fc.double(), fc.boolean()),
    { maxKeys: keys.length + 2 },
  );
