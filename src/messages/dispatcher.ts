import type { Logger } from 'pino';
import type { Clock } from '../shared/clock.js';
import { classifyFailure, type FailureClass } from '../whatsapp/graph-error.js';
import { maskPhoneNumber } from '../whatsapp/phone-number.js';
import type {
  OutgoingMessage,
  SendFailure,
  SendRequest,
  SendResult,
  WhatsAppClient,
} from '../whatsapp/whatsapp-client.js';
import type { ConversationWindows } from './conversation-window.js';
import type { MessageError, MessageStatus } from './message.js';
import type { MessageMetrics } from './message-metrics.js';
import type { MessageNotifier } from './message-notifier.js';
import type { Completion, MessageRow, Outbox } from './outbox.js';
import { GraphCircuit } from './graph-circuit.js';
import { decideRetry, type RetryDecision } from './retry-policy.js';
import type { Grant, ThroughputLimiter } from './throughput-limiter.js';

/** Sends that miss their slot's deadline before one goes without a deadline (it must still go out). */
export const MAX_LATE_STARTS = 3;

export interface DispatcherOptions {
  owner: string;
  concurrency: number;
  leaseMs: number;
  maxAttempts: number;
  retryBaseMs: number;
  /** Upper bound on the idle wait; wake() cuts it short when a message is queued in this process. */
  pollIntervalMs: number;
  /** Rows claimed per round; the cap keeps claimed-but-unsent rows few when throughput is limited. */
  claimBatch: number;
}

export interface DispatcherDeps {
  outbox: Outbox;
  client: WhatsAppClient;
  limiter: ThroughputLimiter;
  notifier: MessageNotifier;
  logger: Logger;
  clock: Clock;
  random: () => number;
  /** Per-number 24-hour windows: a free-form message with a template fallback goes as the template when closed. */
  windows: ConversationWindows | null;
  /** Called after a send is recorded (applies statuses that overtook it). */
  onSent?: (messageId: string, wamid: string) => Promise<void>;
  /**
   * Called after a message is recorded as failed for good (what a ticket does when its offer cannot be
   * delivered: a callback from app.ts). `fallbackQueued`: its template went out instead (131047).
   */
  onFailed?: (row: MessageRow, error: MessageError, fallbackQueued: boolean) => Promise<void>;
  metrics?: MessageMetrics;
}

type DispatcherState = 'created' | 'running' | 'stopping' | 'stopped';

/**
 * Sends due outbox messages: claim (with a lease) → respect the throughput cap → send concurrently →
 * classify the outcome → record it (sent, retrying with backoff, failed). Several processes may run
 * one each against a shared PostgreSQL database.
 */
export class Dispatcher {
  private state: DispatcherState = 'created';
  private inFlight = 0;
  private wakeUp: (() => void) | null = null;
  private readonly abort = new AbortController();
  private loopDone: Promise<void> = Promise.resolve();
  private reclaimTimer: NodeJS.Timeout | null = null;
  /** Every lease this process held at its last renewal runs at least until then (epoch ms). */
  private leasesRenewedUntil = 0;
  /** Messages claimed by this process and not yet recorded (sent, retrying, failed) or handed back. */
  private readonly held = new Set<string>();
  private readonly idleWaiters = new Set<() => void>();
  /** Pauses sending while the Graph API cannot be reached (graph-circuit.ts). */
  private readonly circuit = new GraphCircuit();
  /** The message sent to test whether the Graph API is back, while the circuit probes. */
  private probeId: string | null = null;
  /** Sends that could not start within their throughput slot and took a new one (tests, diagnostics). */
  lateStarts = 0;

  constructor(
    private readonly deps: DispatcherDeps,
    private readonly options: DispatcherOptions,
  ) {}

  get status(): DispatcherState {
    return this.state;
  }

  start(): void {
    if (this.state !== 'created') throw new Error(`dispatcher cannot start from ${this.state}`);
    this.state = 'running';
    this.loopDone = this.loop();
    // Renewing our leases and reclaiming dead processes' share one timer, four times per lease.
    const leaseCheckEvery = Math.max(250, Math.floor(this.options.leaseMs / 4));
    this.reclaimTimer = setInterval(() => void this.maintainLeases(), leaseCheckEvery);
    this.reclaimTimer.unref();
    void this.maintainLeases();
  }

