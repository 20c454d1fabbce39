/** Where ticket photos and documents live. Keys are made by us (`tickets/<uuid>/<uuid>.jpg`), never by users. */
export interface MediaStorage {
  put(key: string, data: Buffer, contentType: string): Promise<void>;
  /** Null when nothing is stored under `key`. */
  get(key: string): Promise<{ data: Buffer; contentType: string } | null>;
  /** Deleting a missing key is not an error. */
  delete(key: string): Promise<void>;
  /** For logs and the start-up banner; never contains a secret. */
  readonly description: string;
}

export const MAX_STORAGE_KEY_LENGTH = 200;

// Each segment starts with [a-z0-9_-], so no key is `.`/`..`-relative or names an adapter's hidden file.
const KEY_PATTERN = /^[a-z0-9_-][a-z0-9_.-]*(?:\/[a-z0-9_-][a-z0-9_.-]*)*$/;

/** Lower-case `[a-z0-9/_.-]`, relative, no empty or dot-leading segment, no `..`, at most 200 characters. */
export function isValidStorageKey(key: string): boolean {
  return key.length <= MAX_STORAGE_KEY_LENGTH && KEY_PATTERN.test(key) && !key.includes('..');
}

/** A bad key is a bug in our code, not a user error, hence a TypeError. */
export function assertValidStorageKey(key: string): void {
  if (!isValidStorageKey(key))
    throw new TypeError(`Invalid media storage key: ${JSON.stringify(key.slice(0, 250))}`);
}

export type MediaStorageOperation = 'put' | 'get' | 'delete';

/** The store failed (disk full, bucket missing, network down); `reason` is the fs or S3 error code. */
export class MediaStorageError extends Error {
  constructor(
    readonly operation: MediaStorageOperation,
    readonly key: string,
    readonly reason: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'MediaStorageError';
  }
}
