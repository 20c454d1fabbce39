import { describe, expect, it } from 'vitest';
import { createWamidFactory, decodeWamid, encodeWamid } from './wamid.js';

describe('wamid', () => {
  it("reproduces Meta's documented examples byte for byte", () => {
    expect(encodeWamid('573104567890', 'outbound', '3EB0A1B2C3D4E5F6A7')).toBe(
      'wamid.HBgMNTczMTA0NTY3ODkwFQIAERgSM0VCMEExQjJDM0Q0RTVGNkE3AA==',
    );
    expect(encodeWamid('16503879439', 'inbound', '3AADF8441347E8571C10')).toBe(
      'wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUFERjg0NDEzNDdFODU3MUMxMAA=',
    );
  });

  it('decodes what it encodes and rejects anything else', () => {
    const wamid = createWamidFactory()('573104567890');
    expect(decodeWamid(wamid)).toEqual({
      recipient: '573104567890',
      direction: 'outbound',
      hexId: expect.stringMatching(/^[0-9A-F]{18}$/) as string,
    });
    expect(decodeWamid('wamid.bm9wZQ==')).toBeNull();
    expect(decodeWamid('not-a-wamid')).toBeNull();
  });

  it('never repeats an id within a factory', () => {
    const next = createWamidFactory();
    const ids = new Set(Array.from({ length: 10_000 }, () => next('573104567890')));
    expect(ids.size).toBe(10_000);
  });
});
