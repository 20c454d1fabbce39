import type { WireStatus } from '../whatsapp/wire-types.js';
import type { InboxMessage } from './inbox.js';
import { statusBatchPayload, type WebhookIdentity } from './webhook-payloads.js';
import type { WebhookFaultMode } from './webhook-faults.js';
import type { WebhookSender } from './webhook-sender.js';

/** Most statuses Meta puts in one webhook POST (Graph API webhooks: "a maximum of 1000 updates"). */
export const MAX_BATCH_STATUSES = 1000;

export interface StatusBatchOptions {
  /** Statuses per POST at most (2..{@link MAX_BATCH_STATUSES}); a full batch leaves at once. */
  maxStatuses: number;
  /** How long the first status of a batch waits for others before the batch leaves anyway. */
  maxWaitMs: number;
  /**
   * Independent batches (one per webhook POST in flight). A recipient always maps to the same lane and a
   * lane has one POST in flight at a time, so each conversation's statuses stay in order.
   */
  lanes: number;
}

interface PendingStatus {
  message: InboxMessage;
  status: WireStatus;
  faults: readonly WebhookFaultMode[];
}

interface Lane {
  key: string;
  pending: PendingStatus[];
  /** A flush is scheduled for the pending statuses. */
  scheduled: boolean;
}

/**
 * Collects status webhooks into batched POSTs, as Meta does under load: far fewer requests for the
 * sandbox to make and the service to store (a load run posts ~3 statuses per message). The statuses go
 * to the sender as one webhook per batch; a lane's batches never overtake each other.
 */
export class StatusBatcher {
  private readonly lanes: Lane[];

  constructor(
    private readonly sender: WebhookSender,
    private readonly identity: WebhookIdentity,
    private readonly options: StatusBatchOptions,
  ) {
    this.lanes = Array.from({ length: Math.max(1, options.lanes) }, (_, index) => ({
      key: `status-batch-lane-${index}`,
      pending: [],
      scheduled: false,
    }));
  }

  add(message: InboxMessage, statuses: readonly WireStatus[], faults: readonly WebhookFaultMode[]): void {
    const lane = this.laneFor(message.waId);
    for (const status of statuses) lane.pending.push({ message, status, faults });
    while (lane.pending.length >= this.options.maxStatuses) this.flush(lane);
    if (lane.pending.length > 0 && !lane.scheduled) {
      lane.scheduled = true;
      // On the sender's timers, so the sender is not idle while statuses wait here.
      this.sender.schedule(this.options.maxWaitMs, () => {
        lane.scheduled = false;
        this.flush(lane);
      });
    }
  }

  private flush(lane: Lane): void {
    const batch = lane.pending.splice(0, this.options.maxStatuses);
    if (batch.length === 0) return;
    const groups = new Map<string, WireStatus[]>();
    for (const { message, status } of batch) {
      const group = groups.get(message.phoneNumberId);
      if (group) group.push(status);
      else groups.set(message.phoneNumberId, [status]);
    }
    const payload = statusBatchPayload(
      this.identity,
      [...groups].map(([phoneNumberId, statuses]) => ({ phoneNumberId, statuses })),
    );
    void this.sender.send(payload, {
      kind: 'status',
      waId: [...new Set(batch.map(({ message }) => message.waId))].join(','),
      wamids: batch.map(({ message }) => message.wamid),
      events: batch.map(({ status }) => status.status),
      faults: [...new Set(batch.flatMap(({ faults }) => faults))],
      orderKey: lane.key,
    });
  }

  private laneFor(waId: string): Lane {
    let hash = 0;
    for (let index = 0; index < waId.length; index++) hash = (hash * 31 + waId.charCodeAt(index)) >>> 0;
    const lane = this.lanes[hash % this.lanes.length];
    if (lane === undefined) throw new Error('status batcher has no lanes');
    return lane;
  }
}
