import type { OutboundMessageType, WireStatus, WireWebhookError } from '../whatsapp/wire-types.js';
import { ASYNC_ERRORS, unixSeconds } from './webhook-payloads.js';

/** When each status happens, in ms after the sandbox accepted the message. */
export interface StatusDelays {
  sent: number;
  delivered: number;
  read: number;
}

export const DEFAULT_STATUS_DELAYS: StatusDelays = { sent: 20, delivered: 60, read: 120 };

export type TemplateCategory = 'utility' | 'marketing' | 'authentication';

export interface PlannedStatus {
  /** Ms after acceptance when the event happens; without webhook faults its webhook leaves then. */
  afterMs: number;
  status: WireStatus;
}

export interface StatusPlanInput {
  wamid: string;
  waId: string;
  type: OutboundMessageType;
  callbackData: string | null;
  acceptedAt: number;
  delays: StatusDelays;
  /** False: the recipient has read receipts off, so `delivered` is the last status. */
  readReceipts: boolean;
  /** The 24-hour window between this business number and the recipient was open at acceptance. */
  windowOpen: boolean;
  /** Free-form messages outside the window fail with 131047. */
  enforceWindow: boolean;
  /** A failure a scenario asked for (`undeliverable_async`, `reengagement_async`); wins over the window. */
  forcedFailure: WireWebhookError | null;
  /** Templates only; priced as utility unless configured otherwise. */
  templateCategory: TemplateCategory;
}

/**
 * The statuses Meta would report for an accepted message (shared/whatsapp-cloud-api.md §6.5):
 * `sent` → `delivered` → `read` (no `read` without read receipts), or a single `failed` with its
 * error and no pricing. `pricing` rides on `sent` and `delivered`.
 */
export function planStatuses(input: StatusPlanInput): PlannedStatus[] {
  const failure = input.forcedFailure ?? (isOutsideWindow(input) ? ASYNC_ERRORS.reengagement : null);
  if (failure) {
    return [
      {
        afterMs: input.delays.sent,
        status: { ...statusHead(input, 'failed', input.delays.sent), errors: [copyError(failure)] },
      },
    ];
  }
  const pricing = pricingFor(input);
  const plan: PlannedStatus[] = [
    { afterMs: input.delays.sent, status: { ...statusHead(input, 'sent', input.delays.sent), pricing } },
    {
      afterMs: input.delays.delivered,
      status: { ...statusHead(input, 'delivered', input.delays.delivered), pricing: { ...pricing } },
    },
  ];
  if (input.readReceipts) {
    plan.push({ afterMs: input.delays.read, status: statusHead(input, 'read', input.delays.read) });
  }
  return plan;
}

function isOutsideWindow(input: StatusPlanInput): boolean {
  return input.enforceWindow && input.type !== 'template' && !input.windowOpen;
}

function statusHead(input: StatusPlanInput, status: WireStatus['status'], afterMs: number): WireStatus {
  return {
    id: input.wamid,
    status,
    timestamp: unixSeconds(input.acceptedAt + afterMs),
    recipient_id: input.waId,
    ...(input.callbackData === null ? {} : { biz_opaque_callback_data: input.callbackData }),
  };
}

/**
 * Per-message pricing (PMP, from July 2025): free-form messages can only go out inside the window
 * and are free service messages; utility templates inside the window are free too; every other
 * template is charged at the regular rate for its category.
 */
function pricingFor(input: StatusPlanInput): NonNullable<WireStatus['pricing']> {
  if (input.type !== 'template') {
    return { billable: false, pricing_model: 'PMP', type: 'free_customer_service', category: 'service' };
  }
  const isFree = input.windowOpen && input.templateCategory === 'utility';
  return {
    billable: !isFree,
    pricing_model: 'PMP',
    type: isFree ? 'free_customer_service' : 'regular',
    category: input.templateCategory,
  };
}

function copyError(error: WireWebhookError): WireWebhookError {
  return { ...error, ...(error.error_data ? { error_data: { ...error.error_data } } : {}) };
}
