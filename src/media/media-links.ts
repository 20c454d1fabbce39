import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../shared/clock.js';

/**
 * Links Meta can fetch a ticket file from when it is sent as a media message (`image.link`): public, but
 * only for the file named, and only until it expires. The signature is an HMAC of
 * `ticketId/mediaId/expires` with a secret every process shares (MEDIA_LINK_SECRET, or one derived from
 * the API key), so any process can check a link another made.
 */
export interface MediaLinks {
  /** `${baseUrl}/media/<ticketId>/<mediaId>?expires=<ms>&signature=<hex>` */
  link(ticketId: string, mediaId: string): string;
  verify(ticketId: string, mediaId: string, expires: string, signature: string): boolean;
}

export interface MediaLinkOptions {
  secret: string;
  baseUrl: string;
  clock: Clock;
  /** How long a link works: long enough for retries over an outage (default 7 days). */
  ttlMs?: number;
}

const DEFAULT_TTL_MS = 7 * 24 * 60 * 60 * 1000;

export function createMediaLinks(options: MediaLinkOptions): MediaLinks {
  const ttlMs = options.ttlMs ?? DEFAULT_TTL_MS;
  const sign = (ticketId: string, mediaId: string, expires: string): Buffer =>
    createHmac('sha256', options.secret).update(`${ticketId}/${mediaId}/${expires}`).digest();
  return {
    link(ticketId, mediaId) {
      const expires = String(options.clock.now() + ttlMs);
      const signature = sign(ticketId, mediaId, expires).toString('hex');
      return `${options.baseUrl}/media/${encodeURIComponent(ticketId)}/${encodeURIComponent(mediaId)}?expires=${expires}&signature=${signature}`;
    },
    verify(ticketId, mediaId, expires, signature) {
      if (!/^\d{1,16}$/.test(expires) || !/^[0-9a-f]{64}$/.test(signature)) return false;
      if (Number(expires) < options.clock.now()) return false;
      return timingSafeEqual(sign(ticketId, mediaId, expires), Buffer.from(signature, 'hex'));
    },
  };
}

/** A secret for media links from the API key when MEDIA_LINK_SECRET is not set (never the key itself). */
export function deriveMediaLinkSecret(apiKey: string): string {
  return createHmac('sha256', apiKey).update('keyhomekey media links v1').digest('hex');
}
