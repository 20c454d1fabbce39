import { v7 as uuidv7 } from 'uuid';

/** Time-ordered ids (UUIDv7), so "newest first" is also an index order. */
export function newId(): string {
  return uuidv7();
}
