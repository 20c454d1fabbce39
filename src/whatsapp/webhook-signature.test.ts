import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signWebhookBody, verifyWebhookSignature } from './webhook-signature.js';

const APP_SECRET = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';

/** Raw body as Meta sends it: non-ASCII as \uXXXX and `/` as `\/` (shared/whatsapp-cloud-api.md §6.4). */
const ESCAPED_BODY = Buffer.from(
  '{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"value":{' +
    '"contacts":[{"profile":{"name":"Carlos P\\u00e9rez"},"wa_id":"573104567890"}],' +
    '"messages":[{"from":"573104567890","type":"text","text":{"body":"Voy ma\\u00f1ana \\u0040 las 8 https:\\/\\/x.co"}}]' +
    '},"field":"messages"}]}]}',
  'utf8',
);

function referenceSignature(body: Buffer, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

describe('signWebhookBody', () => {
  it('produces sha256= and 64 lowercase hex digits of HMAC-SHA256 over the raw bytes', () => {
    const signature = signWebhookBody(ESCAPED_BODY, APP_SECRET);
    expect(signature).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(signature).toBe(referenceSignature(ESCAPED_BODY, APP_SECRET));
  });

  it('signs a string as its UTF-8 bytes', () => {
    const text = '{"name":"Carlos Pérez","note":"baño"}';
    expect(signWebhookBody(text, APP_SECRET)).toBe(signWebhookBody(Buffer.from(text, 'utf8'), APP_SECRET));
  });

  it('refuses an empty secret', () => {
    expect(() => signWebhookBody('{}', '')).toThrow('secret');
  });
});

describe('verifyWebhookSignature', () => {
  const header = signWebhookBody(ESCAPED_BODY, APP_SECRET);

  it('accepts the signature of the exact bytes', () => {
    expect(verifyWebhookSignature(ESCAPED_BODY, header, APP_SECRET)).toBe(true);
  });

  it('accepts uppercase hex and surrounding spaces', () => {
    const upper = `sha256=${header.slice('sha256='.length).toUpperCase()}`;
    expect(verifyWebhookSignature(ESCAPED_BODY, ` ${upper} `, APP_SECRET)).toBe(true);
  });

  it('accepts a body with raw (unescaped) UTF-8 when that is what was signed', () => {
    const raw = Buffer.from('{"text":{"body":"Voy mañana 🚰 — ¿ok?"}}', 'utf8');
    expect(verifyWebhookSignature(raw, signWebhookBody(raw, APP_SECRET), APP_SECRET)).toBe(true);
  });

  it('rejects a body altered after signing, even by one byte', () => {
    const altered = Buffer.from(ESCAPED_BODY);
    altered[altered.length - 2] = 0x20;
    expect(verifyWebhookSignature(altered, header, APP_SECRET)).toBe(false);
  });

  it('rejects the same payload re-serialised with JSON.stringify (escapes decoded)', () => {
    const reserialised = Buffer.from(JSON.stringify(JSON.parse(ESCAPED_BODY.toString('utf8'))), 'utf8');
    expect(reserialised.equals(ESCAPED_BODY)).toBe(false);
    expect(verifyWebhookSignature(reserialised, header, APP_SECRET)).toBe(false);
  });

  it('rejects a signature made with another secret', () => {
    expect(
      verifyWebhookSignature(ESCAPED_BODY, signWebhookBody(ESCAPED_BODY, 'other-secret'), APP_SECRET),
    ).toBe(false);
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['without prefix', header.slice('sha256='.length)],
    ['sha1 prefix', `sha1=${header.slice('sha256='.length)}`],
    ['too short', header.slice(0, -2)],
    ['too long', `${header}00`],
    ['not hex', `sha256=${'z'.repeat(64)}`],
    ['two values', `${header}, ${header}`],
  ])('rejects a %s header', (_case, badHeader) => {
    expect(verifyWebhookSignature(ESCAPED_BODY, badHeader, APP_SECRET)).toBe(false);
  });

  it('rejects everything when the secret is empty', () => {
    const signedWithEmptyKey = referenceSignature(ESCAPED_BODY, '');
    expect(verifyWebhookSignature(ESCAPED_BODY, signedWithEmptyKey, '')).toBe(false);
  });

  it('verifies an empty body', () => {
    const empty = Buffer.alloc(0);
    expect(verifyWebhookSignature(empty, signWebhookBody(empty, APP_SECRET), APP_SECRET)).toBe(true);
  });
});