  /** Ends claiming, then waits up to `timeoutMs` for sends in flight; their leases cover the rest. */
  async stop(timeoutMs: number): Promise<void> {
    if (this.state !== 'running') {
      this.state = 'stopped';
      return;
    }
    this.state = 'stopping';
    if (this.reclaimTimer !== null) clearInterval(this.reclaimTimer);
    this.abort.abort();
    this.wake();
    await this.loopDone;
    const deadline = Date.now() + timeoutMs;
    while (this.inFlight > 0 && Date.now() < deadline)
      await this.waitForSlot(Math.min(50, deadline - Date.now()));
    this.state = 'stopped';
  }

  /** A message became due in this process: look now instead of at the next poll. */
  wake(): void {
    this.wakeUp?.();
  }

  private async loop(): Promise<void> {
    while (this.state === 'running') {
      const free = this.options.concurrency - this.inFlight;
      if (free <= 0) {
        await this.waitForSlot(this.options.pollIntervalMs);
        continue;
      }
      const admitted = this.circuit.admit(Math.min(free, this.options.claimBatch), this.deps.clock.now());
      if (admitted.count === 0) {
        await this.idle(Math.min(admitted.waitMs, this.options.pollIntervalMs * 20));
        continue;
      }
      let rows: MessageRow[];
      try {
        rows = await this.deps.outbox.claimDue(admitted.count, this.options.owner, this.options.leaseMs);
        for (const row of rows) this.held.add(row.id);
        if (this.circuit.state === 'probing') {
          this.probeId = rows[0]?.id ?? null;
          if (this.probeId === null) this.circuit.abandonProbe();
        }
      } catch (error) {
        if (this.circuit.state === 'probing') this.circuit.abandonProbe();
        this.deps.logger.error({ event: 'dispatcher.claim_failed', err: error }, 'could not claim messages');
        await this.idle(Math.max(this.options.pollIntervalMs, 1000));
        continue;
      }
      if (rows.length === 0) {
        await this.idle(this.options.pollIntervalMs);
        continue;
      }
      await this.sendWithinCap(rows);
    }
  }

  private async sendWithinCap(rows: MessageRow[]): Promise<void> {
    let next = 0;
    while (next < rows.length) {
      let grant: Grant;
      try {
        grant = await this.deps.limiter.acquire(rows.length - next, this.abort.signal);
      } catch (error) {
        if (this.abort.signal.aborted) return; // stopping: the leases hand these rows back
        this.logLimiterFailure(error);
        await this.idle(1000);
        continue;
      }
      // Never start a send whose claim is more than half gone. Leases are renewed while this process
      // lives (maintainLeases), so this happens only when renewals fall behind (a starved process): another
      // process could soon reclaim the rows and send them too. The rows are handed back, due at once with
      // their attempt refunded, and the granted slots go unused (the rate drops, never above the cap).
      const leaseLeftMs =
        Math.max(Number(rows[next]?.lease_expires_at ?? 0), this.leasesRenewedUntil) - this.deps.clock.now();
      if (leaseLeftMs < this.options.leaseMs / 2) {
        const left = rows.slice(next).map((row) => row.id);
        for (const id of left) this.held.delete(id);
        const released = await this.deps.outbox.releaseClaims(left, this.options.owner).catch(() => 0);
        this.deps.logger.warn(
          { event: 'dispatcher.claim_stale', count: left.length, released, leaseLeftMs },
          'claimed messages waited too long for the throughput cap; handed back',
        );
        return;
      }
      rows.slice(next, next + grant.count).forEach((row, index) => {
        this.inFlight++;
        void this.processSafely(row, grant.startBy[index] ?? null).finally(() => {
          this.held.delete(row.id);
          this.inFlight--;
          for (const resolve of this.idleWaiters) resolve();
        });
      });
      next += grant.count;
    }
  }

