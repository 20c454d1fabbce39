import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { sendNotification, type SendNotificationDeps } from '../../../messages/send-notification.js';
import { ErrorResponses, Success } from '../../contract/envelope.js';
import { NotifyAccepted, NotifyBody, NotifyHeaders, NotifySent } from '../../contract/notify.js';

/** `POST /api/whatsapp/notify`: the seed's endpoint, now durable (outbox) and idempotent. */
export const notifyRoute: FastifyPluginAsyncTypebox<{ deps: SendNotificationDeps }> = async (
  app,
  { deps },
) => {
  app.post(
    '/api/whatsapp/notify',
    {
      schema: {
        tags: ['whatsapp'],
        summary: 'Send a WhatsApp text message',
        description:
          '200 when Meta accepted it within NOTIFY_WAIT_MS; 202 with `Prefer: respond-async` or while it is still being retried.',
        security: [{ apiKey: [] }],
        headers: NotifyHeaders,
        body: NotifyBody,
        response: { 200: Success(NotifySent), 202: Success(NotifyAccepted), ...ErrorResponses },
      },
    },
    async (request, reply) => {
      const result = await sendNotification(deps, {
        to: request.body.to,
        content: request.body,
        idempotencyKey: request.headers['idempotency-key'] ?? null,
        isAsync: /\brespond-async\b/i.test(request.headers.prefer ?? ''),
      });
      const { message } = result;
      if (result.outcome === 'sent' && message.messageId !== null) {
        return reply
          .code(200)
          .send({ success: true, data: { messageId: message.messageId, to: message.to, id: message.id } });
      }
      return reply
        .code(202)
        .send({ success: true, data: { id: message.id, to: message.to, status: message.status } });
    },
  );
};
