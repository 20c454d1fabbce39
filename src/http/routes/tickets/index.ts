import multipart from '@fastify/multipart';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { DOCUMENT_MAX_BYTES, MAX_FILES_PER_TICKET } from '../../../media/inspect-upload.js';
import type { MediaStorage } from '../../../media/media-storage.js';
import { AppError } from '../../../shared/error-codes.js';
import { createTicket, reassignTicket, type UploadedFile } from '../../../tickets/create-ticket.js';
import type { TicketDeps } from '../../../tickets/ticket-deps.js';
import { decodePageCursor } from '../../../db/newest-first-page.js';
import { toMatchKey } from '../../../providers/match-key.js';
import type { TicketStore } from '../../../tickets/ticket-store.js';
import { ErrorResponses, Success } from '../../contract/envelope.js';
import {
  ReassignBody,
  TicketCreateBody,
  TicketCreated,
  TicketIdParams,
  TicketListQuery,
  TicketMediaParams,
  TicketSchema,
} from '../../contract/tickets.js';
import { describeValidation } from '../../plugins/error-envelope.js';
import { multipartError } from '../../plugins/multipart-errors.js';
import { findNul } from '../../plugins/reject-nul.js';
import { compileBodyValidator } from '../../plugins/validators.js';
import { sendTicketFile } from './send-ticket-file.js';

export interface TicketRouteOptions {
  deps: TicketDeps;
  tickets: TicketStore;
  media: MediaStorage;
}

const validateTicketFields = compileBodyValidator(TicketCreateBody);

/**
 * Bytes per form field: the longest field (a 5000-character description) in 4-byte UTF-8 characters,
 * with room to spare. A longer value is refused, never silently cut (busboy would cut it mid-character).
 */
const FIELD_MAX_BYTES = 64 * 1024;
const FIELDS_MAX = 20;

/** Tickets: create (JSON or multipart with files under `media`), list, read, download media, reassign. */
export const ticketRoutes: FastifyPluginAsyncTypebox<TicketRouteOptions> = async (
  app,
  { deps, tickets, media },
) => {
  await app.register(multipart, {
    limits: {
      fileSize: DOCUMENT_MAX_BYTES,
      // One more than allowed, so "too many" is told apart from "exactly the maximum".
      files: MAX_FILES_PER_TICKET + 1,
      fields: FIELDS_MAX,
      fieldSize: FIELD_MAX_BYTES,
      parts: MAX_FILES_PER_TICKET + FIELDS_MAX + 1,
    },
  });

  app.post(
    '/api/tickets',
    {
      schema: {
        tags: ['tickets'],
        summary: 'Create a ticket; it is matched to a provider who is notified on WhatsApp',
        description:
          'JSON, or multipart/form-data with the same fields (reporter as `reporter.name` / `reporter.phone`) and up to 10 files under `media` (JPEG/PNG ≤ 5 MB; PDF, Word, Excel, PowerPoint, text ≤ 100 MB).',
        security: [{ apiKey: [] }],
        body: Type.Unknown(),
        response: { 201: Success(TicketCreated), ...ErrorResponses },
      },
      // Multipart bodies are validated by hand below; JSON bodies against the same schema here.
      preValidation: async (request) => {
        if (request.isMultipart()) return;
        const issues = validateTicketFields(request.body);
        if (issues !== null) throw validationError(issues);
      },
    },
    async (request, reply) => {
      const { input, files } = request.isMultipart()
        ? await readMultipart(request)
        : { input: request.body as TicketCreateBody, files: [] as UploadedFile[] };
      const created = await createTicket(deps, input, files);
      return reply.code(201).send({ success: true, data: created });
    },
  );

  app.get(
    '/api/tickets',
    {
      schema: {
        tags: ['tickets'],
        summary: 'Tickets, newest first',
        security: [{ apiKey: [] }],
        querystring: TicketListQuery,
        response: {
          200: Success(
            Type.Object({
              items: Type.Array(TicketSchema),
              nextCursor: Type.Union([Type.String(), Type.Null()]),
            }),
          ),
          ...ErrorResponses,
        },
      },
    },
    async (request) => {
      const { status, provider, location, limit, cursor } = request.query;
      if (cursor !== undefined && decodePageCursor(cursor) === null) {
        throw new AppError('validation_error', 'cursor is not a cursor from this API', { field: 'cursor' });
      }
      const page = await tickets.list({
        limit,
        ...(status === undefined ? {} : { status }),
        ...(provider === undefined ? {} : { providerId: provider }),
        ...(location === undefined ? {} : { locationKey: toMatchKey(location) }),
        ...(cursor === undefined ? {} : { cursor }),
      });
      return { success: true as const, data: page };
    },
  );

  app.get(
    '/api/tickets/:id',
    {
      schema: {
        tags: ['tickets'],
        summary: 'One ticket with provider, media, notifications and history',
        security: [{ apiKey: [] }],
        params: TicketIdParams,
        response: { 200: Success(TicketSchema), ...ErrorResponses },
      },
    },
    async (request) => {
      const ticket = await tickets.get(request.params.id);
      if (ticket === null) throw new AppError('not_found', `Ticket ${request.params.id} not found`);
      return { success: true as const, data: ticket };
    },
  );

  app.get(
    '/api/tickets/:id/media/:mediaId',
    {
      schema: {
        tags: ['tickets'],
        summary: "Download one of a ticket's files",
        security: [{ apiKey: [] }],
        params: TicketMediaParams,
      },
    },
    (request, reply) => sendTicketFile(reply, { tickets, media }, request.params.id, request.params.mediaId),
  );

  app.post(
    '/api/tickets/:id/reassign',
    {
      schema: {
        tags: ['tickets'],
        summary: 'Offer the ticket to a chosen provider, or to the next match not tried yet',
        security: [{ apiKey: [] }],
        params: TicketIdParams,
        body: Type.Optional(ReassignBody),
        response: { 200: Success(TicketCreated), ...ErrorResponses },
      },
      // No body at all means "the next match": validate it as `{}` rather than refuse it.
      preValidation: async (request) => {
        if (request.body === undefined) request.body = {};
      },
    },
    async (request) => {
      const result = await reassignTicket(deps, request.params.id, { providerId: request.body?.providerId });
      return { success: true as const, data: result };
    },
  );
};

