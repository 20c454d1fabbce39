import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import S3rver from 's3rver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MediaStorageError } from './media-storage.js';
import { createS3Storage, type S3MediaConfig } from './s3-storage.js';

// s3rver knows one account; it checks the key id but not SigV4 signatures.
const ACCESS_KEY_ID = 'S3RVER';
const SECRET = 'S3RVER';
const KEY = 'tickets/0190f5c2-7c1e-7aa0-8f00-1234567890ab/0190f5c2-7c1e-7aa0-8f00-1234567890ac.png';

let directory: string;
let server: S3rver;
let config: S3MediaConfig;

beforeAll(async () => {
  directory = await mkdtemp(path.join(os.tmpdir(), 's3rver-'));
  server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    configureBuckets: [{ name: 'media' }],
  });
  const { port } = await server.run();
  config = {
    endpoint: `http://127.0.0.1:${port}`,
    bucket: 'media',
    region: 'us-east-1',
    accessKeyId: ACCESS_KEY_ID,
    secretAccessKey: SECRET,
  };
});

afterAll(async () => {
  await server.close();
  await rm(directory, { recursive: true, force: true });
});

describe('createS3Storage against s3rver', () => {
  it('stores, returns and deletes an object with its content type', async () => {
    const storage = createS3Storage(config);
    const data = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0xff]);

    await storage.put(KEY, data, 'image/png');
    expect(await storage.get(KEY)).toEqual({ data, contentType: 'image/png' });

    await storage.delete(KEY);
    expect(await storage.get(KEY)).toBeNull();
  });

  it('round-trips a long content type and a larger body', async () => {
    const storage = createS3Storage(config);
    const contentType = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';
    const data = Buffer.alloc(3 * 1024 * 1024, 7);

    await storage.put('tickets/a/b.docx', data, contentType);
    const stored = await storage.get('tickets/a/b.docx');

    expect(stored?.contentType).toBe(contentType);
    expect(stored?.data.equals(data)).toBe(true);
  });

  it('returns null for a missing key and treats deleting it as done', async () => {
    const storage = createS3Storage(config);
    expect(await storage.get('tickets/missing.jpg')).toBeNull();
    await expect(storage.delete('tickets/missing.jpg')).resolves.toBeUndefined();
  });

  it('refuses invalid keys before sending anything', async () => {
    const storage = createS3Storage(config);
    for (const key of ['../x', '/etc/passwd', 'a/../../b', 'A.jpg']) {
      await expect(storage.put(key, Buffer.from('x'), 'text/plain')).rejects.toThrow(TypeError);
      await expect(storage.get(key)).rejects.toThrow(TypeError);
      await expect(storage.delete(key)).rejects.toThrow(TypeError);
    }
  });

  it('reports a missing bucket as an error, not as a missing file', async () => {
    const storage = createS3Storage({ ...config, bucket: 'no-such-bucket' });

    const error = await storage.get(KEY).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(MediaStorageError);
    expect(error).toMatchObject({ operation: 'get', key: KEY, reason: 'NoSuchBucket' });
    expect((error as Error).message).toContain('HTTP 404');
  });

  it('never puts the secret key in an error or the description', async () => {
    const secret = 'do-not-leak-6f1b2c9e8a';
    const storage = createS3Storage({ ...config, accessKeyId: 'UNKNOWN', secretAccessKey: secret });

    const error = await storage.put(KEY, Buffer.from('x'), 'image/png').catch((e: unknown) => e);

    expect(error).toMatchObject({ operation: 'put', reason: 'InvalidAccessKeyId' });
    expect(inspect(error, { depth: null, showHidden: true })).not.toContain(secret);
    expect(JSON.stringify(error)).not.toContain(secret);
    expect(storage.description).not.toContain(secret);
  });

  it('keeps credentials in the endpoint out of the description', () => {
    const storage = createS3Storage({ ...config, endpoint: 'https://user:pa55@storage.example.com/s3' });
    expect(storage.description).toBe('S3 bucket media at https://storage.example.com');
  });

  it('reports an unreachable endpoint with the network error code', async () => {
    const storage = createS3Storage({ ...config, endpoint: 'http://127.0.0.1:1' });

    const error = await storage.get(KEY).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(MediaStorageError);
    expect(error).toMatchObject({ operation: 'get', reason: 'ECONNREFUSED' });
  });
});
