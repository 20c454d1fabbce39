import { mkdir, mkdtemp, readdir, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLocalDiskStorage } from './local-disk-storage.js';
import { MediaStorageError, type MediaStorage } from './media-storage.js';

const KEY = 'tickets/0190f5c2-7c1e-7aa0-8f00-1234567890ab/0190f5c2-7c1e-7aa0-8f00-1234567890ac.jpg';

let base: string;
let dir: string;
let storage: MediaStorage;

beforeEach(async () => {
  base = await mkdtemp(path.join(os.tmpdir(), 'local-disk-storage-'));
  dir = path.join(base, 'media');
  storage = createLocalDiskStorage(dir);
});

afterEach(async () => {
  await rm(base, { recursive: true, force: true });
});

async function filesUnder(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(folder, path.join(entry.parentPath, entry.name)))
    .sort();
}

describe('createLocalDiskStorage', () => {
  it('stores, returns and deletes a file with its content type, creating folders', async () => {
    const data = Buffer.from([0xff, 0xd8, 0xff, 0x00, 0x01]);
    await storage.put(KEY, data, 'image/jpeg');

    expect(await readFile(path.join(dir, KEY))).toEqual(data);
    expect(await storage.get(KEY)).toEqual({ data, contentType: 'image/jpeg' });

    await storage.delete(KEY);
    expect(await storage.get(KEY)).toBeNull();
    expect(await filesUnder(dir)).toEqual([]);
  });

  it('returns null for a missing key, and through a file or at a folder', async () => {
    expect(await storage.get('tickets/nothing.pdf')).toBeNull();
    await storage.put('a/b.txt', Buffer.from('x'), 'text/plain');
    expect(await storage.get('a/b.txt/c')).toBeNull();
    expect(await storage.get('a')).toBeNull();
  });

  it('treats deleting a missing key as done', async () => {
    await expect(storage.delete('tickets/nothing.pdf')).resolves.toBeUndefined();
  });

  it('overwrites a key with the new data and content type', async () => {
    await storage.put('a/file', Buffer.from('old'), 'text/plain');
    await storage.put('a/file', Buffer.from('%PDF-new'), 'application/pdf');
    expect(await storage.get('a/file')).toEqual({
      data: Buffer.from('%PDF-new'),
      contentType: 'application/pdf',
    });
  });

  it('keeps the content type in a hidden sidecar, and falls back to octet-stream without it', async () => {
    await storage.put('a/b.png', Buffer.from('png'), 'image/png');
    expect(await filesUnder(dir)).toEqual(['a/.b.png.meta.json', 'a/b.png'].map(path.normalize));

    await unlink(path.join(dir, 'a/.b.png.meta.json'));
    expect((await storage.get('a/b.png'))?.contentType).toBe('application/octet-stream');

    await writeFile(path.join(dir, 'a/.b.png.meta.json'), '{not json');
    expect((await storage.get('a/b.png'))?.contentType).toBe('application/octet-stream');
  });

  it('leaves no temp files after writes, including concurrent writes to one key', async () => {
    const versions = Array.from({ length: 20 }, (_, i) => Buffer.alloc(64 * 1024, i));
    await Promise.all(versions.map((data) => storage.put('same/key.bin', data, 'application/octet-stream')));

    expect(await filesUnder(dir)).toEqual(['same/.key.bin.meta.json', 'same/key.bin'].map(path.normalize));
    const stored = await storage.get('same/key.bin');
    // Whole versions only: one writer won, none were interleaved.
    expect(versions.some((data) => data.equals(stored!.data))).toBe(true);
  });

  it('cleans up its temp file when the rename fails, and reports a MediaStorageError', async () => {
    await mkdir(path.join(dir, 'a/b.png'), { recursive: true });

    const error = await storage.put('a/b.png', Buffer.from('x'), 'image/png').catch((e: unknown) => e);

    expect(error).toBeInstanceOf(MediaStorageError);
    expect(error).toMatchObject({ operation: 'put', key: 'a/b.png' });
    expect(await filesUnder(dir)).toEqual(['a/.b.png.meta.json'].map(path.normalize));
  });

  it.each([
    '../x',
    '/etc/passwd',
    'a/../../b',
    '..',
    './a',
    'a/./b',
    'a\\..\\..\\b',
    'C:\\Windows\\win.ini',
    '.b.png.meta.json',
  ])('refuses the key %s before touching the disk', async (key) => {
    await expect(storage.put(key, Buffer.from('x'), 'text/plain')).rejects.toThrow(TypeError);
    await expect(storage.get(key)).rejects.toThrow(TypeError);
    await expect(storage.delete(key)).rejects.toThrow(TypeError);
    expect(await readdir(base)).toEqual([]);
  });

  it('refuses an absolute path inside its own folder', async () => {
    const inside = path.join(dir, 'a.txt');
    await expect(storage.put(inside, Buffer.from('x'), 'text/plain')).rejects.toThrow(TypeError);
    await expect(storage.get(inside)).rejects.toThrow(TypeError);
  });

  it('resolves a relative folder once, and says where it stores', () => {
    const relative = createLocalDiskStorage('data/media');
    expect(relative.description).toBe(`local disk at ${path.resolve('data/media')}`);
  });
});
