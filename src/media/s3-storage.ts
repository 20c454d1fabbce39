import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { MediaConfig } from '../config/load-config.js';
import {
  assertValidStorageKey,
  MediaStorageError,
  type MediaStorage,
  type MediaStorageOperation,
} from './media-storage.js';

export type S3MediaConfig = Omit<Extract<MediaConfig, { kind: 's3' }>, 'kind'>;

const FALLBACK_CONTENT_TYPE = 'application/octet-stream';

/** Any S3-compatible store (Supabase Storage, MinIO, R2, AWS), addressed path-style: `<endpoint>/<bucket>/<key>`. */
export function createS3Storage(config: S3MediaConfig): MediaStorage {
  const client = new S3Client({
    endpoint: config.endpoint,
    region: config.region,
    credentials: { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey },
    forcePathStyle: true,
    // Since SDK 3.729 every request carries a CRC32 checksum by default, which several S3-compatible
    // servers reject; the SigV4 payload hash already protects the body.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    // An idle timeout, not a total one: a 100 MB upload on a slow link is fine, a stalled socket is not.
    requestHandler: { connectionTimeout: 5_000, socketTimeout: 30_000 },
  });
  const { bucket } = config;

  const fail = (operation: MediaStorageOperation, key: string, error: unknown): MediaStorageError => {
    const { reason, status, detail } = describeS3Error(error);
    const statusText = status === undefined ? '' : ` (HTTP ${status})`;
    const message = `S3 media storage could not ${operation} ${key} in bucket ${bucket}: ${reason}${statusText}: ${detail}`;
    // No `cause`: SDK errors hold the raw HTTP response and socket, which loggers would dump whole.
    return new MediaStorageError(operation, key, reason, redact(message, config.secretAccessKey));
  };

  return {
    description: `S3 bucket ${bucket} at ${safeOrigin(config.endpoint)}`,

    async put(key, data, contentType) {
      assertValidStorageKey(key);
      try {
        await client.send(
          new PutObjectCommand({ Bucket: bucket, Key: key, Body: data, ContentType: contentType }),
        );
      } catch (error) {
        throw fail('put', key, error);
      }
    },

    async get(key) {
      assertValidStorageKey(key);
      try {
        const response = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        if (response.Body === undefined) return { data: Buffer.alloc(0), contentType: FALLBACK_CONTENT_TYPE };
        const bytes = await response.Body.transformToByteArray();
        return {
          data: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
          contentType: response.ContentType ?? FALLBACK_CONTENT_TYPE,
        };
      } catch (error) {
        if (isMissingObject(error)) return null;
        throw fail('get', key, error);
      }
    },

    async delete(key) {
      assertValidStorageKey(key);
      try {
        await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
      } catch (error) {
        if (isMissingObject(error)) return;
        throw fail('delete', key, error);
      }
    },
  };
}

/** NoSuchKey, or a bare 404; a missing bucket is a configuration error and must not read as "no such file". */
function isMissingObject(error: unknown): boolean {
  const { reason, status } = describeS3Error(error);
  if (reason === 'NoSuchBucket') return false;
  return reason === 'NoSuchKey' || status === 404;
}

function describeS3Error(error: unknown): { reason: string; status: number | undefined; detail: string } {
  if (!(error instanceof Error)) return { reason: 'unknown', status: undefined, detail: String(error) };
  const fields = error as Error & { code?: unknown; $metadata?: { httpStatusCode?: unknown } };
  // Network failures keep the Node code (ECONNREFUSED) in `code`; S3 answers name the error instead.
  const reason = typeof fields.code === 'string' ? fields.code : error.name;
  const status = fields.$metadata?.httpStatusCode;
  return { reason, status: typeof status === 'number' ? status : undefined, detail: error.message };
}

function redact(text: string, secret: string): string {
  return secret === '' ? text : text.split(secret).join('[redacted]');
}

function safeOrigin(endpoint: string): string {
  // An endpoint may carry user:password@; the description must not.
  return URL.canParse(endpoint) ? new URL(endpoint).origin : '(invalid endpoint)';
}
