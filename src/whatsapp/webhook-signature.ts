import { createHmac, timingSafeEqual } from 'node:crypto';

const SIGNATURE_HEADER_VALUE = /^sha256=([0-9a-f]{64})$/i;

/** The `X-Hub-Signature-256` value Meta sends: `sha256=` + lowercase hex HMAC-SHA256 of the raw body. */
export function signWebhookBody(rawBody: Buffer | string, appSecret: string): string {
  assertSecret(appSecret);
  return `sha256=${hmac(rawBody, appSecret).toString('hex')}`;
}

/**
 * Checks `X-Hub-Signature-256` against the exact bytes received (never a re-serialised JSON object).
 * Missing or malformed headers, and an empty secret, verify as false.
 */
export function verifyWebhookSignature(
  rawBody: Buffer,
  header: string | undefined,
  appSecret: string,
): boolean {
  if (header === undefined || appSecret === '') return false;
  const hex = SIGNATURE_HEADER_VALUE.exec(header.trim())?.[1];
  if (hex === undefined) return false;
  const received = Buffer.from(hex, 'hex');
  const expected = hmac(rawBody, appSecret);
  return received.length === expected.length && timingSafeEqual(received, expected);
}

function hmac(rawBody: Buffer | string, appSecret: string): Buffer {
  return createHmac('sha256', appSecret).update(rawBody).digest();
}

// An empty key makes the HMAC computable by anyone, so it is always a configuration error.
function assertSecret(appSecret: string): void {
  if (appSecret === '') throw new Error('webhook app secret is empty');
}
