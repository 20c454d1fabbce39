import type { FastifyReply } from 'fastify';
import type { MediaStorage } from '../../../media/media-storage.js';
import { AppError } from '../../../shared/error-codes.js';
import type { TicketStore } from '../../../tickets/ticket-store.js';

/** Answers with one of a ticket's files (404 when the ticket has no such file). */
export async function sendTicketFile(
  reply: FastifyReply,
  stores: { tickets: TicketStore; media: MediaStorage },
  ticketId: string,
  mediaId: string,
): Promise<FastifyReply> {
  const row = await stores.tickets.getMedia(ticketId, mediaId);
  const stored = row === null ? null : await stores.media.get(row.storage_key);
  if (row === null || stored === null) throw new AppError('not_found', 'File not found');
  // Text files were checked to be UTF-8; without the charset a browser may show them as Latin-1.
  const contentType = row.content_type === 'text/plain' ? 'text/plain; charset=utf-8' : row.content_type;
  return reply
    .header('content-type', contentType)
    .header('content-disposition', contentDisposition(row.filename))
    .header('x-content-type-options', 'nosniff')
    .send(stored.data);
}

/**
 * `inline`, with an ASCII fallback name and the exact name as RFC 5987 `filename*` (where only
 * attr-chars may stay unescaped: encodeURIComponent alone leaves ' ( ) * ! which strict parsers refuse).
 */
function contentDisposition(filename: string): string {
  const fallback = filename.replace(/[^\x20-\x7e]|["\\%]/g, '_');
  const encoded = encodeURIComponent(filename).replace(
    /['()*!]/g,
    (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `inline; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}
