import { AppError } from '../../shared/error-codes.js';

// What busboy says about a body that is not well-formed multipart.
const MALFORMED_MULTIPART =
  /^(?:Unexpected end of form|Malformed part header|Part terminated early|Malformed urlencoded form)/;

/**
 * A broken or oversized multipart body is the client's mistake: a 4xx naming it, never a 500. Null for
 * anything else (the caller rethrows it). Shared by every multipart route (tickets, media upload).
 */
export function multipartError(error: unknown, limits: { maxFields: number }): AppError | null {
  if (error instanceof AppError) return null;
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  const body = { field: 'body', location: 'body' };
  switch (code) {
    case 'FST_FILES_LIMIT':
      return new AppError('too_many_files', 'Too many files in one request', { field: 'body' });
    case 'FST_FIELDS_LIMIT':
    case 'FST_PARTS_LIMIT':
      return new AppError('validation_error', `At most ${limits.maxFields} form fields`, body);
    case 'FST_PROTO_VIOLATION':
      return new AppError('validation_error', 'A form field has a name that is not allowed', body);
    case 'FST_INVALID_JSON_FIELD_ERROR':
      return new AppError('validation_error', 'A form field declared as JSON is not valid JSON', body);
    // The body ended before its closing boundary (truncated upload).
    case 'ERR_STREAM_PREMATURE_CLOSE':
      return new AppError('validation_error', 'The multipart body ended before its closing boundary', body);
    case 'FST_INVALID_MULTIPART_CONTENT_TYPE':
      return new AppError('unsupported_media_type', 'Send multipart/form-data', { field: 'content-type' });
    default:
      break;
  }
  if (typeof message !== 'string') return null;
  if (message === 'Multipart: Boundary not found') {
    return new AppError('unsupported_media_type', 'multipart/form-data needs a boundary parameter', {
      field: 'content-type',
    });
  }
  if (MALFORMED_MULTIPART.test(message)) {
    return new AppError('validation_error', `The multipart body is malformed: ${message}`, body);
  }
  return null;
}
