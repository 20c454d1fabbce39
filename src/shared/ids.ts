import { randomBytes } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';

/** Time-ordered ids (UUIDv7), so "newest first" is also an index order. */
export function newId(): string {
  return uuidv7();
}

/**
 * Request ids for logs and 5xx answers: a random per-process prefix and a counter, unique across
 * processes and restarts for practical purposes, and far cheaper than a UUID on every request.
 */
export function requestIdGenerator(): () => string {
  const prefix = randomBytes(6).toString('base64url');
  let counter = 0;
  return () => `${prefix}-${(++counter).toString(36)}`;
}
