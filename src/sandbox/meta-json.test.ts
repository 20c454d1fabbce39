import { describe, expect, it } from 'vitest';
import { toMetaJson } from './meta-json.js';

describe('toMetaJson', () => {
  it('escapes non-ASCII as lowercase \\uXXXX and / as \\/, compactly', () => {
    expect(toMetaJson({ name: 'Carlos Pérez', text: 'mañana 8/10', href: 'https://x.example/a' })).toBe(
      '{"name":"Carlos P\\u00e9rez","text":"ma\\u00f1ana 8\\/10","href":"https:\\/\\/x.example\\/a"}',
    );
  });

  it('writes characters outside the BMP as their surrogate pair and leaves ASCII alone', () => {
    expect(toMetaJson('🔧 ok @ <b> "q" \\')).toBe('"\\ud83d\\udd27 ok @ <b> \\"q\\" \\\\"');
  });

  it('parses back to the same value, and a backslash before a slash survives', () => {
    const value = { a: 'C:\\/x ÁÉÍÓÚ ñ € 日本', b: [1, null, true], c: { 'k/é': 'v' } };
    const json = toMetaJson(value);
    expect(/[^\x20-\x7e]/.test(json)).toBe(false);
    expect(JSON.parse(json)).toEqual(value);
  });
});
