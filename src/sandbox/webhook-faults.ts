import type { WireStatusName } from '../whatsapp/wire-types.js';

/**
 * What can go wrong with status webhooks, as it does with Meta (shared/whatsapp-cloud-api.md §6.3):
 * - `drop`: a status webhook is never sent (Meta gave up, or `delivered` simply never comes);
 * - `duplicate`: a status webhook is sent twice (at-least-once delivery);
 * - `reorder`: a message's status webhooks leave in reverse order (`read` before `delivered` before `sent`);
 * - `batch`: a message's statuses leave together in one POST (`statuses` with several items).
 * `drop` and `duplicate` count status webhooks; `reorder` and `batch` count messages.
 */
export const WEBHOOK_FAULT_MODES = ['drop', 'duplicate', 'reorder', 'batch'] as const;

export type WebhookFaultMode = (typeof WEBHOOK_FAULT_MODES)[number];

const STATUS_NAMES: readonly WireStatusName[] = ['sent', 'delivered', 'read', 'failed'];

export interface WebhookFaultInput {
  mode: WebhookFaultMode;
  /** Apply to this many matching webhooks (drop, duplicate) or messages (reorder, batch). Without it, until deleted. */
  next?: number;
  /** Chance (0–1) that a match is hit; a miss does not consume `next`. Default 1. */
  probability?: number;
  /** Only webhooks about messages to this number (digits). */
  to?: string;
  /** `drop` and `duplicate` only: only webhooks carrying this status. */
  status?: WireStatusName;
}

export interface WebhookFault {
  id: string;
  mode: WebhookFaultMode;
  to: string | null;
  status: WireStatusName | null;
  /** Uses left; null = until deleted. */
  remaining: number | null;
  probability: number;
  applied: number;
  createdAt: string;
}

export type WebhookFaultParse = { ok: true; input: WebhookFaultInput } | { ok: false; message: string };

/** Checks a webhook fault coming from JSON (the control API) or from a test. */
export function parseWebhookFaultInput(raw: unknown): WebhookFaultParse {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { ok: false, message: 'body must be a JSON object' };
  }
  const { mode, next, probability, to, status } = raw as Record<string, unknown>;
  if (typeof mode !== 'string' || !(WEBHOOK_FAULT_MODES as readonly string[]).includes(mode)) {
    return { ok: false, message: `mode must be one of ${WEBHOOK_FAULT_MODES.join(', ')}` };
  }
  const input: WebhookFaultInput = { mode: mode as WebhookFaultMode };
  if (next !== undefined) {
    if (!Number.isInteger(next) || (next as number) < 1)
      return { ok: false, message: 'next must be an integer >= 1' };
    input.next = next as number;
  }
  if (probability !== undefined) {
    if (typeof probability !== 'number' || !(probability >= 0 && probability <= 1)) {
      return { ok: false, message: 'probability must be a number between 0 and 1' };
    }
    input.probability = probability;
  }
  if (to !== undefined) {
    const digits = typeof to === 'string' ? to.replace(/\D/g, '') : '';
    if (!/^\d{8,15}$/.test(digits)) return { ok: false, message: 'to must be a phone number of 8-15 digits' };
    input.to = digits;
  }
  if (status !== undefined) {
    if (input.mode !== 'drop' && input.mode !== 'duplicate') {
      return { ok: false, message: 'status applies only to drop and duplicate' };
    }
    if (typeof status !== 'string' || !(STATUS_NAMES as readonly string[]).includes(status)) {
      return { ok: false, message: `status must be one of ${STATUS_NAMES.join(', ')}` };
    }
    input.status = status as WireStatusName;
  }
  return { ok: true, input };
}

/** What happens to one status webhook about to leave. */
export type WebhookFate = 'send' | 'drop' | 'duplicate';

/** What happens to the status webhooks of one accepted message. */
export interface MessageFaults {
  reorder: boolean;
  batch: boolean;
}

/** The active webhook faults; for each decision the first firing fault of the mode, in creation order, is used. */
export class WebhookFaultBook {
  private faults: WebhookFault[] = [];
  private lastId = 0;

  constructor(private readonly random: () => number) {}

  add(input: WebhookFaultInput, now: number): WebhookFault {
    this.lastId += 1;
    const fault: WebhookFault = {
      id: `wf_${this.lastId}`,
      mode: input.mode,
      to: input.to ?? null,
      status: input.status ?? null,
      remaining: input.next ?? null,
      probability: input.probability ?? 1,
      applied: 0,
      createdAt: new Date(now).toISOString(),
    };
    this.faults.push(fault);
    return { ...fault };
  }

  list(): WebhookFault[] {
    return this.faults.map((fault) => ({ ...fault }));
  }

  remove(id: string): boolean {
    const before = this.faults.length;
    this.faults = this.faults.filter((fault) => fault.id !== id);
    return this.faults.length < before;
  }

  clear(): number {
    const removed = this.faults.length;
    this.faults = [];
    return removed;
  }

  /** Decided once per accepted message, when its statuses are planned. */
  takeForMessage(waId: string): MessageFaults {
    if (this.faults.length === 0) return { reorder: false, batch: false };
    return {
      reorder: this.take('reorder', (fault) => matchesRecipient(fault, waId)),
      batch: this.take('batch', (fault) => matchesRecipient(fault, waId)),
    };
  }

  /** Decided for each status webhook (a batched one counts once, matching any status it carries). */
  takeForWebhook(waId: string, statuses: readonly WireStatusName[]): WebhookFate {
    if (this.faults.length === 0) return 'send';
    const matches = (fault: WebhookFault): boolean =>
      matchesRecipient(fault, waId) && (fault.status === null || statuses.includes(fault.status));
    if (this.take('drop', matches)) return 'drop';
    if (this.take('duplicate', matches)) return 'duplicate';
    return 'send';
  }

  private take(mode: WebhookFaultMode, matches: (fault: WebhookFault) => boolean): boolean {
    const hit = this.faults.find(
      (fault) =>
        fault.mode === mode &&
        matches(fault) &&
        (fault.probability >= 1 || this.random() < fault.probability),
    );
    if (!hit) return false;
    hit.applied += 1;
    if (hit.remaining !== null) {
      hit.remaining -= 1;
      if (hit.remaining === 0) this.remove(hit.id);
    }
    return true;
  }
}

function matchesRecipient(fault: WebhookFault, waId: string): boolean {
  return fault.to === null || fault.to === waId;
}
