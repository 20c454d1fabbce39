import { createHmac } from 'node:crypto';
import { request } from 'undici';
import { toMetaJson } from './meta-json.js';
import { RingBuffer } from './ring-buffer.js';
import type { WebhookFaultMode } from './webhook-faults.js';

export interface WebhookSenderOptions {
  /** A function when the receiver's address is known only later (the service's own port, chosen at listen). */
  url: string | (() => string);
  appSecret: string;
  /** Tries per webhook, the first included (>= 1). */
  attempts: number;
  /** Wait before the 2nd try; doubles for each later one (capped at {@link MAX_BACKOFF_MS}). */
  backoffMs: number;
  /** POSTs in flight at once (never two with the same order key, so a conversation stays in order). */
  concurrency: number;
  /** Webhooks queued, in flight or waiting for a retry; beyond it new ones are discarded as `overflow`. */
  maxQueue: number;
  /** Per attempt; the receiver taking longer counts as a failed attempt. */
  timeoutMs: number;
  /** Deliveries remembered for `GET /sandbox/webhooks`. */
  logSize: number;
}

export type DeliveryOutcome =
  | 'pending'
  | 'retrying'
  | 'delivered'
  | 'failed'
  | 'dropped'
  | 'overflow'
  | 'cancelled';

/** One webhook POST (with its retries), as `GET /sandbox/webhooks` lists it. */
export interface WebhookDelivery {
  id: number;
  kind: 'status' | 'message';
  /** The recipient (the person) the webhook is about; a batch of statuses lists its recipients, comma-separated. */
  waId: string;
  /** The wamids it carries: outbound ones for statuses, the inbound one for a message. */
  wamids: string[];
  /** The statuses it carries in order, or the inbound message type. */
  events: string[];
  /** The webhook faults that shaped it (`drop`, `duplicate`, `reorder`, `batch`). */
  faults: WebhookFaultMode[];
  outcome: DeliveryOutcome;
  attempts: number;
  /** HTTP status of the last answer; null before one or after a network error or timeout. */
  httpStatus: number | null;
  /** Why the last attempt failed, or null. */
  error: string | null;
  /** The start of the receiver's last answer (at most 500 characters). */
  responseBody: string | null;
  createdAt: string;
  lastAttemptAt: string | null;
  /** The exact bytes sent (or that would have been), the ones the signatures cover. */
  body: string;
}

export interface DeliveryInfo {
  kind: WebhookDelivery['kind'];
  waId: string;
  wamids: string[];
  events: string[];
  faults: WebhookFaultMode[];
  /** Webhooks with the same key are never in flight together, so they arrive in order (default: `waId`). */
  orderKey?: string;
}

/** What happened to the webhooks since the last reset (`GET /sandbox/stats`). */
export interface WebhookCounts {
  /** Webhooks by final outcome; those not settled yet are `pending`. */
  outcomes: Record<Exclude<DeliveryOutcome, 'retrying'>, number>;
  /** POSTs made (retries included). */
  posts: number;
  /** Events (statuses, inbound messages) in delivered webhooks. */
  eventsDelivered: number;
}

export const MAX_BACKOFF_MS = 60_000;
const RESPONSE_PREVIEW_CHARS = 500;

interface Job {
  record: WebhookDelivery;
  orderKey: string;
  headers: Record<string, string>;
  resolve: (record: WebhookDelivery) => void;
  controller: AbortController | null;
  settled: boolean;
}

/**
 * Delivers webhooks to one URL like Meta does: compact JSON with Meta's escaping, signed over the
 * exact bytes (`X-Hub-Signature-256`, legacy `X-Hub-Signature`), retried with exponential backoff on
 * non-2xx answers, network errors and timeouts. Never blocks its callers: work is queued (bounded)
 * and tracked, so tests can wait until everything settled and closing cancels whatever is left.
 */
export class WebhookSender {
  private readonly queue: Job[] = [];
  /** Every job not yet settled: queued, in flight or waiting for a retry. */
  private readonly jobs = new Set<Job>();
  /** Order keys (recipients, or a batcher's lanes) with a POST in flight. */
  private readonly busyKeys = new Set<string>();
  private inFlight = 0;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly idleWaiters = new Set<() => void>();
  private readonly log: RingBuffer<WebhookDelivery>;
  private lastId = 0;
  private closed = false;
  private counted = newCounts();

