import type { MediaConfig } from '../config/load-config.js';
import { createLocalDiskStorage } from './local-disk-storage.js';
import type { MediaStorage } from './media-storage.js';
import { createS3Storage } from './s3-storage.js';

export function createMediaStorage(config: MediaConfig): MediaStorage {
  switch (config.kind) {
    case 'local':
      return createLocalDiskStorage(config.dir);
    case 's3':
      return createS3Storage(config);
  }
}
