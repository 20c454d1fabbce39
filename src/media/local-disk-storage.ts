import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, unlink } from 'node:fs/promises';
import path from 'node:path';
import {
  assertValidStorageKey,
  MediaStorageError,
  type MediaStorage,
  type MediaStorageOperation,
} from './media-storage.js';

const FALLBACK_CONTENT_TYPE = 'application/octet-stream';

/**
 * Files under `dir` at their key; the content type in a hidden sidecar `.<name>.meta.json` beside each,
 * so `get` returns exactly what `put` was given (as S3 does). Valid keys have no dot-leading segment,
 * so no key can name a sidecar or a temp file.
 */
export function createLocalDiskStorage(dir: string): MediaStorage {
  const root = path.resolve(dir);

  return {
    description: `local disk at ${root}`,

    async put(key, data, contentType) {
      const file = resolveInside(root, key);
      await wrapErrors('put', key, async () => {
        await mkdir(path.dirname(file), { recursive: true });
        // The data file is the commit point: once it exists, its sidecar does too.
        await writeAtomically(sidecarOf(file), JSON.stringify({ contentType }));
        await writeAtomically(file, data);
      });
    },

    async get(key) {
      const file = resolveInside(root, key);
      return wrapErrors('get', key, async () => {
        let data: Buffer;
        try {
          data = await readFile(file);
        } catch (error) {
          if (isMissing(error)) return null;
          throw error;
        }
        return { data, contentType: await readContentType(sidecarOf(file)) };
      });
    },

    async delete(key) {
      const file = resolveInside(root, key);
      // Empty folders are left in place: removing them could race a put into the same folder.
      await wrapErrors('delete', key, async () => {
        await unlinkIfPresent(file);
        await unlinkIfPresent(sidecarOf(file));
      });
    },
  };
}

function resolveInside(root: string, key: string): string {
  assertValidStorageKey(key);
  const full = path.resolve(root, key);
  const relative = path.relative(root, full);
  if (relative === '' || relative.startsWith('..') || path.isAbsolute(relative)) {
    throw new TypeError(`Media storage key escapes the storage folder: ${JSON.stringify(key)}`);
  }
  return full;
}

function sidecarOf(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.meta.json`);
}

/** Write to a temp file in the same folder, flush, then rename: readers see the old file or the new one. */
async function writeAtomically(target: string, data: Buffer | string): Promise<void> {
  const temp = path.join(
    path.dirname(target),
    `.${path.basename(target)}.${randomBytes(6).toString('hex')}.tmp`,
  );
  try {
    const handle = await open(temp, 'wx');
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, target);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

async function readContentType(sidecar: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(sidecar, 'utf8');
  } catch (error) {
    if (isMissing(error)) return FALLBACK_CONTENT_TYPE;
    throw error;
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null && 'contentType' in parsed) {
      const { contentType } = parsed;
      if (typeof contentType === 'string' && contentType !== '') return contentType;
    }
  } catch {
    // A damaged sidecar must not hide the file; octet-stream is the safe type to serve it as.
  }
  return FALLBACK_CONTENT_TYPE;
}

async function unlinkIfPresent(file: string): Promise<void> {
  try {
    await unlink(file);
  } catch (error) {
    if (!isMissing(error)) throw error;
  }
}

function isMissing(error: unknown): boolean {
  const code = errorCode(error);
  // ENOTDIR/EISDIR: a key runs through a file, or names a folder; either way no such object.
  return code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR';
}

function errorCode(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string') {
    return error.code;
  }
  return undefined;
}

async function wrapErrors<T>(
  operation: MediaStorageOperation,
  key: string,
  work: () => Promise<T>,
): Promise<T> {
  try {
    return await work();
  } catch (error) {
    const reason = errorCode(error) ?? 'unknown';
    const detail = error instanceof Error ? error.message : String(error);
    throw new MediaStorageError(
      operation,
      key,
      reason,
      `Local media storage could not ${operation} ${key}: ${detail}`,
      {
        cause: error,
      },
    );
  }
}