  constructor(private readonly options: WebhookSenderOptions) {
    this.log = new RingBuffer(options.logSize);
  }

  get url(): string {
    return typeof this.options.url === 'function' ? this.options.url() : this.options.url;
  }

  /** Outcomes, POSTs and delivered events since the last {@link resetCounts}. */
  counts(): WebhookCounts {
    return {
      outcomes: { ...this.counted.outcomes, pending: this.jobs.size },
      posts: this.counted.posts,
      eventsDelivered: this.counted.eventsDelivered,
    };
  }

  resetCounts(): void {
    this.counted = newCounts();
  }

  /** Timers scheduled plus webhooks not yet settled. */
  get pending(): number {
    return this.timers.size + this.jobs.size;
  }

  /** Runs `task` after `delayMs` unless the sender is cancelled or closed first; counts as pending work. */
  schedule(delayMs: number, task: () => void): void {
    if (this.closed) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      try {
        task();
      } finally {
        this.notifyIfIdle();
      }
    }, delayMs);
    this.timers.add(timer);
  }

  /** Queues a webhook; resolves (never rejects) with its delivery once it settled. */
  send(payload: unknown, info: DeliveryInfo): Promise<WebhookDelivery> {
    const record = this.newRecord(payload, info);
    if (this.closed || this.jobs.size >= this.options.maxQueue) {
      record.outcome = this.closed ? 'cancelled' : 'overflow';
      record.error = this.closed ? 'sandbox closed' : `more than ${this.options.maxQueue} webhooks pending`;
      this.counted.outcomes[record.outcome] += 1;
      return Promise.resolve({ ...record });
    }
    return new Promise((resolve) => {
      const job: Job = {
        record,
        orderKey: info.orderKey ?? info.waId,
        headers: this.headersFor(record.body),
        resolve,
        controller: null,
        settled: false,
      };
      this.jobs.add(job);
      this.queue.push(job);
      this.pump();
    });
  }

  /** Logs a webhook a fault swallowed, so the delivery log shows what the receiver never got. */
  recordDropped(payload: unknown, info: DeliveryInfo): WebhookDelivery {
    const record = this.newRecord(payload, info);
    record.outcome = 'dropped';
    this.counted.outcomes.dropped += 1;
    return { ...record };
  }

  /** The last deliveries, oldest first. */
  deliveries(): WebhookDelivery[] {
    return this.log.toArray().map(copyRecord);
  }

  clearLog(): number {
    const cleared = this.log.size;
    this.log.clear();
    return cleared;
  }

  /** Resolves once nothing is scheduled, queued, in flight or waiting for a retry. */
  idle(timeoutMs: number): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        this.idleWaiters.delete(done);
        resolve();
      };
      const timer = setTimeout(() => {
        this.idleWaiters.delete(done);
        reject(new Error(`sandbox webhooks still busy after ${timeoutMs} ms (${this.pending} pending)`));
      }, timeoutMs);
      this.idleWaiters.add(done);
    });
  }

  /** Forgets every scheduled and pending webhook (aborting POSTs in flight); the sender stays usable. */
  cancelAll(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.queue.length = 0;
    for (const job of [...this.jobs]) {
      job.controller?.abort(new Error('sandbox webhooks cancelled'));
      this.settle(job, 'cancelled', 'cancelled by the sandbox (reset or close)');
    }
    this.notifyIfIdle();
  }

  /** Cancels everything and refuses new work; closing the sandbox calls it. */
  close(): void {
    this.closed = true;
    this.cancelAll();
  }

  private newRecord(payload: unknown, info: DeliveryInfo): WebhookDelivery {
    this.lastId += 1;
    const record: WebhookDelivery = {
      id: this.lastId,
      kind: info.kind,
      waId: info.waId,
      wamids: info.wamids,
      events: info.events,
      faults: info.faults,
      outcome: 'pending',
      attempts: 0,
      httpStatus: null,
      error: null,
      responseBody: null,
      createdAt: new Date().toISOString(),
      lastAttemptAt: null,
      body: toMetaJson(payload),
    };
    this.log.push(record);
    return record;
  }

  private headersFor(body: string): Record<string, string> {
    const { appSecret } = this.options;
    return {
      'content-type': 'application/json',
      'user-agent': 'facebookexternalua',
      'x-hub-signature-256': `sha256=${createHmac('sha256', appSecret).update(body).digest('hex')}`,
      'x-hub-signature': `sha1=${createHmac('sha1', appSecret).update(body).digest('hex')}`,
    };
  }

  private pump(): void {
    while (this.inFlight < this.options.concurrency) {
      const index = this.queue.findIndex((job) => !this.busyKeys.has(job.orderKey));
      if (index < 0) return;
      const [job] = this.queue.splice(index, 1);
      if (job) void this.attempt(job);
    }
  }

  private async attempt(job: Job): Promise<void> {
    const { record } = job;
    this.inFlight += 1;
    this.busyKeys.add(job.orderKey);
    record.attempts += 1;
    this.counted.posts += 1;
    record.lastAttemptAt = new Date().toISOString();
    const controller = new AbortController();
    job.controller = controller;
    const timeout = setTimeout(
      () => controller.abort(new Error(`no answer within ${this.options.timeoutMs} ms`)),
      this.options.timeoutMs,
    );
    let isDelivered = false;
    let error: string | null = null;
    try {
      // undici's request, not fetch: a fraction of the CPU per POST (no WHATWG streams, no body
      // clone), which matters because the sandbox counts sends on the same event loop. No redirects.
      const response = await request(this.url, {
        method: 'POST',
        headers: job.headers,
        body: record.body,
        signal: controller.signal,
      });
      const text = await response.body.text();
      record.httpStatus = response.statusCode;
      record.responseBody = text.slice(0, RESPONSE_PREVIEW_CHARS);
      isDelivered = response.statusCode >= 200 && response.statusCode < 300;
      if (!isDelivered) error = `HTTP ${response.statusCode}`;
    } catch (cause) {
      record.httpStatus = null;
      record.responseBody = null;
      error = describeFailure(cause, controller.signal);
    } finally {
      clearTimeout(timeout);
      job.controller = null;
      this.inFlight -= 1;
      this.busyKeys.delete(job.orderKey);
    }
    if (!job.settled) {
      if (isDelivered) this.settle(job, 'delivered', null);
      else if (record.attempts >= this.options.attempts) this.settle(job, 'failed', error);
      else this.retryLater(job, error);
    }
    this.pump();
    this.notifyIfIdle();
  }

  private retryLater(job: Job, error: string | null): void {
    job.record.outcome = 'retrying';
    job.record.error = error;
    const delay = Math.min(this.options.backoffMs * 2 ** (job.record.attempts - 1), MAX_BACKOFF_MS);
    this.schedule(delay, () => {
      if (job.settled) return;
      this.queue.push(job);
      this.pump();
    });
  }

  private settle(job: Job, outcome: DeliveryOutcome, error: string | null): void {
    if (job.settled) return;
    job.settled = true;
    job.record.outcome = outcome;
    job.record.error = error;
    if (outcome !== 'pending' && outcome !== 'retrying') this.counted.outcomes[outcome] += 1;
    if (outcome === 'delivered') this.counted.eventsDelivered += job.record.events.length;
    this.jobs.delete(job);
    job.resolve(copyRecord(job.record));
  }

  private notifyIfIdle(): void {
    if (this.pending > 0) return;
    for (const done of [...this.idleWaiters]) done();
  }
}

function newCounts(): { outcomes: WebhookCounts['outcomes']; posts: number; eventsDelivered: number } {
  return {
    outcomes: { pending: 0, delivered: 0, failed: 0, dropped: 0, overflow: 0, cancelled: 0 },
    posts: 0,
    eventsDelivered: 0,
  };
}

function copyRecord(record: WebhookDelivery): WebhookDelivery {
  return { ...record, wamids: [...record.wamids], events: [...record.events], faults: [...record.faults] };
}

function describeFailure(cause: unknown, signal: AbortSignal): string {
  if (signal.aborted) {
    const reason: unknown = signal.reason;
    return reason instanceof Error ? reason.message : 'aborted';
  }
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code ?? (cause.cause as { code?: unknown } | undefined)?.code;
    return typeof code === 'string' && !cause.message.includes(code)
      ? `${cause.message} (${code})`
      : cause.message;
  }
  return String(cause);
}
