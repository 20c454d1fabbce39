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
 * The headers of every answer under /api: JSON, a refusal, or a ticket's file. OWASP's REST Security Cheat
 * Sheet lists what an API answer needs; helmet's other headers steer how a browser renders a document
 * (COOP, Origin-Agent-Cluster, DNS prefetch, IE download and Flash policies, the XSS auditor) and do nothing
 * for JSON (ADR 0014). Against the document set: nothing is cached (`no-store`: the answers hold phone
 * numbers, addresses and photos), the CSP allows nothing at all, and no frame may hold an answer, same
 * origin included.
 */
export const API_HEADERS: Readonly<Record<string, string>> = {
  'cache-control': 'no-store',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'cross-origin-resource-policy': 'same-origin',
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
};

/** Whether a request is for the JSON API (its answers take API_HEADERS, everything else helmet's set). */
export function isApiPath(url: string): boolean {
  return url.startsWith('/api/') || url === '/api' || url.startsWith('/api?');
}

/**
 * Security headers on every response: API_HEADERS under /api, helmet's for everything else (the web app,
 * /docs, the health checks, the webhook). CORS stays closed unless CORS_ORIGINS lists origins: with none,
 * no response carries Access-Control-Allow-Origin, so browsers on other sites cannot read answers.
 */
export async function registerSecurityHeaders(
  app: FastifyInstance,
  options: { corsOrigins: readonly string[] },
): Promise<void> {
  const documentHeaders = helmetHeaders();
  app.addHook('onRequest', (request, reply, done) => {
    reply.headers(isApiPath(request.url) ? API_HEADERS : documentHeaders);
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
