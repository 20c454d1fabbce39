import { expect } from 'vitest';
import { maskPhoneNumber } from '../../src/whatsapp/phone-number.js';

/**
 * Asserts that captured pino output holds none of `secrets` (tokens, API keys, app secrets) and none of
 * `phoneNumbers` in full, in any of the forms a number is written (digits, +digits); the masked form
 * (`57310***5424`) is what logs may carry.
 */
export function assertNoSecretsInLogs(
  logs: readonly string[],
  options: { secrets: readonly string[]; phoneNumbers?: readonly string[] },
): void {
  const text = logs.join('');
  for (const secret of options.secrets) {
    expect(secret.length, 'a secret to look for').toBeGreaterThan(7);
    const at = text.indexOf(secret);
    expect(at, `secret found in the logs: …${text.slice(Math.max(0, at - 200), at + 50)}…`).toBe(-1);
  }
  for (const phone of options.phoneNumbers ?? []) {
    const digits = phone.replace(/\D/g, '');
    // Digit runs, not substrings of longer ones: a 13-digit timestamp may contain any 10 digits.
    const pattern = new RegExp(`(?<!\\d)\\+?${digits}(?!\\d)`);
    const match = pattern.exec(text);
    const context = match === null ? '' : text.slice(Math.max(0, match.index - 300), match.index + 50);
    expect(
      match,
      `phone number ${maskPhoneNumber(digits)} found in full in the logs: …${context}…`,
    ).toBeNull();
  }
}
