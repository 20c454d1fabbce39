import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { decodePageCursor } from '../../../db/newest-first-page.js';
import type { MessageStore } from '../../../messages/message-store.js';
import { AppError } from '../../../shared/error-codes.js';
import { ErrorResponses, Success } from '../../contract/envelope.js';
import { MessageIdParams, MessageListQuery, MessageSchema } from '../../contract/messages.js';

/** Message status, attempts, wamid, last error and timeline. */
export const messageRoutes: FastifyPluginAsyncTypebox<{ messageStore: MessageStore }> = async (
  app,
  { messageStore },
) => {
  app.get(
    '/api/messages/:id',
    {
      schema: {
        tags: ['messages'],
        summary: 'One message with its timeline',
        security: [{ apiKey: [] }],
        params: MessageIdParams,
        response: { 200: Success(MessageSchema), ...ErrorResponses },
      },
    },
    async (request) => {
      const message = await messageStore.get(request.params.id);
      if (message === null) throw new AppError('not_found', `Message ${request.params.id} not found`);
      return { success: true as const, data: message };
    },
  );

  app.get(
    '/api/messages',
    {
      schema: {
        tags: ['messages'],
        summary: 'Messages, newest first',
        security: [{ apiKey: [] }],
        querystring: MessageListQuery,
        response: {
          200: Success(
            Type.Object({
              items: Type.Array(MessageSchema),
              nextCursor: Type.Union([Type.String(), Type.Null()]),
            }),
          ),
          ...ErrorResponses,
        },
      },
    },
    async (request) => {
      const { cursor, status, to, ticketId, limit, direction } = request.query;
      if (cursor !== undefined && decodePageCursor(cursor) === null) {
        throw new AppError('validation_error', 'cursor is not a cursor from this API', { field: 'cursor' });
      }
      const page = await messageStore.list({
        limit,
        ...(direction === undefined ? {} : { direction }),
        ...(cursor === undefined ? {} : { cursor }),
        ...(status === undefined ? {} : { status }),
        ...(to === undefined ? {} : { to: to.replace(/\D/g, '') }),
        ...(ticketId === undefined ? {} : { ticketId }),
      });
      return { success: true as const, data: page };
    },
  );
};
