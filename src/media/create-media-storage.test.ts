import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createMediaStorage } from './create-media-storage.js';

describe('createMediaStorage', () => {
  it('uses the local disk for kind local', async () => {
    const storage = await createMediaStorage({ kind: 'local', dir: '/srv/data/media' });
    expect(storage.description).toBe(`local disk at ${path.resolve('/srv/data/media')}`);
  });

  it('uses S3 for kind s3', async () => {
    const storage = await createMediaStorage({
      kind: 's3',
      endpoint: 'https://abc.supabase.co/storage/v1/s3',
      bucket: 'ticket-media',
      region: 'us-east-1',
      accessKeyId: 'key-id',
      secretAccessKey: 'secret',
    });
    expect(storage.description).toBe('S3 bucket ticket-media at https://abc.supabase.co');
  });
});