  /** A message that cannot be processed fails alone; it never stops the loop or the process. */
  private async processSafely(row: MessageRow, startBy: number | null): Promise<void> {
    try {
      await this.process(row, startBy);
    } catch (error) {
      this.deps.logger.error(
        { event: 'dispatcher.process_failed', messageId: row.id, err: error },
        'could not process message',
      );
    } finally {
      // A probe that ended without reaching the wire (unreadable payload, an error) must not stall sending.
      if (row.id === this.probeId) {
        this.probeId = null;
        if (this.circuit.state === 'probing') this.circuit.abandonProbe();
      }
    }
  }

  /** Feeds the circuit breaker with how a send went, and says so when sending pauses or resumes. */
  private recordReach(result: SendResult): void {
    const isUnreachable = !result.ok && neverLeft(result.failure);
    const change = this.circuit.record(isUnreachable ? 'unreachable' : 'reached', this.deps.clock.now());
    if (change === 'opened') {
      this.deps.logger.warn(
        { event: 'whatsapp.unreachable', reason: result.ok ? null : result.failure.message },
        'the Graph API cannot be reached: sending paused, probing until it answers (attempts are not used up)',
      );
    } else if (change === 'closed') {
      this.deps.logger.info({ event: 'whatsapp.reachable' }, 'the Graph API answers again: sending resumed');
    }
  }

  private async process(row: MessageRow, startBy: number | null): Promise<void> {
    const { outbox, logger, clock } = this.deps;
    const to = maskPhoneNumber(row.recipient);
    const message = parsePayload(row.payload);
    if (message === null) {
      const error: MessageError = {
        code: 'invalid_payload',
        message: 'stored message payload is unreadable',
        whatsappCode: null,
        details: null,
        fbtraceId: null,
      };
      await outbox.complete({
        id: row.id,
        owner: this.options.owner,
        outcome: 'failed',
        error,
        fallback: null,
      });
      logger.error({ event: 'whatsapp.failed', messageId: row.id, to, error }, 'message failed');
      this.deps.metrics?.onSendResult({
        outcome: 'failed',
        errorCode: error.code,
        whatsappCode: null,
        latencyMs: null,
      });
      this.deps.notifier.notify(row.id, 'failed');
      await this.reportFailure(row, error, false);
      return;
    }
    const fallback = row.fallback_payload === null ? null : parsePayload(row.fallback_payload);
    const isWindowClosed =
      fallback !== null &&
      message.kind !== 'template' &&
      this.deps.windows !== null &&
      !(await this.deps.windows.isOpen(row.recipient));
    const toSend = isWindowClosed && fallback !== null ? fallback : message;
    const startedAt = clock.now();
    const result = await this.sendInSlot(
      row,
      { to: row.recipient, message: toSend, callbackData: row.id },
      startBy,
    );
    if (result === null) return; // stopping, or the cap's schedule is unreachable: handed back unsent
    const latencyMs = clock.now() - startedAt;
    this.recordReach(result);
    let completion: Completion;
    if (result.ok) {
      const hadPairHold = row.last_error !== null && row.last_error.includes('"whatsapp_pair_rate_limited"');
      completion = {
        id: row.id,
        owner: this.options.owner,
        outcome: 'sent',
        wamid: result.wamid,
        clearRecipientHold: hadPairHold,
        sentAsTemplate: toSend !== message,
      };
    } else {
      completion = await this.failureCompletion(row, result.failure);
    }
    let isApplied: boolean;
    try {
      isApplied = await outbox.complete(completion);
    } catch (error) {
      logger.error(
        { event: 'dispatcher.record_failed', messageId: row.id, err: error },
        'could not record send outcome',
      );
      return;
    }
    if (!isApplied) {
      logger.warn(
        { event: 'dispatcher.lease_lost', messageId: row.id },
        'claim expired before the outcome was recorded',
      );
      return;
    }
    const elapsedMs = clock.now() - startedAt;
    const status: MessageStatus = completion.outcome;
    this.deps.metrics?.onSendResult({
      outcome: completion.outcome,
      errorCode: completion.outcome === 'sent' ? null : completion.error.code,
      whatsappCode: completion.outcome === 'sent' ? null : completion.error.whatsappCode,
      latencyMs,
    });
    if (completion.outcome === 'sent') {
      logger.info(
        {
          event: 'whatsapp.sent',
          messageId: row.id,
          to,
          wamid: completion.wamid,
          attempt: row.attempts,
          elapsedMs,
        },
        'message accepted by WhatsApp',
      );
    } else if (completion.outcome === 'retrying') {
      logger.warn(
        {
          event: 'whatsapp.retry_scheduled',
          messageId: row.id,
          to,
          attempt: row.attempts,
          error: completion.error,
          nextAttemptAt: new Date(completion.nextAttemptAt).toISOString(),
        },
        'send failed; retry scheduled',
      );
    } else {
      logger.error(
        { event: 'whatsapp.failed', messageId: row.id, to, attempt: row.attempts, error: completion.error },
        'message failed',
      );
    }
    this.deps.notifier.notify(row.id, status);
    if (completion.outcome === 'sent' && this.deps.onSent !== undefined) {
      await this.deps.onSent(row.id, completion.wamid);
    }
    if (completion.outcome === 'failed') {
      await this.reportFailure(row, completion.error, completion.fallback !== null);
    }
  }

