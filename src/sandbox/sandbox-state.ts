import type {
  OutboundMessageType,
  WireInboundMessage,
  WireSendMessageRequest,
} from '../whatsapp/wire-types.js';
import type { EventLoopLagMonitor, EventLoopLagSnapshot } from './event-loop-lag.js';
import { HeldRequests } from './held-requests.js';
import { Inbox, type InboxItem, type InboxMessage, type InboxReply, type RecipientSummary } from './inbox.js';
import { MediaStore } from './media-store.js';
import {
  buttonsOf,
  composeReply,
  DEFAULT_PROFILE_NAME,
  parseReplyBody,
  type QuickReplyLabels,
  type ReplyBody,
  type TappableButton,
} from './phone-replies.js';
import { parseScenarioInput, ScenarioBook, type Scenario, type ScenarioInput } from './scenarios.js';
import { StatusBatcher } from './status-batcher.js';
import { SendStats, type CallbackDataCount, type SendStatsSnapshot } from './send-stats.js';
import { planStatuses, type StatusDelays, type TemplateCategory } from './status-plan.js';
import { applyStatus, StatusReporter } from './status-reporter.js';
import { ThroughputWindow } from './throughput-window.js';
import { createWamidFactory } from './wamid.js';
import {
  parseWebhookFaultInput,
  WebhookFaultBook,
  type WebhookFault,
  type WebhookFaultInput,
} from './webhook-faults.js';
import {
  ASYNC_ERRORS,
  DEFAULT_IDENTITY,
  inboundPayload,
  unixSeconds,
  type AsyncErrorName,
  type WebhookIdentity,
} from './webhook-payloads.js';
import {
  WebhookSender,
  type WebhookCounts,
  type WebhookDelivery,
  type WebhookSenderOptions,
} from './webhook-sender.js';

export interface SandboxStateOptions {
  maxMessagesPerNumber: number;
  maxMessagesTotal: number;
  maxTrackedCallbackData: number;
  maxMediaBytes: number;
  /** Per phone number id; 0 = unlimited. */
  maxMps: number;
  clock: () => number;
  random: () => number;
  /** The reply leg: status and inbound webhooks to the service. Absent or null: no webhooks. */
  webhook?: ResolvedWebhookOptions | null;
  /** Free-form messages outside the 24-hour window fail with 131047. Default false. */
  enforceWindow?: boolean;
  /** Length of the customer service window. Default 24 h. */
  windowMs?: number;
  /** Template facts beyond existence: category (pricing) and quick-reply labels (taps). */
  templates?: TemplateFacts[];
  /** Business number a reply goes to when nothing else says which. */
  defaultPhoneNumberId?: string;
  /** The standalone sandbox's own process, for the stats (absent when it runs inside another app). */
  instrument?: SandboxInstrument | null;
}

/** How responsive the sandbox process is: whether its per-second counts can be trusted under load. */
export interface SandboxInstrument {
  eventLoop: EventLoopLagMonitor;
  /** The process's scheduling priority (nice, -20..19; lower runs first), or null when it cannot be read. */
  niceness: () => number | null;
}

/** {@link SandboxInstrument} as the stats report it. */
export interface SandboxProcessStats {
  pid: number;
  niceness: number | null;
  eventLoop: EventLoopLagSnapshot;
}

/** Webhook settings with every default applied (build-sandbox.ts checks and fills them). */
export interface ResolvedWebhookOptions extends Omit<WebhookSenderOptions, 'logSize'> {
  identity: WebhookIdentity;
  statusDelaysMs: StatusDelays;
  readReceipts: boolean;
  /** Several statuses per POST (one lane per POST in flight); null: one status per webhook. */
  statusBatch: { maxStatuses: number; maxWaitMs: number } | null;
}

export interface TemplateFacts {
  name: string;
  language: string;
  category?: TemplateCategory;
  /** Labels of the template's quick-reply buttons, in order. */
  quickReplies?: string[];
}

export const DEFAULT_WINDOW_MS = 24 * 60 * 60 * 1000;
const WEBHOOK_LOG_SIZE = 200;
const DEFAULT_IDLE_TIMEOUT_MS = 10_000;

