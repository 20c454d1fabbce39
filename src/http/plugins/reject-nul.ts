import type { FastifyInstance } from 'fastify';
import { AppError } from '../../shared/error-codes.js';

/**
 * PostgreSQL text cannot hold U+0000: a NUL in an id, a query value or a JSON string made the query fail
 * with a 500 (found by fuzzing). No field of ours has a use for it, so every route refuses it with a 400
 * naming the field, on both databases alike.
 */
export function rejectNulCharacters(app: FastifyInstance): void {
  // A callback hook: it runs on every request, and a promise per request is measurable (BENCHMARKS.md).
  app.addHook('preValidation', (request, _reply, done) => {
    // Almost every request holds no NUL: a scan that allocates nothing says so; paths are built only then.
    if (!containsNul(request.params) && !containsNul(request.query) && !containsNul(request.body)) {
      done();
      return;
    }
    for (const [location, value] of [
      ['params', request.params],
      ['querystring', request.query],
      ['body', request.body],
    ] as const) {
      const field = findNul(value);
      if (field !== null) {
        const name = field === '' ? location : field;
        done(
          new AppError('validation_error', `${name} must not contain NUL characters`, {
            field: name,
            location,
          }),
        );
        return;
      }
    }
    done();
  });
}

/** Nesting the recursive scan follows before it leaves the rest to findNul (iterative, never overflows). */
const MAX_SCAN_DEPTH = 64;

/**
 * Whether any string or key in `value` holds U+0000: findNul's answer as a yes/no, without its paths.
 * Past MAX_SCAN_DEPTH it says yes, so that a deeply nested value gets findNul's full (iterative) search.
 */
export function containsNul(value: unknown, depth = 0): boolean {
  if (typeof value === 'string') return value.includes('\u0000');
  if (typeof value !== 'object' || value === null || Buffer.isBuffer(value)) return false;
  if (depth >= MAX_SCAN_DEPTH) return true;
  if (Array.isArray(value)) {
    for (const item of value as unknown[]) if (containsNul(item, depth + 1)) return true;
    return false;
  }
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue;
    if (key.includes('\u0000') || containsNul((value as Record<string, unknown>)[key], depth + 1))
      return true;
  }
  return false;
}

/** The dotted path of the first string (or key) holding U+0000, '' for the value itself, else null. */
export function findNul(value: unknown): string | null {
  // Iterative: a deeply nested body must not overflow the stack.
  const pending: { value: unknown; path: string }[] = [{ value, path: '' }];
  for (let item = pending.pop(); item !== undefined; item = pending.pop()) {
    const current = item.value;
    if (typeof current === 'string') {
      if (current.includes('\u0000')) return item.path;
    } else if (Buffer.isBuffer(current)) {
      // Raw bodies (the webhook's signed bytes) are checked by their own route.
    } else if (typeof current === 'object' && current !== null) {
      for (const [key, child] of Object.entries(current)) {
        const path = item.path === '' ? key : `${item.path}.${key}`;
        if (key.includes('\u0000')) return item.path === '' ? 'body' : item.path;
        pending.push({ value: child, path });
      }
    }
  }
  return null;
}
