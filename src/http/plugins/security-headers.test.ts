import { describe, expect, it } from 'vitest';
import { API_HEADERS, helmetHeaders, isApiPath } from './security-headers.js';

describe('isApiPath', () => {
  it.each(['/api', '/api/', '/api/messages', '/api/messages?limit=5', '/api?x=1'])('%s is the API', (url) => {
    expect(isApiPath(url)).toBe(true);
  });

  it.each(['/', '/apiary', '/docs/static/index.html', '/healthz', '/tickets/api/1', '/media/a'])(
    '%s is not',
    (url) => {
      expect(isApiPath(url)).toBe(false);
    },
  );
});

describe('API_HEADERS', () => {
  it('keeps the transport and sniffing protections of the document set, and is stricter on the rest', () => {
    const documents = helmetHeaders();
    for (const name of [
      'strict-transport-security',
      'x-content-type-options',
      'cross-origin-resource-policy',
    ]) {
      expect(API_HEADERS[name], name).toBe(documents[name]);
    }
    expect(API_HEADERS['x-frame-options']).toBe('DENY');
    expect(API_HEADERS['cache-control']).toBe('no-store');
    expect(documents['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(API_HEADERS['content-security-policy']).toBe("default-src 'none'; frame-ancestors 'none'");
  });
});
