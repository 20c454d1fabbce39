import type { FastifyError, FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify';
import type { SandboxState } from './sandbox-state.js';
import { parseScenarioInput } from './scenarios.js';

/** A benchmark that repeats callback data on purpose could otherwise get a huge answer. */
const DEFAULT_DUPLICATES_LIMIT = 1000;

/**
 * The sandbox's own JSON API under `/sandbox` (no Graph token): the phone's inbox, counters and
 * fault scenarios. Errors are `{ error: { code, message } }`.
 */
export const controlRoutes: FastifyPluginCallback<{ state: SandboxState }> = (control, { state }, done) => {
  control.setErrorHandler((error: FastifyError, _request, reply) => {
    const status = error.statusCode !== undefined && error.statusCode < 500 ? error.statusCode : 500;
    return sendControlError(
      reply,
      status,
      status < 500 ? 'invalid_request' : 'internal_error',
      error.message,
    );
  });

  control.get('/inbox', () => ({ numbers: state.inboxSummary(), storedMessages: state.inbox.size }));

  control.get('/inbox/:waId', (request: FastifyRequest<{ Params: { waId: string } }>) => {
    const messages = state.messagesFor(request.params.waId);
    return { waId: request.params.waId.replace(/\D/g, ''), messages };
  });

  control.delete('/inbox', () => ({ cleared: state.clearInbox() }));

  control.get('/stats', () => state.stats());

  control.delete('/stats', () => {
    state.sendStats.reset();
    return { reset: true };
  });

  control.get('/stats/duplicates', (request: FastifyRequest<{ Querystring: { limit?: string } }>) => {
    const limit = Number(request.query.limit ?? DEFAULT_DUPLICATES_LIMIT);
    return {
      duplicateAccepts: state.stats().duplicateAccepts,
      distinctDuplicates: state.sendStats.distinctDuplicates,
      duplicates: state.duplicates(Number.isInteger(limit) && limit >= 0 ? limit : DEFAULT_DUPLICATES_LIMIT),
    };
  });

  control.get('/scenarios', () => ({ scenarios: state.scenarios() }));

  control.post('/scenarios', (request, reply) => {
    const parsed = parseScenarioInput(request.body);
    if (!parsed.ok) return sendControlError(reply, 400, 'invalid_scenario', parsed.message);
    return reply.code(201).send(state.addScenario(parsed.input));
  });

  control.delete('/scenarios', () => ({ cleared: state.clearScenarios() }));

  control.delete('/scenarios/:id', (request: FastifyRequest<{ Params: { id: string } }>, reply) => {
    if (!state.removeScenario(request.params.id)) {
      return sendControlError(reply, 404, 'scenario_not_found', `No scenario ${request.params.id}`);
    }
    return { deleted: request.params.id };
  });

  control.post('/reset', () => {
    state.reset();
    return { reset: true };
  });
  done();
};

export function sendControlError(
  reply: FastifyReply,
  status: number,
  code: string,
  message: string,
): FastifyReply {
  return reply.code(status).send({ error: { code, message } });
}
