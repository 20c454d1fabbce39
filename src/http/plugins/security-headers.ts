import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import type { FastifyInstance } from 'fastify';

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
 * Security headers on every response (helmet), and CORS closed unless CORS_ORIGINS lists origins: with
 * none, no response carries Access-Control-Allow-Origin, so browsers on other sites cannot read answers.
 */
export async function registerSecurityHeaders(
  app: FastifyInstance,
  options: { corsOrigins: readonly string[] },
): Promise<void> {
  await app.register(helmet, {
    contentSecurityPolicy: { useDefaults: false, directives: CONTENT_SECURITY_POLICY },
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
