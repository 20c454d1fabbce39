import { describe, expect, it } from 'vitest';
import { listenOrigins } from './session-auth.js';

describe('listenOrigins', () => {
  it('accepts every spelling of a loopback or wildcard listen address', () => {
    for (const host of ['127.0.0.1', 'localhost', '0.0.0.0', '::', '::1']) {
      expect(listenOrigins(host, 3000)).toEqual([
        'http://localhost:3000',
        'http://127.0.0.1:3000',
        'http://[::1]:3000',
      ]);
    }
  });

  it('uses any other host as it is (IPv6 in brackets)', () => {
    expect(listenOrigins('10.0.0.5', 8080)).toEqual(['http://10.0.0.5:8080']);
    expect(listenOrigins('fd00::5', 8080)).toEqual(['http://[fd00::5]:8080']);
  });
});
