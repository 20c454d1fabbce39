import { randomBytes } from 'node:crypto';
import { hash, verify } from '@node-rs/argon2';

/** Shortest password accepted for a user. */
export const MIN_PASSWORD_LENGTH = 10;

/** argon2id with the library's defaults (OWASP's 19 MiB, 2 passes), as a PHC string. */
export function hashPassword(password: string): Promise<string> {
  return hash(password);
}

/** False for a wrong password or a hash that cannot be parsed (never throws on bad input). */
export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash, password);
  } catch {
    return false;
  }
}

/** A random password to print once (about 128 bits, URL-safe). */
export function generatePassword(): string {
  return randomBytes(16).toString('base64url');
}

/**
 * A hash of a random password, verified against when the email is unknown, so a login takes about as
 * long whether or not the account exists.
 */
let decoyHash: Promise<string> | null = null;
export function decoyPasswordHash(): Promise<string> {
  decoyHash ??= hashPassword(generatePassword());
  return decoyHash;
}
