import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { WebhookInbox } from '../../../messages/webhook-inbox.js';
import { AppError } from '../../../shared/error-codes.js';
import type { HttpMetrics } from '../../../metrics/metrics.js';
import { verifyWebhookSignature } from '../../../whatsapp/webhook-signature.js';
import { rateLimitHook } from '../../plugins/rate-limit.js';

export interface WebhookRouteOptions {
  inbox: WebhookInbox;
  appSecret: string | null;
  verifyToken: string | null;
  /** Deliveries per minute per client address (WEBHOOK_RATE_LIMIT_MAX); 0 = off. */
  rateLimitMax: number;
  metrics?: Pick<HttpMetrics, 'onWebhookDelivery'>;
}

/** Meta's webhooks are refused above this size (a real delivery is a few KB). */
export const WEBHOOK_BODY_LIMIT = 1024 * 1024;

/**
 * `/api/whatsapp/webhook`: Meta's verification handshake (GET) and deliveries (POST), authenticated by
 * X-Hub-Signature-256 over the raw bytes, stored durably, answered 200 before processing.
 */
export const webhookRoutes: FastifyPluginAsyncTypebox<WebhookRouteOptions> = async (app, options) => {
  const metrics = options.metrics;
  // Before the body is read and the signature computed: a flood of forged deliveries costs no HMAC.
  if (options.rateLimitMax > 0) {
    app.addHook(
      'onRequest',
      rateLimitHook(app, {
        name: 'webhook',
        max: options.rateLimitMax,
        key: (request) => request.ip,
        onExceeded: () => metrics?.onWebhookDelivery('rate_limited'),
      }),
    );
  }
  // Keep the exact bytes: the signature is over them, and re-serialising parsed JSON changes them.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    '*',
    { parseAs: 'buffer', bodyLimit: WEBHOOK_BODY_LIMIT },
    (_request, body, done) => {
      done(null, body);
    },
  );

  app.get(
    '/api/whatsapp/webhook',
    {
      schema: {
        tags: ['whatsapp'],
        summary: "Meta's webhook verification handshake",
        querystring: Type.Object({
          'hub.mode': Type.Optional(Type.String()),
          'hub.verify_token': Type.Optional(Type.String()),
          'hub.challenge': Type.Optional(Type.String({ maxLength: 200 })),
        }),
      },
    },
    async (request, reply) => {
      const query = request.query;
      const isValid =
        options.verifyToken !== null &&
        query['hub.mode'] === 'subscribe' &&
        query['hub.verify_token'] === options.verifyToken &&
        query['hub.challenge'] !== undefined;
      if (!isValid) {
        request.log.warn({ event: 'webhook.verification_refused' }, 'webhook verification refused');
        throw new AppError('webhook_verification_failed', 'Webhook verification refused');
      }
      return reply.code(200).type('text/plain').send(query['hub.challenge']);
    },
  );

  app.post(
    '/api/whatsapp/webhook',
    { schema: { tags: ['whatsapp'], summary: 'Status and message deliveries from Meta' } },
    async (request, reply) => {
      const raw = request.body;
      if (!Buffer.isBuffer(raw))
        throw new AppError('validation_error', 'body is required', { field: 'body' });
      const signature = request.headers['x-hub-signature-256'];
      if (
        options.appSecret === null ||
        !verifyWebhookSignature(raw, typeof signature === 'string' ? signature : undefined, options.appSecret)
      ) {
        request.log.warn(
          {
            event: 'webhook.signature_invalid',
            hasSecret: options.appSecret !== null,
            hasSignature: signature !== undefined,
          },
          'webhook refused: bad or missing signature',
        );
        metrics?.onWebhookDelivery('signature_invalid');
        throw new AppError('unauthorized', 'Invalid signature');
      }
      const text = raw.toString('utf8');
      try {
        JSON.parse(text);
      } catch {
        metrics?.onWebhookDelivery('invalid_json');
        throw new AppError('invalid_json', 'Body is not valid JSON');
      }
      await options.inbox.accept(text);
      metrics?.onWebhookDelivery('accepted');
      return reply.code(200).send({ success: true, data: { received: true } });
    },
  );
};
