import type { FastifyError, FastifyPluginCallback, FastifyRequest } from 'fastify';
import { sendControlError } from './control-errors.js';
import { registerPhoneRoutes } from './phone-routes.js';
import type { SandboxState } from './sandbox-state.js';
import { FAULT_NAMES, mixScenarios, parseScenarioInput, type FaultMix } from './scenarios.js';
import { registerWebhookRoutes } from './webhook-routes.js';

export { sendControlError } from './control-errors.js';

/** A benchmark that repeats callback data on purpose could otherwise get a huge answer. */
const DEFAULT_DUPLICATES_LIMIT = 1000;

/**
 * The sandbox's own JSON API under `/sandbox` (no Graph token): the phone's inbox and replies,
 * counters, fault scenarios, webhook faults and the webhook log. Errors are `{ error: { code, message } }`.
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

  // `messages`: what the business sent (as before); `conversation`: both directions in order, each
  // item with `direction` ('outbound' = InboxMessage, 'inbound' = InboxReply, see inbox.ts).
  control.get('/inbox/:waId', (request: FastifyRequest<{ Params: { waId: string } }>) => {
    const { waId } = request.params;
    return {
      waId: waId.replace(/\D/g, ''),
      messages: state.messagesFor(waId),
      conversation: state.conversation(waId),
    };
  });

  registerPhoneRoutes(control, state);

  control.delete('/inbox', () => ({ cleared: state.clearInbox() }));

  control.get('/stats', () => state.stats());

  control.delete('/stats', () => {
    state.resetStats();
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

  // `{mix: {fault: share, …}, to?, delayMs?}`: each send hits at most one fault, `share` of sends hit each.
  control.post('/scenarios/mix', (request, reply) => {
    const { mix, to, delayMs } = (request.body ?? {}) as { mix?: unknown; to?: unknown; delayMs?: unknown };
    if (typeof mix !== 'object' || mix === null || Array.isArray(mix)) {
      return sendControlError(reply, 400, 'invalid_scenario', 'mix must be an object of fault → share');
    }
    const unknown = Object.keys(mix).filter((name) => !(FAULT_NAMES as readonly string[]).includes(name));
    if (unknown.length > 0) {
      return sendControlError(reply, 400, 'invalid_scenario', `unknown faults: ${unknown.join(', ')}`);
    }
    let inputs;
    try {
      inputs = mixScenarios(mix as FaultMix).map((input) => ({
        ...input,
        ...(to === undefined ? {} : { to }),
        ...(delayMs === undefined ? {} : { delayMs }),
      }));
    } catch (error) {
      return sendControlError(reply, 400, 'invalid_scenario', (error as Error).message);
    }
    const parsed = inputs.map((input) => parseScenarioInput(input));
    const invalid = parsed.find((result) => !result.ok);
    if (invalid !== undefined && !invalid.ok) {
      return sendControlError(reply, 400, 'invalid_scenario', invalid.message);
    }
    const scenarios = parsed.flatMap((result) => (result.ok ? [state.addScenario(result.input)] : []));
    return reply.code(201).send({ scenarios });
  });

  control.delete('/scenarios', () => ({ cleared: state.clearScenarios() }));

  control.delete('/scenarios/:id', (request: FastifyRequest<{ Params: { id: string } }>, reply) => {
    if (!state.removeScenario(request.params.id)) {
      return sendControlError(reply, 404, 'scenario_not_found', `No scenario ${request.params.id}`);
    }
    return { deleted: request.params.id };
  });

  registerWebhookRoutes(control, state);

  control.post('/reset', () => {
    state.reset();
    return { reset: true };
  });
  done();
};
