import type { FastifyInstance, FastifyRequest } from 'fastify';
import { sendControlError } from './control-errors.js';
import type { SandboxState } from './sandbox-state.js';
import { parseWebhookFaultInput } from './webhook-faults.js';

const DEFAULT_IDLE_WAIT_MS = 10_000;
const MAX_IDLE_WAIT_MS = 120_000;

/**
 * Webhook debugging and faults under `/sandbox`:
 * - `GET /webhooks`: `{configured, url, pending, deliveries}`, the last 200 deliveries oldest first
 *   (outcome, attempts, HTTP status, the exact body); `DELETE /webhooks` clears that log.
 * - `GET /webhooks/idle?timeoutMs=`: answers `{idle: true}` once nothing is pending, 504 after the timeout.
 * - `GET|POST|DELETE /webhook-faults`, `DELETE /webhook-faults/:id`: `{mode, next?, probability?, to?, status?}`.
 */
export function registerWebhookRoutes(control: FastifyInstance, state: SandboxState): void {
  control.get('/webhooks', () => ({
    configured: state.webhooks !== null,
    url: state.webhooks?.url ?? null,
    pending: state.webhooks?.pending ?? 0,
    deliveries: state.webhookDeliveries(),
  }));

  control.delete('/webhooks', () => ({ cleared: state.webhooks?.clearLog() ?? 0 }));

  control.get(
    '/webhooks/idle',
    async (request: FastifyRequest<{ Querystring: { timeoutMs?: string } }>, reply) => {
      const requested = Number(request.query.timeoutMs ?? DEFAULT_IDLE_WAIT_MS);
      const timeoutMs =
        Number.isInteger(requested) && requested > 0
          ? Math.min(requested, MAX_IDLE_WAIT_MS)
          : DEFAULT_IDLE_WAIT_MS;
      try {
        await state.webhooksIdle(timeoutMs);
        return { idle: true };
      } catch (error) {
        return sendControlError(
          reply,
          504,
          'webhooks_busy',
          error instanceof Error ? error.message : String(error),
        );
      }
    },
  );

  control.get('/webhook-faults', () => ({ faults: state.listWebhookFaults() }));

  control.post('/webhook-faults', (request, reply) => {
    const parsed = parseWebhookFaultInput(request.body);
    if (!parsed.ok) return sendControlError(reply, 400, 'invalid_webhook_fault', parsed.message);
    return reply.code(201).send(state.addWebhookFault(parsed.input));
  });

  control.delete('/webhook-faults', () => ({ cleared: state.clearWebhookFaults() }));

  control.delete('/webhook-faults/:id', (request: FastifyRequest<{ Params: { id: string } }>, reply) => {
    if (!state.removeWebhookFault(request.params.id)) {
      return sendControlError(reply, 404, 'webhook_fault_not_found', `No webhook fault ${request.params.id}`);
    }
    return { deleted: request.params.id };
  });
}
