import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { WireMediaInfoResponse, WireMediaUploadResponse } from '../whatsapp/wire-types.js';
import {
  bearerToken,
  phoneNumberFailure,
  tokenFailure,
  unknownObjectFailure,
  type GraphAccess,
} from './graph-access.js';
import { graphFailure, sendGraphFailure } from './graph-errors.js';
import { checkUpload, MAX_UPLOAD_BYTES, MEDIA_URL_TTL_MS, type StoredMedia } from './media-store.js';
import type { SandboxState } from './sandbox-state.js';

/** Where media bytes are served, shaped like Meta's lookaside host path. */
export const LOOKASIDE_PATH = '/lookaside/whatsapp_business/attachments/';

interface MediaRouteOptions {
  state: SandboxState;
  access: GraphAccess;
  /** The Graph path prefix with the version parameter, e.g. `/:version(...)`. */
  versionPrefix: string;
}

interface UploadedFile {
  bytes: Buffer;
  filename: string;
}

/** Media API (shared/whatsapp-cloud-api.md §5): upload, info with a download URL, delete, download. */
export function registerMediaRoutes(graph: FastifyInstance, options: MediaRouteOptions): void {
  const { state, access, versionPrefix } = options;

  graph.post(
    `${versionPrefix}/:phoneNumberId/media`,
    async (request: FastifyRequest<{ Params: { phoneNumberId: string } }>, reply) => {
      const { phoneNumberId } = request.params;
      const accessFailure = tokenFailure(request, access) ?? phoneNumberFailure(phoneNumberId, access);
      if (accessFailure) return sendGraphFailure(reply, accessFailure);
      if (!request.isMultipart()) {
        return sendGraphFailure(reply, graphFailure(100, 'The request must be multipart/form-data.'));
      }
      const { fields, file } = await readUpload(request);
      if (fields.get('messaging_product') !== 'whatsapp') {
        return sendGraphFailure(reply, graphFailure(100, 'The parameter messaging_product is required.'));
      }
      if (!file) return sendGraphFailure(reply, graphFailure(100, 'The parameter file is required.'));
      const mimeType = fields.get('type');
      if (mimeType === undefined) {
        return sendGraphFailure(reply, graphFailure(100, 'The parameter type is required.'));
      }
      const check = checkUpload(mimeType, file.bytes.length);
      if (!check.ok) return sendGraphFailure(reply, graphFailure(check.code, check.reason));
      const media = state.media.add(
        { phoneNumberId, mimeType, filename: file.filename, bytes: file.bytes },
        state.now(),
      );
      const body: WireMediaUploadResponse = { id: media.id };
      return body;
    },
  );

  graph.get(
    `${versionPrefix}/:mediaId`,
    async (request: FastifyRequest<{ Params: { mediaId: string } }>, reply) => {
      const failure = tokenFailure(request, access);
      if (failure) return sendGraphFailure(reply, failure);
      const media = state.media.get(request.params.mediaId);
      if (!media) return sendGraphFailure(reply, unknownObjectFailure(request.params.mediaId, 'get'));
      // The prefix keeps the URL right when the sandbox is mounted inside another app.
      return mediaInfo(media, `${request.protocol}://${request.host}${graph.prefix}`, state.now());
    },
  );

  graph.delete(
    `${versionPrefix}/:mediaId`,
    async (request: FastifyRequest<{ Params: { mediaId: string } }>, reply) => {
      const failure = tokenFailure(request, access);
      if (failure) return sendGraphFailure(reply, failure);
      if (!state.media.delete(request.params.mediaId)) {
        return sendGraphFailure(reply, unknownObjectFailure(request.params.mediaId, 'delete'));
      }
      return { success: true };
    },
  );

  graph.get(
    LOOKASIDE_PATH,
    async (request: FastifyRequest<{ Querystring: { mid?: string; ext?: string } }>, reply) => {
      const token = bearerToken(request);
      if (token === null || !access.tokens.has(token)) {
        return sendGraphFailure(reply, graphFailure(190, 'Media downloads need the Bearer token.'));
      }
      const media = request.query.mid === undefined ? undefined : state.media.get(request.query.mid);
      if (!media) return reply.code(404).type('text/plain').send('Not Found');
      if (Number(request.query.ext) * 1000 < state.now()) {
        return reply.code(403).type('text/plain').send('URL signature expired');
      }
      return sendBytes(reply, media);
    },
  );
}

async function readUpload(
  request: FastifyRequest,
): Promise<{ fields: Map<string, string>; file?: UploadedFile }> {
  const fields = new Map<string, string>();
  let file: UploadedFile | undefined;
  for await (const part of request.parts({ limits: { fileSize: MAX_UPLOAD_BYTES, files: 1, fields: 20 } })) {
    if (part.type === 'file') {
      // Meta takes the MIME type from the `type` field, not from the file part.
      const bytes = await part.toBuffer();
      if (part.fieldname === 'file' && !file) {
        file = { bytes, filename: part.filename };
      }
    } else if (typeof part.value === 'string') {
      fields.set(part.fieldname, part.value);
    }
  }
  return file ? { fields, file } : { fields };
}

function mediaInfo(media: StoredMedia, origin: string, now: number): WireMediaInfoResponse {
  const expiresAt = Math.floor((now + MEDIA_URL_TTL_MS) / 1000);
  return {
    messaging_product: 'whatsapp',
    url: `${origin}${LOOKASIDE_PATH}?mid=${media.id}&ext=${expiresAt}`,
    mime_type: media.mimeType,
    sha256: media.sha256,
    file_size: String(media.bytes.length),
    id: media.id,
  };
}

function sendBytes(reply: FastifyReply, media: StoredMedia): FastifyReply {
  return reply
    .type(media.mimeType)
    .header('content-length', media.bytes.length)
    .header('content-disposition', `attachment; filename="${media.filename.replace(/"/g, '')}"`)
    .send(media.bytes);
}
