import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isDatabaseUnavailable } from '../../db/database-errors.js';
import { AppError, ERROR_CODES, type ErrorCode } from '../../shared/error-codes.js';

interface ValidationIssue {
  instancePath: string;
  keyword: string;
  params: Record<string, unknown>;
  message?: string;
}

/**
 * One place turns every failure into the seed's envelope with a stable code. 4xx messages name the
 * field; 5xx answers carry only a request id, never internals.
 */
export function registerErrorEnvelope(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | AppError, request, reply) => {
    if (error instanceof AppError) return send(reply, error.code, error.message, error.details);
    // No such route: that is the answer, whatever was wrong with the body (found by fuzzing: an empty JSON
    // body on an unknown route was a 400 invalid_json).
    if (request.is404) return sendNotFound(request, reply);
    // Past this point it is a framework or unexpected error.
    const validation = error.validation as ValidationIssue[] | undefined;
    if (validation !== undefined && validation.length > 0) {
      const context = error.validationContext ?? 'body';
      const { field, message } = describeValidation(validation[0] as ValidationIssue, context);
      return send(reply, 'validation_error', message, { field, location: context });
    }
    const known = codeForFastifyError(error);
    if (known !== null) {
      if (known.code === 'rate_limited')
        void reply.header('retry-after', reply.getHeader('retry-after') ?? '60');
      return send(reply, known.code, known.message);
    }
    if (isDatabaseUnavailable(error)) {
      request.log.error({ event: 'http.database_unavailable', err: error }, 'database unavailable');
      void reply.header('retry-after', '5');
      return send(reply, 'database_unavailable', 'Database unavailable, try again shortly', {
        requestId: request.id,
      });
    }
    request.log.error({ event: 'http.unexpected_error', err: error }, 'unexpected error');
    return send(reply, 'internal_error', 'Internal server error', { requestId: request.id });
  });

  app.setNotFoundHandler(sendNotFound);
}

function sendNotFound(request: FastifyRequest, reply: FastifyReply) {
  return send(reply, 'not_found', `Route ${request.method} ${request.url.split('?')[0] ?? ''} not found`);
}

/**
 * Fastify answers some refusals before routing, outside the error handler (a URL with a broken percent
 * escape): `frameworkErrors` sends them through the envelope too (found by fuzzing).
 */
export function frameworkErrorHandler(error: FastifyError, _request: unknown, reply: FastifyReply): void {
  if (error.code === 'FST_ERR_BAD_URL') void send(reply, 'invalid_url', 'The URL is not valid');
  else void send(reply, 'validation_error', 'The request is malformed');
}

export function send(
  reply: FastifyReply,
  code: ErrorCode,
  message: string,
  details?: Record<string, unknown>,
) {
  return reply
    .code(ERROR_CODES[code].status)
    .type('application/json; charset=utf-8')
    .send({ success: false, error: { message, code, ...(details === undefined ? {} : { details }) } });
}

export function describeValidation(
  issue: ValidationIssue,
  context: string,
): { field: string; message: string } {
  const path = issue.instancePath.replace(/^\//, '').replaceAll('/', '.');
  if (issue.keyword === 'required') {
    const field = [path, String(issue.params.missingProperty)].filter(Boolean).join('.');
    return { field, message: `${field} is required` };
  }
  const field = path === '' ? context : path;
  switch (issue.keyword) {
    case 'type':
      return { field, message: `${field} must be ${article(String(issue.params.type))}` };
    case 'minLength':
      return {
        field,
        message:
          Number(issue.params.limit) <= 1
            ? `${field} must not be empty`
            : `${field} must be at least ${String(issue.params.limit)} characters`,
      };
    case 'maxLength':
      return { field, message: `${field} must be at most ${String(issue.params.limit)} characters` };
    case 'pattern':
      return { field, message: `${field} has an invalid format` };
    case 'additionalProperties':
      return {
        field: String(issue.params.additionalProperty),
        message: `${String(issue.params.additionalProperty)} is not allowed`,
      };
    default:
      return { field, message: `${field} ${issue.message ?? 'is invalid'}` };
  }
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

function codeForFastifyError(error: FastifyError): { code: ErrorCode; message: string } | null {
  switch (error.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { code: 'invalid_json', message: 'Body is not valid JSON' };
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { code: 'payload_too_large', message: 'Body is too large' };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { code: 'unsupported_media_type', message: 'Unsupported Content-Type; send application/json' };
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return { code: 'invalid_json', message: 'Content-Length does not match the body' };
    default:
      break;
  }
  if (error.statusCode === 429) {
    // rateLimitHook throws its own `{statusCode, code: 'rate_limited', message}` naming the wait.
    const isOurs = error.code === 'rate_limited' && typeof error.message === 'string';
    return { code: 'rate_limited', message: isOurs ? error.message : 'Too many requests, retry later' };
  }
  // Any other framework or plugin refusal keeps its 4xx meaning (never a 500 for a client's mistake).
  switch (error.statusCode) {
    case 400:
      return { code: 'validation_error', message: 'The request is malformed' };
    case 404:
      return { code: 'not_found', message: 'Not found' };
    case 413:
      return { code: 'payload_too_large', message: 'Body is too large' };
    case 415:
      return { code: 'unsupported_media_type', message: 'Unsupported Content-Type' };
    default:
      break;
  }
  if (error instanceof SyntaxError && error.statusCode === 400)
    return { code: 'invalid_json', message: 'Body is not valid JSON' };
  return null;
}
