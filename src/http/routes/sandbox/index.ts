import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { ReplyError, type SandboxState } from '../../../sandbox/sandbox-state.js';
import { parseScenarioInput } from '../../../sandbox/scenarios.js';
import { AppError } from '../../../shared/error-codes.js';
import { ErrorResponses } from '../../contract/envelope.js';

/**
 * In sandbox mode, the emulator's phone inbox and its failure scenarios through the service's own
 * authenticated API (the emulator itself listens on a private loopback port).
 */
export const sandboxRoutes: FastifyPluginAsyncTypebox<{ state: SandboxState }> = async (app, { state }) => {
  const common = { tags: ['sandbox'], security: [{ apiKey: [] }] };

  app.get('/api/sandbox/inbox', { schema: { ...common, summary: 'Numbers that received messages' } }, () => ({
    success: true,
    data: state.inboxSummary(),
  }));

  app.get(
    '/api/sandbox/inbox/:waId',
    {
      schema: {
        ...common,
        summary: "One number's messages, oldest first",
        params: Type.Object({ waId: Type.String({ pattern: '^\\+?[0-9]{8,15}$' }) }),
        response: { ...ErrorResponses },
      },
    },
    (request) => ({ success: true, data: state.messagesFor(request.params.waId.replace(/\D/g, '')) }),
  );

  app.get(
    '/api/sandbox/inbox/:waId/conversation',
    {
      schema: {
        ...common,
        summary: "One number's conversation as the phone shows it: our messages and its replies, in order",
        params: Type.Object({ waId: Type.String({ pattern: '^\\+?[0-9]{8,15}$' }) }),
        response: { ...ErrorResponses },
      },
    },
    (request) => ({
      success: true,
      // Each business message with the buttons the phone shows (the web app's sandbox phone taps them).
      data: state
        .conversation(request.params.waId.replace(/\D/g, ''))
        .map((item) => (item.direction === 'outbound' ? { ...item, buttons: state.buttonsOf(item) } : item)),
    }),
  );

  app.post(
    '/api/sandbox/inbox/:waId/reply',
    {
      schema: {
        ...common,
        summary:
          'Be the phone: reply with text or tap a button; it reaches this service as Meta would send it',
        description:
          'Body: `{text}` or `{buttonId}` or `{button: {index?, title?}}`, optionally `wamid` (the message answered) and `name`.',
        params: Type.Object({ waId: Type.String({ pattern: '^\\+?[0-9]{8,15}$' }) }),
        body: Type.Object({}, { additionalProperties: true }),
        response: { ...ErrorResponses },
      },
    },
    async (request, reply) => {
      try {
        const result = await state.reply(request.params.waId.replace(/\D/g, ''), request.body);
        return await reply.code(201).send({ success: true, data: result });
      } catch (error) {
        if (error instanceof ReplyError) {
          throw new AppError(error.httpStatus === 404 ? 'not_found' : 'validation_error', error.message, {
            reason: error.code,
          });
        }
        throw error;
      }
    },
  );

  app.get('/api/sandbox/scenarios', { schema: { ...common, summary: 'Active failure scenarios' } }, () => ({
    success: true,
    data: state.scenarios(),
  }));

  app.post(
    '/api/sandbox/scenarios',
    {
      schema: {
        ...common,
        summary: 'Make the emulator fail on purpose',
        description:
          'Body: `{fault, to?, next?, probability?, delayMs?}`; faults: server_error, service_unavailable, html_502, throughput, pair_rate, reengagement, reengagement_async, not_allowed, token_expired, undeliverable, undeliverable_async, slow, hang.',
        body: Type.Object({}, { additionalProperties: true }),
        response: { ...ErrorResponses },
      },
    },
    async (request, reply) => {
      const parsed = parseScenarioInput(request.body);
      if (!parsed.ok) {
        const field = parsed.message.split(' ')[0] ?? 'body';
        throw new AppError('validation_error', parsed.message, { field });
      }
      return reply.code(201).send({ success: true, data: state.addScenario(parsed.input) });
    },
  );

  app.delete('/api/sandbox/scenarios', { schema: { ...common, summary: 'Remove every scenario' } }, () => ({
    success: true,
    data: { removed: state.clearScenarios() },
  }));
};