  /**
   * Sends within the throughput slot the request was granted: a request that could not start writing by
   * its slot's deadline (`startBy`) was not sent at all (`late_start`), so it takes a new slot and goes
   * again; it never reaches Meta late, where it would crowd the next calendar second of the cap. After
   * MAX_LATE_STARTS such tries it goes without a deadline, as a starved process must still make progress.
   * Null when no new slot can be had (the dispatcher stops, the limiter's store fails): the claim is then
   * handed back, unsent and with its attempt refunded.
   */
  private async sendInSlot(
    row: MessageRow,
    request: SendRequest,
    startBy: number | null,
  ): Promise<SendResult | null> {
    let deadline = startBy;
    for (let lateStarts = 0; ; lateStarts++) {
      const result = await this.deps.client.sendMessage(
        deadline === null ? request : { ...request, startBy: deadline },
      );
      if (result.ok || result.failure.kind !== 'late_start') return result;
      this.lateStarts++;
      this.deps.metrics?.onLateStart();
      this.deps.logger.debug(
        { event: 'whatsapp.late_start', messageId: row.id, lateStarts: lateStarts + 1 },
        'send could not start within its throughput slot; taking a new slot',
      );
      try {
        const grant = await this.deps.limiter.acquire(1, this.abort.signal);
        deadline = lateStarts + 1 >= MAX_LATE_STARTS ? null : (grant.startBy[0] ?? null);
      } catch (error) {
        if (!this.abort.signal.aborted) this.logLimiterFailure(error);
        await this.deps.outbox.releaseClaims([row.id], this.options.owner).catch(() => 0);
        return null;
      }
    }
  }

  private logLimiterFailure(error: unknown): void {
    this.deps.logger.error({ event: 'dispatcher.limiter_failed', err: error }, 'throughput limiter failed');
  }

  private async reportFailure(row: MessageRow, error: MessageError, fallbackQueued: boolean): Promise<void> {
    if (this.deps.onFailed === undefined) return;
    try {
      await this.deps.onFailed(row, error, fallbackQueued);
    } catch (hookError) {
      this.deps.logger.error(
        { event: 'whatsapp.failed_hook_failed', messageId: row.id, err: hookError },
        'failure hook failed',
      );
    }
  }

