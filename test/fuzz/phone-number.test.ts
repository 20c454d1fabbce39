import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { maskPhoneNumber, normalizePhoneNumber } from '../../src/whatsapp/phone-number.js';
import { anyText, fuzzParameters, fuzzRuns } from './arbitraries.js';

const COUNTRIES = ['CO', 'US', 'MX', 'ES', 'BR', 'GB', 'IN'] as const;

describe('phone number normalization (fuzz)', () => {
  it('never throws on any string and returns a well-formed result', () => {
    const dialed = fc.oneof(
      anyText(40),
      fc.stringMatching(/^[+(]?[0-9 ().\-‐٠-٩０-９]{0,25}$/),
      fc.string({ unit: fc.constantFrom(...'0123456789 +-()./\u00A0'), maxLength: 30 }),
    );
    fc.assert(
      fc.property(dialed, fc.constantFrom(...COUNTRIES), (input, country) => {
        const result = normalizePhoneNumber(input, country);
        if (result.ok) {
          expect(result.digits).toMatch(/^[1-9]\d{7,14}$/);
          expect(result.e164).toBe(`+${result.digits}`);
          // Normalizing the result again is stable.
          const again = normalizePhoneNumber(result.e164, country);
          expect(again.ok && again.digits).toBe(result.digits);
        } else {
          expect(typeof result.reason).toBe('string');
          expect(result.reason.length).toBeGreaterThan(0);
        }
      }),
      fuzzParameters(fuzzRuns(2000)),
    );
  });

  it('masks any input so that no 8-digit run of it survives', () => {
    fc.assert(
      fc.property(anyText(40), (input) => {
        const masked = maskPhoneNumber(input);
        const digits = input.replace(/\D/g, '');
        if (digits.length >= 8) expect(masked).not.toContain(digits);
        expect(masked).toMatch(/^\d*\*\*\*\d*$/);
      }),
      fuzzParameters(fuzzRuns(2000)),
    );
  });
});
