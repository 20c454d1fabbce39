import { describe, expect, it } from 'vitest';
import { assertValidStorageKey, isValidStorageKey } from './media-storage.js';

describe('isValidStorageKey', () => {
  it.each([
    'tickets/0190f5c2-7c1e-7aa0-8f00-1234567890ab/0190f5c2-7c1e-7aa0-8f00-1234567890ac.jpg',
    'a',
    'a/b/c.tar.gz',
    'x_y-z.pdf',
    '_a/-b',
    'a'.repeat(200),
  ])('accepts %s', (key) => {
    expect(isValidStorageKey(key)).toBe(true);
  });

  it.each([
    ['empty', ''],
    ['parent', '../x'],
    ['parent inside', 'a/../../b'],
    ['double dot in a name', 'a..b'],
    ['current folder', './a'],
    ['dot segment', 'a/./b'],
    ['hidden name', 'a/.b'],
    ['absolute', '/etc/passwd'],
    ['trailing slash', 'a/'],
    ['empty segment', 'a//b'],
    ['backslash', 'a\\b'],
    ['upper case', 'Tickets/a.jpg'],
    ['space', 'a b'],
    ['NUL', 'a\0b'],
    ['non-ASCII', 'fotó.jpg'],
    ['URL-encoded', 'a%2f..'],
    ['too long', 'a'.repeat(201)],
  ])('refuses %s', (_label, key) => {
    expect(isValidStorageKey(key)).toBe(false);
    expect(() => assertValidStorageKey(key)).toThrow(TypeError);
  });
});
