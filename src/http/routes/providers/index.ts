import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { decodeCsv, importProviders } from '../../../providers/import-providers.js';
import { decodePageCursor } from '../../../db/newest-first-page.js';
import type { ProviderStore } from '../../../providers/provider-store.js';
import { AppError } from '../../../shared/error-codes.js';
import { normalizePhoneNumber } from '../../../whatsapp/phone-number.js';
import { ErrorResponses, Success } from '../../contract/envelope.js';
import {
  ProviderCreateBody,
  ProviderIdParams,
  ProviderImportBody,
  ProviderImportQuery,
  ProviderImportReport,
  ProviderListQuery,
  ProviderPage,
  ProviderPatchBody,
  ProviderSchema,
} from '../../contract/providers.js';

export interface ProviderRoutesOptions {
  store: ProviderStore;
  /** Largest CSV accepted by `POST /api/providers/import` (default 5 MB). */
  importBodyLimitBytes?: number;
}

const DEFAULT_IMPORT_LIMIT = 5 * 1024 * 1024;
const CSV_CONTENT_TYPES = ['text/csv', 'text/plain', 'application/csv'];

/** Providers: CRUD and CSV import. Register inside the authenticated `/api` context. */
export const providerRoutes: FastifyPluginAsyncTypebox<ProviderRoutesOptions> = async (app, options) => {
  const { store } = options;
  const importLimit = options.importBodyLimitBytes ?? DEFAULT_IMPORT_LIMIT;

  // CSV bodies, for this plugin only (encapsulated); bytes that are not UTF-8 are read as Windows-1252.
  if (app.hasContentTypeParser('text/plain')) app.removeContentTypeParser('text/plain');
  app.addContentTypeParser(
    CSV_CONTENT_TYPES,
    { parseAs: 'buffer', bodyLimit: importLimit },
    (_request, body: Buffer, done) => done(null, decodeCsv(body)),
  );

  app.get(
    '/api/providers',
    {
      schema: {
        tags: ['providers'],
        summary: 'Providers, newest first',
        security: [{ apiKey: [] }],
        querystring: ProviderListQuery,
        response: { 200: Success(ProviderPage), ...ErrorResponses },
      },
    },
    async (request) => {
      const { cursor, location, specialty, active, source, phone, limit } = request.query;
      if (cursor !== undefined && decodePageCursor(cursor) === null) {
        throw new AppError('validation_error', 'cursor is not a cursor from this API', { field: 'cursor' });
      }
      const page = await store.list({
        limit,
        ...(cursor === undefined ? {} : { cursor }),
        ...(location === undefined ? {} : { location }),
        ...(specialty === undefined ? {} : { specialty }),
        ...(active === undefined ? {} : { active }),
        ...(source === undefined ? {} : { source }),
        ...(phone === undefined ? {} : { phone: normalizeQueryPhone(phone, store) }),
      });
      return { success: true as const, data: page };
    },
  );

  app.post(
    '/api/providers',
    {
      schema: {
        tags: ['providers'],
        summary: 'Create a provider',
        description: '409 `provider_phone_taken` (with `details.providerId`) when the phone is already used.',
        security: [{ apiKey: [] }],
        body: ProviderCreateBody,
        response: { 201: Success(ProviderSchema), ...ErrorResponses },
      },
    },
    async (request, reply) => {
      const provider = await store.create(request.body);
      request.log.info({ event: 'provider.created', providerId: provider.id }, 'provider created');
      return reply.code(201).send({ success: true as const, data: provider });
    },
  );

  app.post(
    '/api/providers/import',
    {
      bodyLimit: importLimit,
      schema: {
        tags: ['providers'],
        summary: 'Create or update providers from a CSV file',
        description:
          'Upsert by phone. Rows with a problem are refused and listed (row numbers as in a spreadsheet: the header is row 1); the other rows are written in one transaction. A file that cannot be parsed is a 400 `invalid_csv` and nothing is written.',
        security: [{ apiKey: [] }],
        consumes: CSV_CONTENT_TYPES,
        querystring: ProviderImportQuery,
        body: ProviderImportBody,
        response: { 200: Success(ProviderImportReport), ...ErrorResponses },
      },
      preValidation: async (request) => {
        if (typeof request.body !== 'string') {
          throw new AppError('unsupported_media_type', 'Send the CSV file as text/csv', {
            field: 'content-type',
          });
        }
      },
    },
    async (request) => {
      const report = await importProviders({ store }, request.body, { dryRun: request.query.dryRun });
      request.log.info(
        {
          event: 'providers.imported',
          total: report.total,
          created: report.created,
          updated: report.updated,
          refused: report.refused.length,
          dryRun: report.dryRun,
        },
        'providers imported',
      );
      return { success: true as const, data: report };
    },
  );

  app.get(
    '/api/providers/:id',
    {
      schema: {
        tags: ['providers'],
        summary: 'One provider',
        security: [{ apiKey: [] }],
        params: ProviderIdParams,
        response: { 200: Success(ProviderSchema), ...ErrorResponses },
      },
    },
    async (request) => {
      const provider = await store.get(request.params.id);
      if (provider === null) throw new AppError('not_found', `Provider ${request.params.id} not found`);
      return { success: true as const, data: provider };
    },
  );

  app.patch(
    '/api/providers/:id',
    {
      schema: {
        tags: ['providers'],
        summary: 'Change some fields of a provider',
        description:
          'Only the fields sent change; `specialties` replaces the list. 409 when the new phone is taken.',
        security: [{ apiKey: [] }],
        params: ProviderIdParams,
        body: ProviderPatchBody,
        response: { 200: Success(ProviderSchema), ...ErrorResponses },
      },
    },
    async (request) => {
      if (Object.keys(request.body).length === 0) {
        throw new AppError(
          'validation_error',
          'body must set at least one of name, phone, location, specialties, active',
          { field: 'body', location: 'body' },
        );
      }
      const provider = await store.update(request.params.id, request.body);
      request.log.info({ event: 'provider.updated', providerId: provider.id }, 'provider updated');
      return { success: true as const, data: provider };
    },
  );

  app.delete(
    '/api/providers/:id',
    {
      schema: {
        tags: ['providers'],
        summary: 'Delete a provider',
        description: 'Answers the deleted provider. Its tickets stay, with no provider.',
        security: [{ apiKey: [] }],
        params: ProviderIdParams,
        response: { 200: Success(ProviderSchema), ...ErrorResponses },
      },
    },
    async (request) => {
      const provider = await store.delete(request.params.id);
      if (provider === null) throw new AppError('not_found', `Provider ${request.params.id} not found`);
      request.log.info({ event: 'provider.deleted', providerId: provider.id }, 'provider deleted');
      return { success: true as const, data: provider };
    },
  );
};

function normalizeQueryPhone(phone: string, store: ProviderStore): string {
  const normalized = normalizePhoneNumber(phone, store.defaultCountry);
  if (!normalized.ok) {
    throw new AppError('invalid_phone_number', `Invalid phone number: ${normalized.reason}`, {
      field: 'phone',
    });
  }
  return normalized.digits;
}
