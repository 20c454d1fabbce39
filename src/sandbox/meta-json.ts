/** Every character outside ASCII, and `/`. */
const ESCAPED = /[\u0080-\uffff/]/g;

/**
 * Compact JSON as Meta's webhooks carry it (shared/whatsapp-cloud-api.md §6.4): non-ASCII as
 * `\uXXXX` with lowercase hex (characters outside the BMP as their two surrogate escapes) and `/`
 * as `\/`. Parsing gives the same value as `JSON.stringify`'s output; the bytes differ, which is
 * the point: a receiver that signs a re-serialised body instead of the raw bytes fails here as it
 * would with Meta.
 */
export function toMetaJson(value: unknown): string {
  // `/` appears in JSON.stringify's output only inside strings, so a global replace is safe.
  return JSON.stringify(value).replace(ESCAPED, (char) =>
    char === '/' ? '\\/' : '\\u' + char.charCodeAt(0).toString(16).padStart(4, '0'),
  );
}