  private async failureCompletion(row: MessageRow, failure: SendFailure): Promise<Completion> {
    const failureClass = classifyFailure(failure);
    const pairFailures =
      failureClass === 'pair_rate'
        ? await this.deps.outbox.recipientPairFailures(row.recipient).catch(() => 0)
        : 0;
    // Never reached Meta (connection refused, DNS, a late start): it does not count against the attempt budget.
    const isUnsent = neverLeft(failure) || failure.kind === 'late_start';
    const decision = decideRetry({
      failureClass,
      attempts: isUnsent ? row.attempts - 1 : row.attempts,
      maxAttempts: this.options.maxAttempts,
      baseMs: this.options.retryBaseMs,
      retryAfterMs: failure.retryAfterMs,
      recipientPairFailures: pairFailures,
      random: this.deps.random,
    });
    const error = toMessageError(failure, failureClass, decision);
    if (decision.action === 'fail') {
      // Refused outside the window (131047 answered at once): send its template instead, once.
      const fallback =
        failureClass === 'window' && row.fallback_payload !== null
          ? parsePayload(row.fallback_payload)
          : null;
      return {
        id: row.id,
        owner: this.options.owner,
        outcome: 'failed',
        error,
        fallback:
          fallback === null ? null : { to: row.recipient, ticketId: row.ticket_id, message: fallback },
      };
    }
    const now = this.deps.clock.now();
    return {
      id: row.id,
      owner: this.options.owner,
      outcome: 'retrying',
      nextAttemptAt: now + decision.delayMs,
      error,
      holdRecipient:
        decision.holdRecipientMs === null
          ? null
          : { recipient: row.recipient, until: now + decision.holdRecipientMs },
      refundAttempt: isUnsent,
      mayHaveBeenSent: failure.isAmbiguous,
    };
  }

  /** Renews this process's leases, then takes back messages whose claim expired (a dead process's). */
  private async maintainLeases(): Promise<void> {
    try {
      this.leasesRenewedUntil = await this.deps.outbox.renewLeases(
        this.options.owner,
        [...this.held],
        this.options.leaseMs,
      );
    } catch (error) {
      this.deps.logger.error(
        { event: 'dispatcher.lease_renewal_failed', err: error },
        'could not renew leases',
      );
    }
    await this.reclaim();
  }

  private async reclaim(): Promise<void> {
    try {
      const count = await this.deps.outbox.reclaimExpiredLeases(this.options.maxAttempts);
      if (count > 0) {
        this.deps.metrics?.onLeasesReclaimed(count);
        this.deps.logger.warn(
          { event: 'dispatcher.leases_reclaimed', count },
          'took back messages whose claim expired',
        );
        this.wake();
      }
    } catch (error) {
      this.deps.logger.error(
        { event: 'dispatcher.reclaim_failed', err: error },
        'could not reclaim expired leases',
      );
    }
  }

  private idle(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      const wakeUp = (): void => done();
      this.wakeUp = wakeUp;
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
    }).finally(() => {
      this.wakeUp = null;
    });
  }

  private waitForSlot(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.idleWaiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(ms, 1));
      this.idleWaiters.add(done);
    });
  }
}

function parsePayload(payload: string): OutgoingMessage | null {
  try {
    const parsed = JSON.parse(payload) as unknown;
    return typeof parsed === 'object' && parsed !== null && 'kind' in parsed
      ? (parsed as OutgoingMessage)
      : null;
  } catch {
    return null;
  }
}

const CODE_BY_CLASS: Record<FailureClass, string> = {
  transient: 'whatsapp_transient',
  throughput: 'whatsapp_throughput_limited',
  pair_rate: 'whatsapp_pair_rate_limited',
  auth: 'whatsapp_auth_failed',
  window: 'whatsapp_window_closed',
  recipient: 'whatsapp_recipient_unavailable',
  request: 'whatsapp_rejected',
  account: 'whatsapp_account_blocked',
};

function toMessageError(
  failure: SendFailure,
  failureClass: FailureClass,
  decision: RetryDecision,
): MessageError {
  const isExhausted = decision.action === 'fail' && decision.reason === 'attempts_exhausted';
  return {
    code: isExhausted ? 'attempts_exhausted' : CODE_BY_CLASS[failureClass],
    message: failure.message,
    whatsappCode: failure.whatsappCode,
    details: failure.details,
    fbtraceId: failure.fbtraceId,
  };
}

/** The request never left this machine (connection refused, DNS, unreachable host): Meta cannot have it. */
function neverLeft(failure: SendFailure): boolean {
  return failure.kind === 'network' && !failure.isAmbiguous;
}
