import { createHash } from 'node:crypto';

const MB = 1024 * 1024;

/** Meta's accepted upload types and their size limits (shared/whatsapp-cloud-api.md §3.6). */
const MAX_BYTES_BY_MIME: Record<string, number> = {
  'image/jpeg': 5 * MB,
  'image/png': 5 * MB,
  'image/webp': 500 * 1024,
  'audio/aac': 16 * MB,
  'audio/amr': 16 * MB,
  'audio/mpeg': 16 * MB,
  'audio/mp4': 16 * MB,
  'audio/ogg': 16 * MB,
  'video/mp4': 16 * MB,
  'video/3gp': 16 * MB,
  'text/plain': 100 * MB,
  'application/pdf': 100 * MB,
  'application/msword': 100 * MB,
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 100 * MB,
  'application/vnd.ms-excel': 100 * MB,
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': 100 * MB,
  'application/vnd.ms-powerpoint': 100 * MB,
  'application/vnd.openxmlformats-officedocument.presentationml.presentation': 100 * MB,
};

/** The largest file Meta accepts of any type; the multipart parser's hard limit. */
export const MAX_UPLOAD_BYTES = 100 * MB;

/** Lookaside download URLs stop working after five minutes, as Meta's do. */
export const MEDIA_URL_TTL_MS = 5 * 60 * 1000;

export interface StoredMedia {
  id: string;
  /** The uploading number: Meta only lets that number send the media. */
  phoneNumberId: string;
  mimeType: string;
  filename: string;
  bytes: Buffer;
  sha256: string;
  uploadedAt: number;
}

/** Meta answers 100 for a type it does not take and 131053 for a file it cannot use. */
export type MediaCheck = { ok: true } | { ok: false; code: 100 | 131053; reason: string };

export function checkUpload(mimeType: string, size: number): MediaCheck {
  const maxBytes = MAX_BYTES_BY_MIME[mimeType];
  if (maxBytes === undefined) {
    return {
      ok: false,
      code: 100,
      reason: `Param file must be a file with one of the following types: ${supportedTypes()}`,
    };
  }
  if (size === 0) return { ok: false, code: 131053, reason: 'The uploaded file is empty.' };
  if (size > maxBytes) {
    return {
      ok: false,
      code: 131053,
      reason: `File of type ${mimeType} is ${size} bytes; the limit is ${maxBytes} bytes.`,
    };
  }
  return { ok: true };
}

function supportedTypes(): string {
  return Object.keys(MAX_BYTES_BY_MIME).join(', ');
}

/** Uploaded media, bounded by total bytes: the oldest uploads are forgotten first. */
export class MediaStore {
  private readonly items = new Map<string, StoredMedia>();
  private totalBytes = 0;
  private nextId: number;

  constructor(private readonly maxTotalBytes: number) {
    // Numeric 16-digit ids like Meta's, starting at a random point so two sandboxes rarely share ids.
    this.nextId = 1_000_000_000_000_000 + Math.floor(Math.random() * 1_000_000_000_000);
  }

  add(upload: Omit<StoredMedia, 'id' | 'sha256' | 'uploadedAt'>, now: number): StoredMedia {
    this.nextId += 1;
    const media: StoredMedia = {
      ...upload,
      id: String(this.nextId),
      sha256: createHash('sha256').update(upload.bytes).digest('hex'),
      uploadedAt: now,
    };
    this.items.set(media.id, media);
    this.totalBytes += media.bytes.length;
    this.evictOldest();
    return media;
  }

  get(id: string): StoredMedia | undefined {
    return this.items.get(id);
  }

  delete(id: string): boolean {
    const media = this.items.get(id);
    if (!media) return false;
    this.items.delete(id);
    this.totalBytes -= media.bytes.length;
    return true;
  }

  clear(): void {
    this.items.clear();
    this.totalBytes = 0;
  }

  get count(): number {
    return this.items.size;
  }

  get bytes(): number {
    return this.totalBytes;
  }

  private evictOldest(): void {
    for (const id of this.items.keys()) {
      if (this.totalBytes <= this.maxTotalBytes || this.items.size <= 1) return;
      this.delete(id);
    }
  }
}
