import multipart from '@fastify/multipart';
import type { MultipartFile } from '@fastify/multipart';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import { DOCUMENT_MAX_BYTES, inspectUpload } from '../../../media/inspect-upload.js';
import { AppError } from '../../../shared/error-codes.js';
import type { WhatsAppClient } from '../../../whatsapp/whatsapp-client.js';
import { ErrorResponses, Success } from '../../contract/envelope.js';
import { multipartError } from '../../plugins/multipart-errors.js';

/**
 * `POST /api/whatsapp/media`: one file (multipart, field `file`) checked like ticket media, then uploaded to
 * Meta's media store; the answer's `mediaId` goes into `POST /api/whatsapp/notify` as `mediaId`.
 */
export const mediaUploadRoute: FastifyPluginAsyncTypebox<{ client: WhatsAppClient | null }> = async (
  app,
  { client },
) => {
  await app.register(multipart, { limits: { fileSize: DOCUMENT_MAX_BYTES, files: 1, fields: 0, parts: 1 } });
  app.post(
    '/api/whatsapp/media',
    {
      schema: {
        tags: ['whatsapp'],
        summary: "Upload an image or document to Meta's media store",
        security: [{ apiKey: [] }],
        response: {
          201: Success(
            Type.Object({ mediaId: Type.String(), mediaType: Type.String(), contentType: Type.String() }),
          ),
          ...ErrorResponses,
        },
      },
    },
    async (request, reply) => {
      if (client === null)
        throw new AppError('whatsapp_not_configured', 'WhatsApp API credentials not configured');
      if (!request.isMultipart()) {
        throw new AppError('unsupported_media_type', 'Send multipart/form-data with the file under "file"', {
          field: 'content-type',
        });
      }
      const { part, data } = await readOneFile(request);
      const inspected = await inspectUpload({ data, declaredFilename: part.filename });
      if (!inspected.ok) throw new AppError(inspected.code, inspected.message, { field: 'file' });
      const uploaded = await client.uploadMedia({
        data,
        mimeType: inspected.contentType,
        filename: inspected.safeFilename,
      });
      if (!uploaded.ok) {
        throw new AppError('whatsapp_rejected', uploaded.failure.message, {
          whatsappCode: uploaded.failure.whatsappCode,
        });
      }
      return reply.code(201).send({
        success: true,
        data: { mediaId: uploaded.mediaId, mediaType: inspected.kind, contentType: inspected.contentType },
      });
    },
  );
};

/** The one part under `file`; a malformed or over-limit body is a 4xx (found by fuzzing: it was a 500). */
async function readOneFile(request: FastifyRequest): Promise<{ part: MultipartFile; data: Buffer }> {
  try {
    const part = await request.file();
    if (part === undefined || part.fieldname !== 'file') {
      part?.file.resume();
      throw new AppError('validation_error', 'file is required', { field: 'file' });
    }
    const data = await part.toBuffer().catch((error: unknown) => {
      if ((error as { code?: string }).code === 'FST_REQ_FILE_TOO_LARGE') {
        throw new AppError('file_too_large', `${part.filename} is larger than 100 MB`, { field: 'file' });
      }
      throw error;
    });
    return { part, data };
  } catch (error) {
    if ((error as { code?: unknown }).code === 'FST_FIELDS_LIMIT') {
      throw new AppError('validation_error', 'Only the file under "file" is accepted, no other fields', {
        field: 'body',
      });
    }
    throw multipartError(error, { maxFields: 0 }) ?? error;
  }
}
