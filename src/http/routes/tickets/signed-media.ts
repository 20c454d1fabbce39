import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { MediaLinks } from '../../../media/media-links.js';
import type { MediaStorage } from '../../../media/media-storage.js';
import { AppError } from '../../../shared/error-codes.js';
import type { TicketStore } from '../../../tickets/ticket-store.js';
import { ErrorResponses } from '../../contract/envelope.js';
import { sendTicketFile } from './send-ticket-file.js';

/**
 * `GET /media/:ticketId/:mediaId?expires=&signature=`: a ticket file for whoever holds its signed link —
 * Meta, fetching the photo of a media message (src/media/media-links.ts). Public: the signature is the
 * credential; a wrong, altered or expired link is a 404 that says nothing more.
 */
export const signedMediaRoute: FastifyPluginAsyncTypebox<{
  links: MediaLinks;
  tickets: TicketStore;
  media: MediaStorage;
}> = async (app, { links, tickets, media }) => {
  app.get(
    '/media/:ticketId/:mediaId',
    {
      schema: {
        tags: ['tickets'],
        summary: 'A ticket file through its signed, expiring link (how Meta fetches media messages)',
        params: Type.Object({
          ticketId: Type.String({ minLength: 1, maxLength: 64 }),
          mediaId: Type.String({ minLength: 1, maxLength: 64 }),
        }),
        querystring: Type.Object({
          expires: Type.String({ maxLength: 20 }),
          signature: Type.String({ maxLength: 128 }),
        }),
        response: { ...ErrorResponses },
      },
    },
    async (request, reply) => {
      const { ticketId, mediaId } = request.params;
      if (!links.verify(ticketId, mediaId, request.query.expires, request.query.signature)) {
        throw new AppError('not_found', 'File not found');
      }
      return sendTicketFile(reply, { tickets, media }, ticketId, mediaId);
    },
  );
};
