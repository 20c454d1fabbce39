import type { OutboundMessageType, WireSendMessageRequest } from '../whatsapp/wire-types.js';
import { RingBuffer } from './ring-buffer.js';

/** One accepted message as the recipient's phone sees it. */
export interface InboxMessage {
  wamid: string;
  waId: string;
  phoneNumberId: string;
  /** ISO time the sandbox accepted it. */
  receivedAt: string;
  type: OutboundMessageType;
  callbackData: string | null;
  /** The request body exactly as the client sent it. */
  request: WireSendMessageRequest;
}

/**
 * Everything the sandbox knows about one recipient. Later features (24-hour window, simulated
 * replies, delivery statuses) add their per-recipient fields here.
 */
export interface RecipientRecord {
  waId: string;
  /** Oldest first, at most `maxPerNumber`. */
  messages: InboxMessage[];
  /** Every message accepted for this number, including those no longer stored. */
  accepted: number;
  lastReceivedAt: string | null;
}

export interface RecipientSummary {
  waId: string;
  stored: number;
  accepted: number;
  lastReceivedAt: string | null;
}

export interface InboxLimits {
  maxPerNumber: number;
  maxTotal: number;
}

/**
 * Messages per recipient with two bounds: the newest `maxPerNumber` per number and the newest
 * `maxTotal` overall (a message leaves once `maxTotal` newer ones arrived), both evicted in O(1).
 */
export class Inbox {
  private readonly recipients = new Map<string, RecipientRecord>();
  /** Every message in arrival order, including ones the per-number cap already dropped. */
  private readonly arrivals: RingBuffer<InboxMessage>;
  private storedCount = 0;

  constructor(private readonly limits: InboxLimits) {
    this.arrivals = new RingBuffer(limits.maxTotal);
  }

  add(message: InboxMessage): void {
    const recipient = this.recipientFor(message.waId);
    recipient.messages.push(message);
    recipient.accepted += 1;
    recipient.lastReceivedAt = message.receivedAt;
    this.storedCount += 1;
    if (recipient.messages.length > this.limits.maxPerNumber) {
      recipient.messages.shift();
      this.storedCount -= 1;
    }
    const dropped = this.arrivals.push(message);
    if (dropped) this.evict(dropped);
  }

  messagesFor(waId: string): readonly InboxMessage[] {
    return this.recipients.get(waId)?.messages ?? [];
  }

  recipient(waId: string): RecipientRecord | undefined {
    return this.recipients.get(waId);
  }

  summaries(): RecipientSummary[] {
    return [...this.recipients.values()].map((recipient) => ({
      waId: recipient.waId,
      stored: recipient.messages.length,
      accepted: recipient.accepted,
      lastReceivedAt: recipient.lastReceivedAt,
    }));
  }

  *allMessages(): Iterable<InboxMessage> {
    for (const recipient of this.recipients.values()) yield* recipient.messages;
  }

  get size(): number {
    return this.storedCount;
  }

  clear(): number {
    const removed = this.storedCount;
    this.recipients.clear();
    this.arrivals.clear();
    this.storedCount = 0;
    return removed;
  }

  private recipientFor(waId: string): RecipientRecord {
    let recipient = this.recipients.get(waId);
    if (!recipient) {
      recipient = { waId, messages: [], accepted: 0, lastReceivedAt: null };
      this.recipients.set(waId, recipient);
    }
    return recipient;
  }

  /** The globally oldest entry is its number's oldest too, unless the per-number cap already dropped it. */
  private evict(message: InboxMessage): void {
    const recipient = this.recipients.get(message.waId);
    if (!recipient || recipient.messages[0] !== message) return;
    recipient.messages.shift();
    this.storedCount -= 1;
    // A number with nothing left stored would otherwise keep memory for every recipient ever seen.
    if (recipient.messages.length === 0) this.recipients.delete(message.waId);
  }
}
