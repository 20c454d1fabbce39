import type {
  OutboundMessageType,
  WireInboundMessage,
  WireSendMessageRequest,
  WireStatusName,
  WireWebhookError,
} from '../whatsapp/wire-types.js';
import { RingBuffer } from './ring-buffer.js';

/** One accepted message as the recipient's phone sees it. */
export interface InboxMessage {
  direction: 'outbound';
  wamid: string;
  waId: string;
  phoneNumberId: string;
  /** ISO time the sandbox accepted it. */
  receivedAt: string;
  type: OutboundMessageType;
  callbackData: string | null;
  /** The request body exactly as the client sent it. */
  request: WireSendMessageRequest;
  /**
   * The most advanced status the sandbox has reported for it (never goes back, even when webhooks
   * are reordered). Absent until the first one; without a webhook URL only `failed` is ever set.
   */
  status?: WireStatusName;
  /** With `status: 'failed'`: the errors of the failed status webhook. */
  errors?: WireWebhookError[];
}

/**
 * One message the recipient wrote back (`POST /sandbox/inbox/:waId/reply`), as the service receives
 * it in Meta's inbound webhook.
 */
export interface InboxReply {
  direction: 'inbound';
  /** The inbound wamid, also `message.id`. */
  wamid: string;
  waId: string;
  /** The business number written to; its webhook metadata carries this id. */
  phoneNumberId: string;
  /** ISO time of the reply. */
  receivedAt: string;
  /** `text`, `interactive` (reply-button tap) or `button` (template quick-reply tap). */
  type: 'text' | 'interactive' | 'button';
  /** What the person wrote, or the title of the button they tapped. */
  text: string;
  /** The business message answered or tapped (`context.id`), or null. */
  contextWamid: string | null;
  profileName: string;
  /** The `messages[]` element exactly as the webhook carries it. */
  message: WireInboundMessage;
  /** What became of its webhook; `not_configured` when the sandbox has no webhook URL. */
  webhook: 'not_configured' | 'pending' | 'delivered' | 'failed';
}

/** A conversation item: something the business sent, or something the person wrote back. */
export type InboxItem = InboxMessage | InboxReply;

/** Everything the sandbox knows about one recipient. */
export interface RecipientRecord {
  waId: string;
  /** Outbound messages, oldest first, at most `maxPerNumber`. */
  messages: InboxMessage[];
  /** Every message accepted for this number, including those no longer stored. */
  accepted: number;
  lastReceivedAt: string | null;
  /** What the person wrote back, oldest first, at most `maxPerNumber`. */
  replies: InboxReply[];
  /**
   * Business phone number id → ms since the epoch when this person last wrote to it: the 24-hour
   * customer service windows, one per (business number, user) pair.
   */
  lastInboundAt: Map<string, number>;
  /** The profile name the person last replied with. */
  profileName: string | null;
}

export interface RecipientSummary {
  waId: string;
  stored: number;
  accepted: number;
  lastReceivedAt: string | null;
  replies: number;
  /** ISO time the person last wrote to any business number, or null. */
  lastInboundAt: string | null;
}

export interface InboxLimits {
  maxPerNumber: number;
  maxTotal: number;
}

/**
 * Messages per recipient with two bounds: the newest `maxPerNumber` per number and the newest
 * `maxTotal` overall (a message leaves once `maxTotal` newer ones arrived), both evicted in O(1).
 * Replies are kept per number only (newest `maxPerNumber`): people and tests write them, not load
 * generators. A number someone has replied from is remembered (its window with it) until `clear()`.
 */
export class Inbox {
  private readonly recipients = new Map<string, RecipientRecord>();
  /** Every message in arrival order, including ones the per-number cap already dropped. */
  private readonly arrivals: RingBuffer<InboxMessage>;
  private storedCount = 0;
  /** Arrival order across both directions, for {@link conversation}. */
  private readonly order = new WeakMap<InboxItem, number>();
  private lastOrder = 0;

  constructor(private readonly limits: InboxLimits) {
    this.arrivals = new RingBuffer(limits.maxTotal);
  }

  add(message: InboxMessage): void {
    const recipient = this.recipientFor(message.waId);
    recipient.messages.push(message);
    recipient.accepted += 1;
    recipient.lastReceivedAt = message.receivedAt;
    this.order.set(message, ++this.lastOrder);
    this.storedCount += 1;
    if (recipient.messages.length > this.limits.maxPerNumber) {
      recipient.messages.shift();
      this.storedCount -= 1;
    }
    const dropped = this.arrivals.push(message);
    if (dropped) this.evict(dropped);
  }

  /** Stores a reply and opens (or refreshes) the window between the person and that business number. */
  addReply(reply: InboxReply, atMs: number): void {
    const recipient = this.recipientFor(reply.waId);
    recipient.replies.push(reply);
    if (recipient.replies.length > this.limits.maxPerNumber) recipient.replies.shift();
    recipient.lastInboundAt.set(reply.phoneNumberId, atMs);
    recipient.profileName = reply.profileName;
    this.order.set(reply, ++this.lastOrder);
  }

  messagesFor(waId: string): readonly InboxMessage[] {
    return this.recipients.get(waId)?.messages ?? [];
  }

  /** Stored messages and replies for a number in the order they happened. */
  conversation(waId: string): InboxItem[] {
    const recipient = this.recipients.get(waId);
    if (!recipient) return [];
    const { messages, replies } = recipient;
    const items: InboxItem[] = [];
    let m = 0;
    let r = 0;
    while (m < messages.length || r < replies.length) {
      const message = messages[m];
      const reply = replies[r];
      if (message && (!reply || this.orderOf(message) < this.orderOf(reply))) {
        items.push(message);
        m += 1;
      } else if (reply) {
        items.push(reply);
        r += 1;
      }
    }
    return items;
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
      replies: recipient.replies.length,
      lastInboundAt:
        recipient.lastInboundAt.size === 0
          ? null
          : new Date(Math.max(...recipient.lastInboundAt.values())).toISOString(),
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
      recipient = {
        waId,
        messages: [],
        accepted: 0,
        lastReceivedAt: null,
        replies: [],
        lastInboundAt: new Map(),
        profileName: null,
      };
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
    // A number with nothing left stored would otherwise keep memory for every recipient ever seen;
    // one that replied keeps its replies and windows.
    if (recipient.messages.length === 0 && recipient.lastInboundAt.size === 0) {
      this.recipients.delete(message.waId);
    }
  }

  private orderOf(item: InboxItem): number {
    return this.order.get(item) ?? 0;
  }
}
