import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { WireSendMessageResponse } from '../whatsapp/wire-types.js';
import { bearerToken, phoneNumberFailure, tokenFailure, type GraphAccess } from './graph-access.js';
import { graphFailure, sendGraphFailure, type GraphFailure } from './graph-errors.js';
import type { InboxMessage } from './inbox.js';
import { receiptTime } from './receipt-time.js';
import type { SandboxState } from './sandbox-state.js';
import { faultOutcome } from './scenarios.js';
import { validateSendRequest, type ContentContext } from './validate-send.js';
import { isRecord } from './validate-helpers.js';

export interface SendRouteOptions {
  state: SandboxState;
  access: GraphAccess;
  templateExists?: ContentContext['templateExists'];
}

type SendRequest = FastifyRequest<{ Params: { version: string; phoneNumberId: string } }>;

/**
 * `POST /{version}/{phone-number-id}/messages`. Order of checks: token, number, body, then
 * scenarios, then the throughput cap; only then is the message accepted into the inbox.
 */
export function registerSendRoute(graph: FastifyInstance, path: string, options: SendRouteOptions): void {
  const { state, access } = options;

  const refuse = (reply: FastifyReply, failure: GraphFailure): FastifyReply => {
    state.sendStats.recordRejected(String(failure.code));
    return sendGraphFailure(reply, failure);
  };

  graph.post(path, async (request: SendRequest, reply) => {
    const { phoneNumberId } = request.params;
    if (isMarkAsRead(request.body)) return markAsRead(request, reply, access);
    state.sendStats.recordRequest();

    const accessFailure = tokenFailure(request, access) ?? phoneNumberFailure(phoneNumberId, access);
    if (accessFailure) return refuse(reply, accessFailure);

    const validation = validateSendRequest(request.body, {
      phoneNumberId,
      findMedia: (id) => state.media.get(id),
      ...(options.templateExists ? { templateExists: options.templateExists } : {}),
    });
    if (!validation.ok) return refuse(reply, validation.failure);
    const callbackData = validation.request.biz_opaque_callback_data ?? null;
    // Counted at receipt, as Meta counts: a send that waited in this process's event loop or body
    // parser still arrived when it arrived.
    const receivedAt = receiptTime(request, state.now());
    state.sendStats.recordAttempt(receivedAt, callbackData);

    const scenario = state.scenarioBook.take(validation.waId);
    const outcome = scenario ? faultOutcome(scenario) : null;
    if (outcome?.kind === 'graph_error') return refuse(reply, outcome.failure);
    if (outcome?.kind === 'html') {
      state.sendStats.recordRejected('html_502');
      return reply.code(outcome.httpStatus).type('text/html; charset=utf-8').send(outcome.body);
    }
    if (outcome?.kind === 'hang') {
      state.sendStats.recordHung();
      reply.hijack();
      state.heldRequests.hold(request.raw.socket);
      return reply;
    }

    if (!state.throughput.tryTake(phoneNumberId, receivedAt)) {
      // Meta sends no Retry-After here; the `throughput` scenario adds one to exercise that path.
      return refuse(
        reply,
        graphFailure(130429, 'Cloud API message throughput has been reached.', { subcode: 2494055 }),
      );
    }
    const message = state.accept({
      phoneNumberId,
      waId: validation.waId,
      type: validation.type,
      request: validation.request,
      receivedAt,
      ...(outcome?.kind === 'async_failure' ? { asyncFailure: outcome.error } : {}),
    });
    const token = bearerToken(request);
    if (token !== null) state.sendStats.recordSender(token);

    if (outcome?.kind === 'lost_answer') {
      state.sendStats.recordAnswerLost(callbackData);
      reply.hijack();
      state.heldRequests.hold(request.raw.socket);
      return reply;
    }
    // `slow` accepts first and answers late: a client that times out has still sent the message.
    if (outcome?.kind === 'slow') {
      const isAnswering = await state.heldRequests.wait(outcome.delayMs);
      if (!isAnswering || request.raw.socket.destroyed) {
        state.sendStats.recordAnswerLost(callbackData);
        reply.hijack();
        request.raw.socket.destroy();
        return reply;
      }
    }
    // An answer that never leaves (the connection reset or the client gave up) is a lost answer too.
    reply.raw.once('close', () => {
      if (!reply.raw.writableFinished) state.sendStats.recordAnswerLost(callbackData);
    });
    return successBody(message);
  });
}

function successBody(message: InboxMessage): WireSendMessageResponse {
  return {
    messaging_product: 'whatsapp',
    contacts: [{ input: message.request.to, wa_id: message.waId }],
    messages: [
      message.type === 'template' ? { id: message.wamid, message_status: 'accepted' } : { id: message.wamid },
    ],
  };
}

function isMarkAsRead(body: unknown): body is Record<string, unknown> {
  return isRecord(body) && body.status === 'read';
}

/** `{status: "read", message_id}` on the same endpoint marks an inbound message read. */
function markAsRead(
  request: SendRequest,
  reply: FastifyReply,
  access: GraphAccess,
): FastifyReply | { success: true } {
  const body = request.body as Record<string, unknown>;
  const failure =
    tokenFailure(request, access) ??
    phoneNumberFailure(request.params.phoneNumberId, access) ??
    (body.messaging_product === 'whatsapp'
      ? null
      : graphFailure(100, 'The parameter messaging_product is required.')) ??
    (typeof body.message_id === 'string' ? null : graphFailure(100, 'The parameter message_id is required.'));
  return failure ? sendGraphFailure(reply, failure) : { success: true };
}
