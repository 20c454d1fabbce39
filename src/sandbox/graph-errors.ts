import { randomBytes } from 'node:crypto';
import type { FastifyReply } from 'fastify';
import type { WireGraphErrorResponse } from '../whatsapp/wire-types.js';

/** Graph error codes the sandbox can answer with, and how Meta presents each (shared/whatsapp-cloud-api.md §2.3). */
const CATALOG = {
  100: { httpStatus: 400, title: 'Invalid parameter' },
  190: { httpStatus: 401, title: 'Access token has expired' },
  2500: { httpStatus: 400, title: 'Unknown path components' },
  130429: { httpStatus: 429, title: 'Rate limit hit' },
  131000: { httpStatus: 500, title: 'Something went wrong' },
  131008: { httpStatus: 400, title: 'Required parameter is missing' },
  131009: { httpStatus: 400, title: 'Parameter value is not valid' },
  131016: { httpStatus: 503, title: 'Service unavailable' },
  131026: { httpStatus: 400, title: 'Message undeliverable' },
  131030: { httpStatus: 400, title: 'Recipient phone number not in allowed list' },
  131047: { httpStatus: 400, title: 'Re-engagement message' },
  131051: { httpStatus: 400, title: 'Unsupported message type' },
  131053: { httpStatus: 400, title: 'Media upload error' },
  131056: { httpStatus: 429, title: '(Business Account, Consumer Account) pair rate limit hit' },
  132001: { httpStatus: 404, title: 'Template name does not exist in the translation' },
} as const satisfies Record<number, { httpStatus: number; title: string }>;

export type GraphErrorCode = keyof typeof CATALOG;

/** A refusal the sandbox is about to send, before it is rendered as Graph's JSON body. */
export interface GraphFailure {
  code: GraphErrorCode;
  httpStatus: number;
  title: string;
  details: string;
  /** Meta still sends subcodes for some errors although it documents them as gone since v16.0. */
  subcode?: number;
  headers?: Record<string, string>;
}

export function graphFailure(
  code: GraphErrorCode,
  details: string,
  extra: Partial<Pick<GraphFailure, 'title' | 'subcode' | 'headers' | 'httpStatus'>> = {},
): GraphFailure {
  const { httpStatus, title } = CATALOG[code];
  return { code, httpStatus, title, details, ...extra };
}

/** Graph's fbtrace_id: an opaque 23-character token that support uses to find the request. */
export function newFbtraceId(): string {
  return 'A' + randomBytes(17).toString('base64url').slice(0, 22);
}

export function graphErrorBody(failure: GraphFailure): WireGraphErrorResponse {
  return {
    error: {
      message: `(#${failure.code}) ${failure.title}`,
      type: 'OAuthException',
      code: failure.code,
      ...(failure.subcode === undefined ? {} : { error_subcode: failure.subcode }),
      error_data: { messaging_product: 'whatsapp', details: failure.details },
      fbtrace_id: newFbtraceId(),
    },
  };
}

export function sendGraphFailure(reply: FastifyReply, failure: GraphFailure): FastifyReply {
  if (failure.headers) reply.headers(failure.headers);
  return reply.code(failure.httpStatus).send(graphErrorBody(failure));
}

export const invalidTokenFailure = (details: string): GraphFailure =>
  graphFailure(190, details, { title: 'Invalid OAuth access token' });
