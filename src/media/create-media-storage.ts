import type { MediaConfig } from '../config/load-config.js';
import { createLocalDiskStorage } from './local-disk-storage.js';
import type { MediaStorage } from './media-storage.js';

/** The AWS SDK is loaded only when S3 is configured: it costs ~20 MB of memory at rest. */
export async function createMediaStorage(config: MediaConfig): Promise<MediaStorage> {
  switch (config.kind) {
    case 'local':
      return createLocalDiskStorage(config.dir);
    case 's3': {
      const { createS3Storage } = await import('./s3-storage.js');
      return createS3Storage(config);
    }
  }
}
