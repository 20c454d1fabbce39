import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, maskDigitRuns, maskUrl } from './logger.js';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(chunk.toString());
      callback();
    },
  });
  return { lines, logger: createLogger({ level: 'info', destination }) };
}

describe('logger', () => {
  it('redacts API keys, authorization headers, tokens and secrets', () => {
    const { lines, logger } = capture();
    logger.info({
      req: { headers: { 'x-api-key': 'key-123456', authorization: 'Bearer tok-abc' } },
      config: { token: 'tok-abc', appSecret: 'shh', password: 'pw' },
    });
    const line = lines.join('');
    for (const secret of ['key-123456', 'tok-abc', 'shh', '"pw"']) expect(line).not.toContain(secret);
    expect(line).toContain('[redacted]');
  });

  it('masks phone numbers in request URLs', () => {
    const { lines, logger } = capture();
    logger.info({ req: { id: 'r1', method: 'GET', url: '/api/messages?to=573103055424' } });
    expect(lines.join('')).toContain('/api/messages?to=57310***5424');
    expect(lines.join('')).not.toContain('573103055424');
  });

  it('keeps short numbers (ids, counts) as they are', () => {
    expect(maskDigitRuns('/api/messages?limit=50')).toBe('/api/messages?limit=50');
  });

  it.each([
    [
      '/api/whatsapp/webhook?hub.mode=subscribe&hub.verify_token=s3cret&hub.challenge=1158201444',
      '/api/whatsapp/webhook?hub.mode=subscribe&hub.verify_token=[redacted]&hub.challenge=11582***1444',
    ],
    ['/x?api_key=abc&token=t&to=573103055424', '/x?api_key=[redacted]&token=[redacted]&to=57310***5424'],
    ['/x?hub%2Everify%5Ftoken=abc', '/x?hub%2Everify%5Ftoken=[redacted]'],
    ['/x?%E0%A4%A=1&flag', '/x?%E0%A4%A=1&flag'],
    ['/plain/path', '/plain/path'],
  ])('redacts credential-like query values in %s', (url, expected) => {
    expect(maskUrl(url)).toBe(expected);
  });

  it('masks phone numbers in logged errors (a database names the duplicate key)', () => {
    const { lines, logger } = capture();
    const error = Object.assign(
      new Error('duplicate key value violates unique constraint "providers_phone"'),
      {
        code: '23505',
        detail: 'Key (phone)=(573103055424) already exists.',
      },
    );
    logger.error({ err: error }, 'failed');
    const line = lines.join('');
    expect(line).toContain('57310***5424');
    expect(line).not.toContain('573103055424');
    expect(line).toContain('"code":"23505"');
  });
});
