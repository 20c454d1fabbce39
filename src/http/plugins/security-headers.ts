import type { IncomingMessage, ServerResponse } from 'node:http';
import cors from '@fastify/cors';
import type { FastifyInstance } from 'fastify';
import helmet from 'helmet';

/**
 * The Content-Security-Policy of every response. It fits the Vite-built React UI served from this origin
 * (bundled scripts and styles from 'self', images from uploads as data:/blob: URLs) and the Swagger UI at
 * /docs (external scripts only; it styles elements from JavaScript, hence 'unsafe-inline' for styles
 * alone). Scripts are never inline.
 */
export const CONTENT_SECURITY_POLICY = {
  defaultSrc: ["'self'"],
  baseUri: ["'self'"],
  connectSrc: ["'self'"],
  fontSrc: ["'self'", 'data:'],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
  imgSrc: ["'self'", 'data:', 'blob:'],
  objectSrc: ["'none'"],
  scriptSrc: ["'self'"],
  scriptSrcAttr: ["'none'"],
  styleSrc: ["'self'", "'unsafe-inline'"],
  // Not upgrade-insecure-requests: a plain-http install on a LAN address would break its own assets.
  upgradeInsecureRequests: null,
};

/**
 * Helmet's headers for our options, worked out once. Helmet's middleware only sets fixed headers for a
 * fixed configuration (no per-request nonces here), so running it once against a recording response gives
 * exactly what it would set on every response. (@fastify/helmet rebuilt the middleware, CSP parsing
 * included, on every request: a tenth of the notify route's CPU.)
 */
export function helmetHeaders(): Readonly<Record<string, string>> {
  const headers = new Map<string, string>();
  const recorder = {
    setHeader: (name: string, value: string) => headers.set(name.toLowerCase(), value),
    // Helmet removes X-Powered-By; Fastify never sets it.
    removeHeader: (name: string) => headers.delete(name.toLowerCase()),
  };
  // A bad option throws when the middleware is built; with fixed directives it never calls `next(error)`.
  helmet({ contentSecurityPolicy: { useDefaults: false, directives: CONTENT_SECURITY_POLICY } })(
    {} as IncomingMessage,
    recorder as unknown as ServerResponse,
    () => undefined,
  );
  return Object.fromEntries(headers);
}

/**
 * Security headers on every response (helmet), and CORS closed unless CORS_ORIGINS lists origins: with
 * none, no response carries Access-Control-Allow-Origin, so browsers on other sites cannot read answers.
 */
export async function registerSecurityHeaders(
  app: FastifyInstance,
  options: { corsOrigins: readonly string[] },
): Promise<void> {
  const headers = helmetHeaders();
  app.addHook('onRequest', (_request, reply, done) => {
    reply.headers(headers);
    done();
  });
  if (options.corsOrigins.length > 0) {
    await app.register(cors, {
      origin: [...options.corsOrigins],
      methods: ['GET', 'HEAD', 'POST', 'PATCH', 'DELETE'],
      allowedHeaders: ['content-type', 'x-api-key', 'idempotency-key', 'prefer'],
      maxAge: 600,
    });
  }
}
