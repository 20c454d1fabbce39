import type { FastifyReply } from 'fastify';

/** The control API's error body: `{ error: { code, message } }`. */
export function sendControlError(
  reply: FastifyReply,
  status: number,
  code: string,
  message: string,
): FastifyReply {
  return reply.code(status).send({ error: { code, message } });
}