/** What `reply()` answers. */
export interface ReplyResult {
  /** The inbound wamid. */
  wamid: string;
  /** The service answered the webhook with 2xx; false without a webhook URL or when every attempt failed. */
  delivered: boolean;
  reply: InboxReply;
  /** The webhook delivery, or null without a webhook URL. */
  delivery: WebhookDelivery | null;
}

/** A reply the sandbox cannot make; `httpStatus` and `code` are what the control API answers. */
export class ReplyError extends Error {
  constructor(
    readonly httpStatus: 400 | 404,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ReplyError';
  }
}

export interface SandboxStats extends SendStatsSnapshot {
  storedMessages: number;
  storedMedia: number;
  /** The standalone sandbox's process (its event-loop lag since the last stats reset); null in-process. */
  process: SandboxProcessStats | null;
  /** Webhook outcomes since the last stats reset; null without a webhook URL. */
  webhooks: WebhookCounts | null;
}

export interface AcceptInput {
  phoneNumberId: string;
  waId: string;
  type: OutboundMessageType;
  request: WireSendMessageRequest;
  /** A scenario's asynchronous failure: accepted, then reported `failed` by webhook. */
  asyncFailure?: AsyncErrorName;
  /** When the request arrived (ms since the epoch; default now): what the per-second counts use. */
  receivedAt?: number;
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
  readonly webhookFaults: WebhookFaultBook;
  /** Null when no webhook URL is configured. */
  readonly webhooks: WebhookSender | null;
  readonly now: () => number;
  private readonly newWamid = createWamidFactory();
  private readonly listeners = new Set<MessageListener>();
  private readonly reporter: StatusReporter | null;
  private readonly webhookOptions: ResolvedWebhookOptions | null;
  private readonly enforceWindow: boolean;
  private readonly windowMs: number;
  private readonly templates: TemplateFacts[];
  private readonly defaultPhoneNumberId: string | null;
  private readonly instrument: SandboxInstrument | null;
  /** The business number of the newest accepted message: where a first reply goes by default. */
  private lastPhoneNumberId: string | null = null;

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
    this.webhookFaults = new WebhookFaultBook(options.random);
    this.webhookOptions = options.webhook ?? null;
    this.webhooks = this.webhookOptions
      ? new WebhookSender({ ...this.webhookOptions, logSize: WEBHOOK_LOG_SIZE })
      : null;
    this.reporter =
      this.webhooks && this.webhookOptions
        ? new StatusReporter(
            this.webhooks,
            this.webhookFaults,
            this.webhookOptions.identity,
            this.webhookOptions.statusBatch
              ? new StatusBatcher(this.webhooks, this.webhookOptions.identity, {
                  ...this.webhookOptions.statusBatch,
                  lanes: this.webhookOptions.concurrency,
                })
              : null,
          )
        : null;
    this.enforceWindow = options.enforceWindow ?? false;
    this.windowMs = options.windowMs ?? DEFAULT_WINDOW_MS;
    this.templates = options.templates ?? [];
    this.defaultPhoneNumberId = options.defaultPhoneNumberId ?? null;
    this.instrument = options.instrument ?? null;
  }

  /**
   * Records a message Meta would have accepted, tells the listeners (which must not throw) and, with
   * a webhook URL, schedules its status webhooks. A free-form message outside the window (when
   * enforced) or a scenario's async failure is reported `failed` instead.
   */
  accept(input: AcceptInput): InboxMessage {
    const now = input.receivedAt ?? this.now();
    const message: InboxMessage = {
      direction: 'outbound',
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
    this.lastPhoneNumberId = message.phoneNumberId;
    for (const listener of this.listeners) listener(message);
    this.reportStatuses(message, now, input.asyncFailure);
    return message;
  }

  private reportStatuses(message: InboxMessage, now: number, asyncFailure: AsyncErrorName | undefined): void {
    // The hot path without a reply leg: nothing to plan unless the message must fail.
    if (!this.reporter && !asyncFailure && !this.enforceWindow) return;
    const template = message.request.template;
    const plan = planStatuses({
      wamid: message.wamid,
      waId: message.waId,
      type: message.type,
      callbackData: message.callbackData,
      acceptedAt: now,
      delays: this.webhookOptions?.statusDelaysMs ?? { sent: 0, delivered: 0, read: 0 },
      readReceipts: this.webhookOptions?.readReceipts ?? true,
      windowOpen: this.isWindowOpen(message.waId, message.phoneNumberId),
      enforceWindow: this.enforceWindow,
      forcedFailure: asyncFailure ? ASYNC_ERRORS[asyncFailure] : null,
      templateCategory:
        (template && this.templateFacts(template.name, template.language.code)?.category) ?? 'utility',
    });
    if (this.reporter) {
      this.reporter.report(message, plan);
      return;
    }
    const failed = plan.find((planned) => planned.status.status === 'failed');
    if (failed) applyStatus(message, failed.status);
  }

  /** Whether the person wrote to this business number (any, when omitted) within the window. */
  isWindowOpen(waId: string, phoneNumberId?: string): boolean {
    const windows = this.inbox.recipient(digitsOf(waId))?.lastInboundAt;
    if (!windows) return false;
    const now = this.now();
    const times = phoneNumberId === undefined ? [...windows.values()] : [windows.get(phoneNumberId)];
    return times.some((at) => at !== undefined && now - at < this.windowMs);
  }

  /**
   * Be the phone: the person writes a text or taps a button (see {@link ReplyBody}). The reply is
   * stored in the conversation, opens the 24-hour window, and reaches the service as Meta's inbound
   * webhook; resolves once that webhook settled. Throws {@link ReplyError} for a reply that cannot
   * be made (invalid body, unknown message or button).
   */
  async reply(waId: string, body: ReplyBody): Promise<ReplyResult> {
    const digits = digitsOf(waId);
    if (!/^\d{8,15}$/.test(digits)) {
      throw new ReplyError(400, 'invalid_reply', 'waId must be a phone number of 8-15 digits');
    }
    const parsed = parseReplyBody(body);
    if (!parsed.ok) throw new ReplyError(400, 'invalid_reply', parsed.message);
    const messages = this.inbox.messagesFor(digits);
    const composed = composeReply(parsed.body, messages, this.quickReplyLabels);
    if ('code' in composed) throw new ReplyError(composed.status, composed.code, composed.message);

    const phoneNumberId =
      parsed.body.phoneNumberId ??
      composed.target?.phoneNumberId ??
      messages.at(-1)?.phoneNumberId ??
      this.defaultPhoneNumberId ??
      this.lastPhoneNumberId;
    if (phoneNumberId === null) {
      throw new ReplyError(
        400,
        'phone_number_id_required',
        'No business number known yet: give phoneNumberId',
      );
    }
    const now = this.now();
    const wamid = this.newWamid(digits, 'inbound');
    const identity = this.webhookOptions?.identity ?? DEFAULT_IDENTITY;
    const message: WireInboundMessage = {
      ...(composed.target
        ? { context: { from: identity.displayPhoneNumber, id: composed.target.wamid } }
        : {}),
      from: digits,
      id: wamid,
      timestamp: unixSeconds(now),
      type: composed.type,
      ...composed.content,
    };
    const profileName = parsed.body.name ?? this.inbox.recipient(digits)?.profileName ?? DEFAULT_PROFILE_NAME;
    const reply: InboxReply = {
      direction: 'inbound',
      wamid,
      waId: digits,
      phoneNumberId,
      receivedAt: new Date(now).toISOString(),
      type: composed.type,
      text: composed.text,
      contextWamid: composed.target?.wamid ?? null,
      profileName,
      message,
      webhook: this.webhooks ? 'pending' : 'not_configured',
    };
    this.inbox.addReply(reply, now);
    if (!this.webhooks) return { wamid, delivered: false, reply, delivery: null };

    const delivery = await this.webhooks.send(
      inboundPayload(identity, phoneNumberId, { name: profileName, waId: digits }, message),
      { kind: 'message', waId: digits, wamids: [wamid], events: [composed.type], faults: [] },
    );
    const delivered = delivery.outcome === 'delivered';
    reply.webhook = delivered ? 'delivered' : 'failed';
    return { wamid, delivered, reply, delivery };
  }

  /** Stored messages and replies for a number, in the order they happened. */
  conversation(waId: string): InboxItem[] {
    return this.inbox.conversation(digitsOf(waId));
  }

  /** The buttons the phone shows on a business message: reply buttons, or a template's quick replies. */
  buttonsOf(message: InboxMessage): TappableButton[] {
    return buttonsOf(message, this.quickReplyLabels);
  }

  /** Adds a webhook fault; throws a TypeError describing the problem when the input is invalid. */
  addWebhookFault(input: WebhookFaultInput): WebhookFault {
    const parsed = parseWebhookFaultInput(input);
    if (!parsed.ok) throw new TypeError(`Invalid sandbox webhook fault: ${parsed.message}`);
    return this.webhookFaults.add(parsed.input, this.now());
  }

  listWebhookFaults(): WebhookFault[] {
    return this.webhookFaults.list();
  }

  removeWebhookFault(id: string): boolean {
    return this.webhookFaults.remove(id);
  }

  clearWebhookFaults(): number {
    return this.webhookFaults.clear();
  }

  /** The last webhook deliveries (at most 200), oldest first; empty without a webhook URL. */
  webhookDeliveries(): WebhookDelivery[] {
    return this.webhooks?.deliveries() ?? [];
  }

  /**
   * Resolves once no status webhook is scheduled and no webhook is queued, in flight or waiting for
   * a retry (at once without a webhook URL); rejects after `timeoutMs`.
   */
  webhooksIdle(timeoutMs = DEFAULT_IDLE_TIMEOUT_MS): Promise<void> {
    return this.webhooks?.idle(timeoutMs) ?? Promise.resolve();
  }

  /** Cancels pending webhooks and refuses new ones; closing the sandbox app calls it. */
  closeWebhooks(): void {
    this.webhooks?.close();
  }

  private readonly quickReplyLabels: QuickReplyLabels = ({ name, language }) =>
    this.templateFacts(name, language)?.quickReplies;

  private templateFacts(name: string, language: string): TemplateFacts | undefined {
    return (
      this.templates.find((template) => template.name === name && template.language === language) ??
      this.templates.find((template) => template.name === name)
    );
  }

  /** Stored messages for a number (digits; `+` and punctuation ignored), oldest first. */
  messagesFor(waId: string): InboxMessage[] {
    return [...this.inbox.messagesFor(digitsOf(waId))];
  }

  inboxSummary(): RecipientSummary[] {
    return this.inbox.summaries();
  }

  /** Forgets messages, replies and the 24-hour windows; answers how many messages were stored. */
  clearInbox(): number {
    return this.inbox.clear();
  }

  stats(): SandboxStats {
    const now = this.now();
    const instrument = this.instrument;
    return {
      ...this.sendStats.snapshot(now),
      storedMessages: this.inbox.size,
      storedMedia: this.media.count,
      process: instrument
        ? { pid: process.pid, niceness: instrument.niceness(), eventLoop: instrument.eventLoop.snapshot(now) }
        : null,
      webhooks: this.webhooks?.counts() ?? null,
    };
  }

  /** Zeroes the send counters and the event-loop lag (`DELETE /sandbox/stats`). */
  resetStats(): void {
    this.sendStats.reset();
    this.instrument?.eventLoop.reset();
    this.webhooks?.resetCounts();
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

  /**
   * Back to a fresh sandbox: inbox (replies and 24-hour windows too), counters, scenarios, media,
   * throughput windows, webhook faults and the webhook log; pending webhooks are cancelled.
   */
  reset(): void {
    this.webhooks?.cancelAll();
    this.webhooks?.clearLog();
    this.webhookFaults.clear();
    this.inbox.clear();
    this.resetStats();
    this.scenarioBook.clear();
    this.media.clear();
    this.throughput.reset();
  }
}

function digitsOf(value: string): string {
  return value.replace(/\D/g, '');
}
