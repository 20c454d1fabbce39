import { describe, expect, it } from 'vitest';
import { createMediaLinks, deriveMediaLinkSecret } from './media-links.js';

function parts(link: string): { ticketId: string; mediaId: string; expires: string; signature: string } {
  const url = new URL(link);
  const [, , ticketId = '', mediaId = ''] = url.pathname.split('/');
  return {
    ticketId,
    mediaId,
    expires: url.searchParams.get('expires') ?? '',
    signature: url.searchParams.get('signature') ?? '',
  };
}

describe('media links', () => {
  const clock = {
    time: 1_000_000,
    now() {
      return this.time;
    },
  };
  const links = createMediaLinks({ secret: 's3cret', baseUrl: 'https://example.test', clock, ttlMs: 60_000 });

  it('verifies its own links until they expire', () => {
    const link = links.link('ticket-1', 'media-1');
    expect(link.startsWith('https://example.test/media/ticket-1/media-1?expires=')).toBe(true);
    const p = parts(link);
    expect(links.verify(p.ticketId, p.mediaId, p.expires, p.signature)).toBe(true);
    clock.time += 60_001;
    expect(links.verify(p.ticketId, p.mediaId, p.expires, p.signature)).toBe(false);
    clock.time = 1_000_000;
  });

  it('refuses another file, a changed expiry, another secret and malformed values', () => {
    const p = parts(links.link('ticket-1', 'media-1'));
    expect(links.verify('ticket-1', 'media-2', p.expires, p.signature)).toBe(false);
    expect(links.verify('ticket-2', 'media-1', p.expires, p.signature)).toBe(false);
    expect(links.verify('ticket-1', 'media-1', String(Number(p.expires) + 1), p.signature)).toBe(false);
    const other = createMediaLinks({ secret: 'other', baseUrl: 'https://example.test', clock });
    expect(other.verify(p.ticketId, p.mediaId, p.expires, p.signature)).toBe(false);
    expect(links.verify('ticket-1', 'media-1', 'soon', p.signature)).toBe(false);
    expect(links.verify('ticket-1', 'media-1', p.expires, 'zz')).toBe(false);
  });

  it('derives a secret that is not the key', () => {
    const secret = deriveMediaLinkSecret('my-api-key-0123456789');
    expect(secret).toMatch(/^[0-9a-f]{64}$/);
    expect(secret).not.toContain('my-api-key');
    expect(deriveMediaLinkSecret('my-api-key-0123456789')).toBe(secret);
  });
});
