import { describe, expect, it } from 'vitest';
import { maskPhoneNumber, normalizePhoneNumber } from './phone-number.js';

describe('normalizePhoneNumber with Colombia as default country', () => {
  it.each([
    '573103055424',
    '+573103055424',
    '+57 310 305 5424',
    '+57 (310) 305-5424',
    '(310) 305-5424',
    '310 305 5424',
    '310-305-5424',
    '310.305.5424',
    '3103055424',
    ' 3103055424 ',
    '0057 310 305 5424',
    '0057-310-305-5424',
    '57 310 305 5424',
    '03 310 305 5424',
    '033103055424',
    '+57 03 310 305 5424',
    '\u202a+57 310 305 5424\u202c',
    '+57\u00a0310\u00a0305\u00a05424',
  ])('reads %j as 573103055424', (input) => {
    expect(normalizePhoneNumber(input, 'CO')).toEqual({
      ok: true,
      digits: '573103055424',
      e164: '+573103055424',
      country: 'CO',
    });
  });

  it.each([
    ['300 123 4567', '573001234567'],
    ['(300) 123-4567', '573001234567'],
    ['03 300 123 4567', '573001234567'],
    ['321 456 7890', '573214567890'],
    ['350 123 4567', '573501234567'],
  ])('reads the mobile %j as %s', (input, digits) => {
    expect(normalizePhoneNumber(input, 'CO')).toMatchObject({ ok: true, digits, country: 'CO' });
  });

  it.each([
    ['601 743 4000', '576017434000'],
    ['(604) 444 1234', '576044441234'],
    ['+57 601 7434000', '576017434000'],
  ])('reads the landline %j as %s', (input, digits) => {
    expect(normalizePhoneNumber(input, 'CO')).toMatchObject({ ok: true, digits, country: 'CO' });
  });

  it.each([
    ['+1 202 555 0123', '12025550123', 'US'],
    ['+1 (212) 736-5000', '12127365000', 'US'],
    ['12127365000', '12127365000', 'US'],
    ['001 212 736 5000', '12127365000', 'US'],
    ['+34 612 34 56 78', '34612345678', 'ES'],
    ['34612345678', '34612345678', 'ES'],
    ['+52 55 1234 5678', '525512345678', 'MX'],
    ['+54 9 11 2345-6789', '5491123456789', 'AR'],
    ['+58 412 123 4567', '584121234567', 'VE'],
  ])('reads the foreign number %j as %s (%s)', (input, digits, country) => {
    expect(normalizePhoneNumber(input, 'CO')).toMatchObject({ ok: true, digits, country });
  });

  it('returns null as country for a non-geographic number', () => {
    expect(normalizePhoneNumber('+800 1234 5678', 'CO')).toEqual({
      ok: true,
      digits: '80012345678',
      e164: '+80012345678',
      country: null,
    });
  });

  it.each([
    ['', 'has 0 digits'],
    ['   ', 'has 0 digits'],
    ['abc', 'contains letters'],
    ['310 305 5424 ext 12', 'contains letters'],
    ['310-CALL-NOW', 'contains letters'],
    ['123', 'has 3 digits'],
    ['+57 310', 'has 5 digits'],
    ['1234567890123456', 'has 16 digits'],
    ['1234567890', 'is not a valid phone number'],
    ['2001234567', 'is not a valid phone number'],
    ['5731030554', 'is not a valid phone number'],
    ['202 736 5000', 'is not a valid phone number'],
    ['+57 3103 055 4245', 'is not a valid phone number'],
    ['+57 210 305 5424', 'is not a valid phone number'],
    ['00000000', 'has 6 digits'],
    ['0000000000', 'is not a valid phone number'],
    ['+5215512345678', 'is not a valid phone number'],
  ])('rejects %j', (input, reason) => {
    const result = normalizePhoneNumber(input, 'CO');
    expect(result.ok).toBe(false);
    expect(result.ok ? '' : result.reason).toContain(reason);
  });
});

describe('normalizePhoneNumber with another default country', () => {
  it('reads a bare national number in that country', () => {
    expect(normalizePhoneNumber('(212) 736-5000', 'US')).toMatchObject({ ok: true, digits: '12127365000' });
  });

  it('still accepts Colombian numbers written with the country code', () => {
    expect(normalizePhoneNumber('573103055424', 'US')).toMatchObject({ ok: true, digits: '573103055424' });
    expect(normalizePhoneNumber('+57 310 305 5424', 'US')).toMatchObject({
      ok: true,
      digits: '573103055424',
    });
  });

  it('does not apply the Colombian 03 trunk rule elsewhere', () => {
    expect(normalizePhoneNumber('03 310 305 5424', 'US').ok).toBe(false);
  });
});

describe('maskPhoneNumber', () => {
  it.each([
    ['573103055424', '57310***5424'],
    ['5491123456789', '54911***6789'],
    ['12127365000', '12127***000'],
    ['80012345678', '80012***678'],
    ['12345678', '123***78'],
    ['12345', '12***'],
    ['1234', '1***'],
    ['123', '***'],
    ['', '***'],
  ])('masks %j as %j', (digits, masked) => {
    expect(maskPhoneNumber(digits)).toBe(masked);
  });

  it('ignores a leading + or punctuation', () => {
    expect(maskPhoneNumber('+573103055424')).toBe('57310***5424');
  });

  it('never reveals every digit', () => {
    for (let length = 1; length <= 15; length += 1) {
      const digits = '9876543210987654'.slice(0, length);
      const shown = maskPhoneNumber(digits).replace('***', '');
      expect(shown.length).toBeLessThanOrEqual(length - 3 > 0 ? length - 3 : 0);
    }
  });
});
