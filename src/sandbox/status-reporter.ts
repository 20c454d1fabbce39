import type { WireStatus, WireStatusName } from '../whatsapp/wire-types.js';
import type { InboxMessage } from './inbox.js';
import type { StatusBatcher } from './status-batcher.js';
import type { PlannedStatus } from './status-plan.js';
import { statusPayload, type WebhookIdentity } from './webhook-payloads.js';
import type { WebhookFaultBook, WebhookFaultMode } from './webhook-faults.js';
import type { WebhookSender } from './webhook-sender.js';

const STATUS_RANK: Record<WireStatusName, number> = { sent: 1, delivered: 2, read: 3, failed: 4 };

/**
 * Turns a message's planned statuses into webhooks at their times, shaped by the webhook faults,
 * and keeps the inbox copy of the message at its most advanced status. Never blocks: everything
 * runs on the sender's timers.
 */
export class StatusReporter {
  constructor(
    private readonly sender: WebhookSender,
    private readonly faults: WebhookFaultBook,
    private readonly identity: WebhookIdentity,
    /** When given, statuses go out batched (several per POST) instead of one per webhook. */
    private readonly batcher: StatusBatcher | null = null,
  ) {}

  report(message: InboxMessage, plan: readonly PlannedStatus[]): void {
    if (plan.length === 0) return;
    const { reorder, batch } = this.faults.takeForMessage(message.waId);
    const applied: WebhookFaultMode[] = [
      ...(reorder ? ['reorder' as const] : []),
      ...(batch ? ['batch' as const] : []),
    ];
    const inOrder = reorder ? [...plan].reverse() : [...plan];

    if (batch) {
      const lastMs = Math.max(...plan.map((planned) => planned.afterMs));
      this.sender.schedule(lastMs, () => {
        for (const planned of plan) applyStatus(message, planned.status);
        this.emit(
          message,
          inOrder.map((planned) => planned.status),
          applied,
        );
      });
      return;
    }
    // Reordered statuses keep the planned departure times, in reverse status order.
    const departures = reorder
      ? plan.map((planned) => planned.afterMs).sort((a, b) => a - b)
      : plan.map((planned) => planned.afterMs);
    inOrder.forEach((planned, index) => {
      this.sender.schedule(departures[index] ?? planned.afterMs, () => {
        applyStatus(message, planned.status);
        this.emit(message, [planned.status], applied);
      });
    });
  }

  private emit(message: InboxMessage, statuses: WireStatus[], faults: WebhookFaultMode[]): void {
    const names = statuses.map((status) => status.status);
    const payload = statusPayload(this.identity, message.phoneNumberId, statuses);
    const info = {
      kind: 'status' as const,
      waId: message.waId,
      wamids: [message.wamid],
      events: names,
      faults,
    };
    const fate = this.faults.takeForWebhook(message.waId, names);
    if (fate === 'drop') {
      this.sender.recordDropped(payload, { ...info, faults: [...faults, 'drop'] });
      return;
    }
    if (this.batcher) {
      this.batcher.add(message, statuses, faults);
      if (fate === 'duplicate') this.batcher.add(message, statuses, [...faults, 'duplicate']);
      return;
    }
    void this.sender.send(payload, info);
    if (fate === 'duplicate') void this.sender.send(payload, { ...info, faults: [...faults, 'duplicate'] });
  }
}

/** Moves the inbox copy forward (never back: a reordered `delivered` after `read` changes nothing). */
export function applyStatus(message: InboxMessage, status: WireStatus): void {
  if (message.status !== undefined && STATUS_RANK[message.status] >= STATUS_RANK[status.status]) return;
  message.status = status.status;
  if (status.errors) message.errors = status.errors;
}
