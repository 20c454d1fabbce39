import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AppError, ERROR_CODES } from './error-codes.js';

describe('error codes', () => {
  const doc = readFileSync(new URL('../../docs/error-codes.md', import.meta.url), 'utf8');
  const documented = new Map(
    [...doc.matchAll(/^\|\s*`([a-z_]+)`\s*\|\s*(\d{3})\s*\|/gm)].map(
      (match) => [match[1], Number(match[2])] as const,
    ),
  );

  it('documents every public code with its HTTP status in docs/error-codes.md', () => {
    for (const [code, { status }] of Object.entries(ERROR_CODES))
      expect(documented.get(code), code).toBe(status);
  });

  it('documents no code that does not exist', () => {
    for (const code of documented.keys()) expect(Object.keys(ERROR_CODES)).toContain(code);
  });

  it('uses snake_case codes and HTTP error statuses only', () => {
    for (const [code, { status }] of Object.entries(ERROR_CODES)) {
      expect(code).toMatch(/^[a-z]+(_[a-z]+)*$/);
      expect(status).toBeGreaterThanOrEqual(400);
    }
  });

  it('gives an AppError the status of its code', () => {
    expect(new AppError('invalid_phone_number', 'bad').status).toBe(400);
    expect(new AppError('whatsapp_rejected', 'no').status).toBe(502);
  });
});