/** Reads fields and files; files beyond the limit or over their size are refused naming the part. */
async function readMultipart(
  request: FastifyRequest,
): Promise<{ input: TicketCreateBody; files: UploadedFile[] }> {
  const fields: Record<string, string> = {};
  const files: UploadedFile[] = [];
  try {
    for await (const part of request.parts()) {
      if (part.type === 'file') {
        if (part.fieldname !== 'media') {
          part.file.resume();
          throw new AppError('validation_error', `Files go under "media", not "${part.fieldname}"`, {
            field: part.fieldname,
          });
        }
        if (files.length >= MAX_FILES_PER_TICKET) {
          part.file.resume();
          throw tooManyFiles();
        }
        let data: Buffer;
        try {
          data = await part.toBuffer();
        } catch (error) {
          if ((error as { code?: string }).code === 'FST_REQ_FILE_TOO_LARGE') {
            const name = part.filename === '' ? 'The file' : part.filename;
            throw new AppError('file_too_large', `${name} is larger than 100 MB`, {
              field: `media[${files.length}]`,
              filename: part.filename === '' ? null : part.filename,
            });
          }
          throw error;
        }
        files.push({ data, filename: part.filename });
      } else {
        if (part.valueTruncated) {
          throw new AppError('validation_error', `${part.fieldname} is too long`, {
            field: part.fieldname,
            location: 'body',
          });
        }
        fields[part.fieldname] = String(part.value);
      }
    }
  } catch (error) {
    if ((error as { code?: unknown }).code === 'FST_FILES_LIMIT') throw tooManyFiles();
    throw multipartError(error, { maxFields: FIELDS_MAX }) ?? error;
  }
  // The JSON body's NUL check (reject-nul.ts) does not see multipart fields (found by fuzzing: a 500 on PostgreSQL).
  const nulField = findNul(fields);
  if (nulField !== null) {
    throw new AppError('validation_error', `${nulField} must not contain NUL characters`, {
      field: nulField,
      location: 'body',
    });
  }
  const input = fieldsToInput(fields);
  const issues = validateTicketFields(input);
  if (issues !== null) throw validationError(issues);
  return { input, files };
}

function tooManyFiles(): AppError {
  return new AppError('too_many_files', `At most ${MAX_FILES_PER_TICKET} files per ticket`, {
    field: 'media',
    max: MAX_FILES_PER_TICKET,
  });
}

function fieldsToInput(fields: Record<string, string>): TicketCreateBody {
  const pick = (...names: string[]): string | undefined =>
    names.map((n) => fields[n]).find((v) => v !== undefined);
  const reporterName = pick('reporter.name', 'reporter[name]', 'reporterName');
  const reporterPhone = pick('reporter.phone', 'reporter[phone]', 'reporterPhone');
  const known = new Set([
    'description',
    'location',
    'specialty',
    'title',
    'address',
    'reporter.name',
    'reporter[name]',
    'reporterName',
    'reporter.phone',
    'reporter[phone]',
    'reporterPhone',
  ]);
  const unknown = Object.keys(fields).find((name) => !known.has(name));
  if (unknown !== undefined)
    throw new AppError('validation_error', `${unknown} is not allowed`, { field: unknown, location: 'body' });
  const input: Record<string, unknown> = {};
  for (const name of ['description', 'location', 'specialty', 'title', 'address'] as const) {
    if (fields[name] !== undefined) input[name] = fields[name];
  }
  if (reporterName !== undefined || reporterPhone !== undefined) {
    input.reporter = {
      ...(reporterName === undefined ? {} : { name: reporterName }),
      ...(reporterPhone === undefined ? {} : { phone: reporterPhone }),
    };
  }
  return input as TicketCreateBody;
}

function validationError(issues: Parameters<typeof describeValidation>[0][]): AppError {
  const first = issues[0];
  if (first === undefined)
    return new AppError('validation_error', 'body is invalid', { field: 'body', location: 'body' });
  const { field, message } = describeValidation(first, 'body');
  return new AppError('validation_error', message, { field, location: 'body' });
}
