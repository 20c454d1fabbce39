import type { FastifyInstance, FastifyRequest } from 'fastify';
import { sendControlError } from './control-errors.js';
import { parseReplyBody } from './phone-replies.js';
import { ReplyError, type SandboxState } from './sandbox-state.js';

/**
 * "Be the phone": `POST /sandbox/inbox/:waId/reply` with one of
 * - `{text}`: the person writes (inbound `type: "text"`);
 * - `{buttonId}`: taps the reply button with that id, or the template quick reply with that payload;
 * - `{button: {index?, title?}}`: taps a button by position or label;
 * plus optional `wamid` (the business message answered; default the newest with buttons), `name`
 * (profile name) and `phoneNumberId`. Answers `{wamid, delivered, reply}` once the inbound webhook
 * settled; `delivered` is false without a webhook URL (the reply is still stored and opens the window).
 */
export function registerPhoneRoutes(control: FastifyInstance, state: SandboxState): void {
  control.post('/inbox/:waId/reply', async (request: FastifyRequest<{ Params: { waId: string } }>, reply) => {
    const parsed = parseReplyBody(request.body);
    if (!parsed.ok) return sendControlError(reply, 400, 'invalid_reply', parsed.message);
    try {
      const result = await state.reply(request.params.waId, parsed.body);
      return { wamid: result.wamid, delivered: result.delivered, reply: result.reply };
    } catch (error) {
      if (error instanceof ReplyError)
        return sendControlError(reply, error.httpStatus, error.code, error.message);
      throw error;
    }
  });
}
