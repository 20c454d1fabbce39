import type { OutboundMessageType, WireSendMessageRequest } from '../whatsapp/wire-types.js';
import { HeldRequests } from './held-requests.js';
import { Inbox, type InboxMessage, type RecipientSummary } from './inbox.js';
import { MediaStore } from './media-store.js';
import { parseScenarioInput, ScenarioBook, type Scenario, type ScenarioInput } from './scenarios.js';
import { SendStats, type CallbackDataCount, type SendStatsSnapshot } from './send-stats.js';
import { ThroughputWindow } from './throughput-window.js';
import { createWamidFactory } from './wamid.js';

export interface SandboxStateOptions {
  maxMessagesPerNumber: number;
  maxMessagesTotal: number;
  maxTrackedCallbackData: number;
  maxMediaBytes: number;
  /** Per phone number id; 0 = unlimited. */
  maxMps: number;
  clock: () => number;
  random: () => number;
}

export interface SandboxStats extends SendStatsSnapshot {
  storedMessages: number;
  storedMedia: number;
}

export interface AcceptInput {
  phoneNumberId: string;
  waId: string;
  type: OutboundMessageType;
  request: WireSendMessageRequest;
}

export type MessageListener = (message: InboxMessage) => void;

/**
 * Everything the sandbox remembers, in memory, with the control operations tests use in-process.
 * The parts are public for the routes; tests should prefer the methods.
 */
export class SandboxState {
  readonly inbox: Inbox;
  readonly sendStats: SendStats;
  readonly scenarioBook: ScenarioBook;
  readonly media: MediaStore;
  readonly throughput: ThroughputWindow;
  readonly heldRequests = new HeldRequests();
  readonly now: () => number;
  private readonly newWamid = createWamidFactory();
  private readonly listeners = new Set<MessageListener>();

  constructor(options: SandboxStateOptions) {
    this.inbox = new Inbox({
      maxPerNumber: options.maxMessagesPerNumber,
      maxTotal: options.maxMessagesTotal,
    });
    this.sendStats = new SendStats(options.maxTrackedCallbackData);
    this.scenarioBook = new ScenarioBook(options.random);
    this.media = new MediaStore(options.maxMediaBytes);
    this.throughput = new ThroughputWindow(options.maxMps);
    this.now = options.clock;
  }

  /** Records a message Meta would have accepted and tells the listeners. Listeners must not throw. */
  accept(input: AcceptInput): InboxMessage {
    const now = this.now();
    const message: InboxMessage = {
      wamid: this.newWamid(input.waId),
      waId: input.waId,
      phoneNumberId: input.phoneNumberId,
      receivedAt: new Date(now).toISOString(),
      type: input.type,
      callbackData: input.request.biz_opaque_callback_data ?? null,
      request: input.request,
    };
    this.inbox.add(message);
    this.sendStats.recordAccepted(now, message.callbackData);
    for (const listener of this.listeners) listener(message);
    return message;
  }

  /** Stored messages for a number (digits; `+` and punctuation ignored), oldest first. */
  messagesFor(waId: string): InboxMessage[] {
    return [...this.inbox.messagesFor(digitsOf(waId))];
  }

  inboxSummary(): RecipientSummary[] {
    return this.inbox.summaries();
  }

  clearInbox(): number {
    return this.inbox.clear();
  }

  stats(): SandboxStats {
    return {
      ...this.sendStats.snapshot(this.now()),
      storedMessages: this.inbox.size,
      storedMedia: this.media.count,
    };
  }

  /** How many accepted sends carried this `biz_opaque_callback_data` (0 when unknown or forgotten). */
  acceptedByCallbackData(callbackData: string): number {
    return this.sendStats.acceptedCountFor(callbackData);
  }

  /** Callback data accepted more than once: the client sent the same message twice. */
  duplicates(limit?: number): CallbackDataCount[] {
    return this.sendStats.duplicates(limit);
  }

  /** Adds a fault; throws a TypeError describing the problem when the input is invalid. */
  addScenario(input: ScenarioInput): Scenario {
    const parsed = parseScenarioInput(input);
    if (!parsed.ok) throw new TypeError(`Invalid sandbox scenario: ${parsed.message}`);
    return this.scenarioBook.add(parsed.input, this.now());
  }

  scenarios(): Scenario[] {
    return this.scenarioBook.list();
  }

  removeScenario(id: string): boolean {
    return this.scenarioBook.remove(id);
  }

  clearScenarios(): number {
    return this.scenarioBook.clear();
  }

  /** Calls `listener` for every accepted message; returns the unsubscribe function. */
  onMessage(listener: MessageListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The first stored or future message matching `predicate`; rejects after `timeoutMs`. */
  waitForMessage(predicate: (message: InboxMessage) => boolean, timeoutMs = 5000): Promise<InboxMessage> {
    for (const message of this.inbox.allMessages()) if (predicate(message)) return Promise.resolve(message);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        unsubscribe();
        reject(new Error(`No matching sandbox message within ${timeoutMs} ms`));
      }, timeoutMs);
      const unsubscribe = this.onMessage((message) => {
        if (!predicate(message)) return;
        clearTimeout(timer);
        unsubscribe();
        resolve(message);
      });
    });
  }

  /** Back to a fresh sandbox: inbox, counters, scenarios, media and throughput windows. */
  reset(): void {
    this.inbox.clear();
    this.sendStats.reset();
    this.scenarioBook.clear();
    this.media.clear();
    this.throughput.reset();
  }
}

function digitsOf(value: string): string {
  return value.replace(/\D/g, '');
}
