/**
 * The seed's own design, for the `seed` bench scenario: `POST /api/whatsapp/notify` validates the body
 * and the API key, calls the Graph API *inside the request* (global fetch, as the seed does) and answers
 * with Meta's result. No outbox, no retry: a Graph error is the caller's 502, and a request that dies
 * mid-call (process killed, client gone) loses its message. Run as a child of the bench like bare-serve.
 *
 * Environment: SEED_GRAPH_URL (the sandbox), SEED_TOKEN, SEED_PHONE_NUMBER_ID, SEED_API_KEY.
 */
import Fastify from 'fastify';

const graphUrl = `${process.env.SEED_GRAPH_URL ?? ''}/v24.0/${process.env.SEED_PHONE_NUMBER_ID ?? ''}/messages`;
const token = process.env.SEED_TOKEN ?? '';
const apiKey = process.env.SEED_API_KEY ?? '';

interface NotifyBody {
  to?: unknown;
  message?: unknown;
}

const app = Fastify();
app.post('/api/whatsapp/notify', async (request, reply) => {
  if (request.headers['x-api-key'] !== apiKey) {
    return reply.code(401).send({ success: false, error: { message: 'Unauthorized', code: 'unauthorized' } });
  }
  const { to, message } = (request.body ?? {}) as NotifyBody;
  if (
    typeof to !== 'string' ||
    typeof message !== 'string' ||
    message.length === 0 ||
    message.length > 4096
  ) {
    return reply
      .code(400)
      .send({ success: false, error: { message: 'to and message are required', code: 'validation_error' } });
  }
  const digits = to.replace(/\D/g, '');
  const phone = digits.length === 10 ? `57${digits}` : digits;
  try {
    const response = await fetch(graphUrl, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        messaging_product: 'whatsapp',
        to: phone,
        type: 'text',
        text: { body: message },
      }),
      signal: AbortSignal.timeout(15_000),
    });
    const body = (await response.json()) as {
      messages?: { id?: string }[];
      error?: { message?: string; code?: number };
    };
    if (!response.ok || body.messages?.[0]?.id === undefined) {
      return reply.code(502).send({
        success: false,
        error: {
          message: body.error?.message ?? 'WhatsApp API error',
          code: 'whatsapp_rejected',
          details: { whatsappCode: body.error?.code },
        },
      });
    }
    return { success: true, data: { messageId: body.messages[0].id, to: phone } };
  } catch (error) {
    return reply.code(502).send({
      success: false,
      error: {
        message: error instanceof Error ? error.message : 'fetch failed',
        code: 'whatsapp_unreachable',
      },
    });
  }
});

const url = await app.listen({ port: 0, host: '127.0.0.1' });
process.on('disconnect', () => process.exit(0));
process.send?.({ type: 'ready', url, dispatcher: 'none' });
