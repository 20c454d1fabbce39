import { describe, expect, it } from 'vitest';
import { toMatchKey } from './match-key.js';

describe('toMatchKey', () => {
  it.each([
    ['Chapinero', 'chapinero'],
    ['chapinero ', 'chapinero'],
    ['  CHAPINERO\t', 'chapinero'],
    ['Usaquén', 'usaquen'],
    ['USAQUÉN', 'usaquen'],
    ['Usaque\u0301n', 'usaquen'],
    ['Plomería', 'plomeria'],
    ['Nariño', 'narino'],
    ['Ciudad   Bolívar', 'ciudad bolivar'],
    ['Ciudad\u00a0Bolívar', 'ciudad bolivar'],
    ['Aire acondicionado\n', 'aire acondicionado'],
    ['İstanbul', 'istanbul'],
    ['', ''],
    ['   ', ''],
  ])('%j → %j', (input, key) => {
    expect(toMatchKey(input)).toBe(key);
  });

  it('gives the same key to every spelling of one place', () => {
    const spellings = ['Usaquén', 'usaquen', ' USAQUEN ', 'UsaquÉn', 'Usaque\u0301n'];
    expect(new Set(spellings.map(toMatchKey)).size).toBe(1);
  });

  it('is idempotent', () => {
    for (const text of ['Ciudad  Bolívar ', 'Électricité', 'Nariño']) {
      expect(toMatchKey(toMatchKey(text))).toBe(toMatchKey(text));
    }
  });
});
