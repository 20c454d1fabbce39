import { isUtf8 } from 'node:buffer';
import { fileTypeFromBuffer } from 'file-type';
import { cleanFilename, safeFilename } from './safe-filename.js';

const MB = 1024 * 1024;

/** Meta's limits (shared/whatsapp-cloud-api.md §3.6), in MiB as the sandbox reads them. */
export const IMAGE_MAX_BYTES = 5 * MB;
export const DOCUMENT_MAX_BYTES = 100 * MB;
export const MAX_FILES_PER_TICKET = 10;

export type UploadKind = 'image' | 'document';

export type InspectedUpload =
  | { ok: true; kind: UploadKind; contentType: string; extension: string; safeFilename: string }
  | { ok: false; code: 'unsupported_media_type' | 'file_too_large'; message: string };

interface AcceptedType {
  kind: UploadKind;
  contentType: string;
  extension: string;
  /** Other spellings of the extension a user's file name may keep. */
  aliases?: readonly string[];
}

/** What file-type recognises from the bytes alone, by its MIME answer. */
const SNIFFED_TYPES: Readonly<Record<string, AcceptedType>> = {
  'image/jpeg': { kind: 'image', contentType: 'image/jpeg', extension: 'jpg', aliases: ['jpeg'] },
  'image/png': { kind: 'image', contentType: 'image/png', extension: 'png' },
  'application/pdf': { kind: 'document', contentType: 'application/pdf', extension: 'pdf' },
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': {
    kind: 'document',
    contentType: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
    extension: 'docx',
  },
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': {
    kind: 'document',
    contentType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    extension: 'xlsx',
  },
  'application/vnd.openxmlformats-officedocument.presentationml.presentation': {
    kind: 'document',
    contentType: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
    extension: 'pptx',
  },
};

/**
 * Office 97–2003 files are all "compound files" to file-type; the name picks the format, and the
 * format's main stream (UTF-16LE in the CFB directory) must be present for the bytes to match it.
 */
const COMPOUND_FILE_TYPES: Readonly<Record<string, AcceptedType & { streams: readonly string[] }>> = {
  doc: { kind: 'document', contentType: 'application/msword', extension: 'doc', streams: ['WordDocument'] },
  xls: {
    kind: 'document',
    contentType: 'application/vnd.ms-excel',
    extension: 'xls',
    streams: ['Workbook', 'Book'],
  },
  ppt: {
    kind: 'document',
    contentType: 'application/vnd.ms-powerpoint',
    extension: 'ppt',
    streams: ['PowerPoint Document'],
  },
};

const PLAIN_TEXT: AcceptedType = { kind: 'document', contentType: 'text/plain', extension: 'txt' };

const MAX_BYTES: Readonly<Record<UploadKind, number>> = {
  image: IMAGE_MAX_BYTES,
  document: DOCUMENT_MAX_BYTES,
};

const ACCEPTED =
  'Accepted: JPEG or PNG images up to 5 MB, and PDF, Word, Excel, PowerPoint or plain-text (.txt) documents up to 100 MB.';

// Text a browser could be talked into rendering as a page; no ticket note starts like this.
const MARKUP_START = /^\s*<(?:!doctype\s+html|html|head|body|script|svg|\?xml|iframe)\b/i;

type Verdict = { ok: true; type: AcceptedType } | { ok: false; reason: string };

/**
 * Decides from the bytes what an uploaded file is, and whether Meta would take it. The declared name is
 * only used to tell apart formats the bytes cannot (plain text; old Office files) and for display.
 */
export async function inspectUpload(input: {
  data: Buffer;
  declaredFilename: string | undefined;
}): Promise<InspectedUpload> {
  const { data, declaredFilename } = input;
  const cleaned = cleanFilename(declaredFilename);
  const shown = cleaned === null ? 'The uploaded file' : `"${cleaned}"`;
  const unsupported = (reason: string): InspectedUpload => ({
    ok: false,
    code: 'unsupported_media_type',
    message: `${shown} ${reason}. ${ACCEPTED}`,
  });
  const tooLarge = (limit: number, what: string): InspectedUpload => ({
    ok: false,
    code: 'file_too_large',
    message: `${shown} is too large (${data.length} bytes); ${what} may be at most ${limit / MB} MB.`,
  });

  if (data.length === 0) return unsupported('is empty');
  if (data.length > DOCUMENT_MAX_BYTES) return tooLarge(DOCUMENT_MAX_BYTES, 'files');

  const verdict = await classify(data, declaredExtension(cleaned));
  if (!verdict.ok) return unsupported(verdict.reason);
  const { type } = verdict;
  const limit = MAX_BYTES[type.kind];
  if (data.length > limit) return tooLarge(limit, type.kind === 'image' ? 'images' : 'documents');
  return {
    ok: true,
    kind: type.kind,
    contentType: type.contentType,
    extension: type.extension,
    safeFilename: safeFilename(declaredFilename, type.extension, type.aliases),
  };
}

async function classify(data: Buffer, declaredExtension: string): Promise<Verdict> {
  const sniffed = await fileTypeFromBuffer(data);
  const known = sniffed === undefined ? undefined : SNIFFED_TYPES[sniffed.mime];
  if (known !== undefined) return { ok: true, type: known };
  if (sniffed?.mime === 'application/x-cfb') return classifyCompoundFile(data, declaredExtension);
  // Two-byte signatures (MZ, BM) can match ordinary text, so a .txt name still gets the text check.
  if (declaredExtension === 'txt') return classifyText(data);
  if (sniffed !== undefined) return { ok: false, reason: `is ${sniffed.mime}, which is not accepted` };
  return { ok: false, reason: 'is not a file type we recognise' };
}

function classifyCompoundFile(data: Buffer, declaredExtension: string): Verdict {
  const type = COMPOUND_FILE_TYPES[declaredExtension];
  if (type === undefined) {
    return {
      ok: false,
      reason: 'is an Office 97–2003 style compound file, but its name does not end in .doc, .xls or .ppt',
    };
  }
  if (!type.streams.some((stream) => data.includes(Buffer.from(stream, 'utf16le')))) {
    return { ok: false, reason: `is named .${declaredExtension} but its contents are not in that format` };
  }
  return { ok: true, type };
}

function classifyText(data: Buffer): Verdict {
  if (data.includes(0))
    return { ok: false, reason: 'is named .txt but contains NUL bytes, so it is not text' };
  if (!isUtf8(data)) return { ok: false, reason: 'is named .txt but is not valid UTF-8 text' };
  // A cut multi-byte character at the end of the sample decodes to U+FFFD, which is harmless here.
  const start = data.subarray(0, 1024).toString('utf8');
  if (MARKUP_START.test(start)) return { ok: false, reason: 'is named .txt but contains HTML or XML markup' };
  return { ok: true, type: PLAIN_TEXT };
}

function declaredExtension(cleaned: string | null): string {
  const dot = cleaned?.lastIndexOf('.') ?? -1;
  return cleaned === null || dot <= 0 ? '' : cleaned.slice(dot + 1).toLowerCase();
}
