import type { FastifyRequest } from 'fastify';
import { graphFailure, invalidTokenFailure, type GraphFailure } from './graph-errors.js';

/** Who may call the Graph routes, and for which business numbers. */
export interface GraphAccess {
  tokens: ReadonlySet<string>;
  /** null = any phone number id is accepted. */
  phoneNumberIds: ReadonlySet<string> | null;
}

export function bearerToken(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  if (header === undefined) return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1] ?? null;
}

/** Graph answers 190 to a missing or unknown token before it looks at anything else. */
export function tokenFailure(request: FastifyRequest, access: GraphAccess): GraphFailure | null {
  const token = bearerToken(request);
  if (token === null) {
    return invalidTokenFailure('An active access token must be used to query this resource.');
  }
  if (!access.tokens.has(token)) {
    return invalidTokenFailure('Invalid OAuth access token - Cannot parse access token');
  }
  return null;
}

export function phoneNumberFailure(phoneNumberId: string, access: GraphAccess): GraphFailure | null {
  if (access.phoneNumberIds === null || access.phoneNumberIds.has(phoneNumberId)) return null;
  return unknownObjectFailure(phoneNumberId, 'post');
}

/** Meta's answer for an id that is not a (visible) Graph object. */
export function unknownObjectFailure(id: string, method: 'get' | 'post' | 'delete'): GraphFailure {
  return graphFailure(
    100,
    `Unsupported ${method} request. Object with ID '${id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.`,
    { subcode: 33 },
  );
}
