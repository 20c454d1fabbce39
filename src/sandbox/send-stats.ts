import { createHash } from 'node:crypto';
import { PerSecondWindow } from './per-second-window.js';
import { RingBuffer } from './ring-buffer.js';

/** How many seconds of per-second history the stats keep. */
export const PER_SECOND_WINDOW = 120;

export interface SecondCount {
  /** Unix seconds. */
  second: number;
  count: number;
}

/** Send attempts (requests past validation) in one calendar second; a retry repeats a callback data already seen. */
export interface SecondAttempts {
  /** Unix seconds. */
  second: number;
  attempts: number;
  retries: number;
}

export interface SendStatsSnapshot {
  /** Send requests that reached the sandbox (every outcome, hung ones included). */
  requests: number;
  accepted: number;
  rejected: number;
  /** Graph error code (or `html_502`) → how many sends were refused with it. */
  rejectedByCode: Record<string, number>;
  /** Requests held open by the `hang` scenario. */
  hung: number;
  /** Accepted messages per second for the last {@link PER_SECOND_WINDOW} seconds, oldest first, gaps omitted. */
  perSecond: SecondCount[];
  /** Highest accepted count seen in any single second since the last reset. */
  maxPerSecond: number;
  /** Accepted sends whose `biz_opaque_callback_data` had already been accepted before. */
  duplicateAccepts: number;
  /** Valid send requests (every outcome after validation), and those repeating a callback data seen before. */
  attempts: number;
  retries: number;
  /** Attempts and retries per second for the last {@link PER_SECOND_WINDOW} seconds, oldest first, gaps omitted. */
  attemptsPerSecond: SecondAttempts[];
  /** Highest retry count seen in any single second since the last reset. */
  maxRetriesPerSecond: number;
  /** Highest attempt count (accepted or not) seen in any single second since the last reset. */
  maxAttemptsPerSecond: number;
  /**
   * Accepted sends whose answer never reached the client (`lost_answer`, or a `slow` answer after the
   * client gave up): Meta has the message, the client does not know. A retry of one is an expected duplicate.
   */
  lostAnswers: number;
  /** Accepted sends per caller, keyed by {@link senderLabel} of the Bearer token (tells processes apart). */
  acceptedBySender: Record<string, number>;
}

export interface CallbackDataCount {
  callbackData: string;
  /** Accepted sends with this callback data. */
  count: number;
  /** Of those, how many were accepted without the answer reaching the client. */
  answersLost: number;
}

/** Per-callback-data counters. */
interface CallbackDataRecord {
  attempts: number;
  accepted: number;
  answersLost: number;
}

/** A short, stable, non-secret label for a Bearer token (first 8 hex digits of its SHA-256). */
export function senderLabel(token: string): string {
  return createHash('sha256').update(token).digest('hex').slice(0, 8);
}

/**
 * Counters for sends. Counting never stops; only the per-callback-data table is bounded
 * (`maxTrackedCallbackData`, oldest forgotten first), so `duplicateAccepts` stays exact while
 * `duplicates()` lists what is still tracked.
 */
export class SendStats {
  private requests = 0;
  private accepted = 0;
  private rejected = 0;
  private hung = 0;
  private rejectedByCode = new Map<string, number>();
  private readonly seconds = new PerSecondWindow<SecondCount>(PER_SECOND_WINDOW, (second) => ({
    second,
    count: 0,
  }));
  private maxPerSecond = 0;
  private duplicateAccepts = 0;
  private attempts = 0;
  private retries = 0;
  private readonly attemptSeconds = new PerSecondWindow<SecondAttempts>(PER_SECOND_WINDOW, (second) => ({
    second,
    attempts: 0,
    retries: 0,
  }));
  private maxRetriesPerSecond = 0;
  private maxAttemptsPerSecond = 0;
  private lostAnswers = 0;
  private acceptedBySender = new Map<string, number>();
  private readonly senderLabels = new Map<string, string>();
  private readonly byCallbackData = new Map<string, CallbackDataRecord>();
  private readonly callbackDataArrivals: RingBuffer<string>;
  private readonly duplicateCallbackData = new Set<string>();

  constructor(maxTrackedCallbackData: number) {
    this.callbackDataArrivals = new RingBuffer(maxTrackedCallbackData);
  }

  recordRequest(): void {
    this.requests += 1;
  }

  recordAccepted(nowMs: number, callbackData: string | null): void {
    this.accepted += 1;
    const slot = this.seconds.at(nowMs);
    slot.count += 1;
    if (slot.count > this.maxPerSecond) this.maxPerSecond = slot.count;
    if (callbackData !== null) this.countCallbackData(callbackData);
  }

  /**
   * A valid send request, before scenarios and the cap decide its fate. With callback data seen in an
   * earlier attempt it counts as a retry, in the per-second retry histogram.
   */
  recordAttempt(nowMs: number, callbackData: string | null): void {
    this.attempts += 1;
    let isRetry = false;
    if (callbackData !== null) {
      const record = this.recordFor(callbackData);
      isRetry = record.attempts > 0;
      record.attempts += 1;
    }
    if (isRetry) this.retries += 1;
    const slot = this.attemptSeconds.at(nowMs);
    slot.attempts += 1;
    if (isRetry) slot.retries += 1;
    if (slot.attempts > this.maxAttemptsPerSecond) this.maxAttemptsPerSecond = slot.attempts;
    if (slot.retries > this.maxRetriesPerSecond) this.maxRetriesPerSecond = slot.retries;
  }

  /** An accepted send whose answer the client never got (it hung up, or the sandbox held it). */
  recordAnswerLost(callbackData: string | null): void {
    this.lostAnswers += 1;
    if (callbackData !== null) this.recordFor(callbackData).answersLost += 1;
  }

  /** An accepted send by the caller using `token`. */
  recordSender(token: string): void {
    let label = this.senderLabels.get(token);
    if (label === undefined) {
      label = senderLabel(token);
      if (this.senderLabels.size < 1000) this.senderLabels.set(token, label);
    }
    this.acceptedBySender.set(label, (this.acceptedBySender.get(label) ?? 0) + 1);
  }

  recordRejected(codeKey: string): void {
    this.rejected += 1;
    this.rejectedByCode.set(codeKey, (this.rejectedByCode.get(codeKey) ?? 0) + 1);
  }

  recordHung(): void {
    this.hung += 1;
  }

  acceptedCountFor(callbackData: string): number {
    return this.byCallbackData.get(callbackData)?.accepted ?? 0;
  }

  /** Attempts, accepts and lost answers for one callback data (zeros when unknown or forgotten). */
  countsFor(callbackData: string): { attempts: number; accepted: number; answersLost: number } {
    const record = this.byCallbackData.get(callbackData);
    return record ? { ...record } : { attempts: 0, accepted: 0, answersLost: 0 };
  }

  /** Callback data accepted more than once, in the order they first repeated, at most `limit` of them. */
  duplicates(limit = Number.POSITIVE_INFINITY): CallbackDataCount[] {
    const result: CallbackDataCount[] = [];
    for (const callbackData of this.duplicateCallbackData) {
      if (result.length >= limit) break;
      const record = this.byCallbackData.get(callbackData);
      result.push({ callbackData, count: record?.accepted ?? 0, answersLost: record?.answersLost ?? 0 });
    }
    return result;
  }

  get distinctDuplicates(): number {
    return this.duplicateCallbackData.size;
  }

  snapshot(nowMs: number): SendStatsSnapshot {
    return {
      requests: this.requests,
      accepted: this.accepted,
      rejected: this.rejected,
      rejectedByCode: Object.fromEntries(this.rejectedByCode),
      hung: this.hung,
      perSecond: this.seconds.recent(nowMs),
      maxPerSecond: this.maxPerSecond,
      duplicateAccepts: this.duplicateAccepts,
      attempts: this.attempts,
      retries: this.retries,
      attemptsPerSecond: this.attemptSeconds.recent(nowMs),
      maxRetriesPerSecond: this.maxRetriesPerSecond,
      maxAttemptsPerSecond: this.maxAttemptsPerSecond,
      lostAnswers: this.lostAnswers,
      acceptedBySender: Object.fromEntries(this.acceptedBySender),
    };
  }

  reset(): void {
    this.requests = 0;
    this.accepted = 0;
    this.rejected = 0;
    this.hung = 0;
    this.rejectedByCode = new Map();
    this.seconds.clear();
    this.maxPerSecond = 0;
    this.duplicateAccepts = 0;
    this.attempts = 0;
    this.retries = 0;
    this.attemptSeconds.clear();
    this.maxRetriesPerSecond = 0;
    this.maxAttemptsPerSecond = 0;
    this.lostAnswers = 0;
    this.acceptedBySender = new Map();
    this.byCallbackData.clear();
    this.callbackDataArrivals.clear();
    this.duplicateCallbackData.clear();
  }

  private countCallbackData(callbackData: string): void {
    const record = this.recordFor(callbackData);
    record.accepted += 1;
    if (record.accepted > 1) {
      this.duplicateAccepts += 1;
      this.duplicateCallbackData.add(callbackData);
    }
  }

  /** The record for `callbackData`, created (and the oldest forgotten beyond the bound) on first sight. */
  private recordFor(callbackData: string): CallbackDataRecord {
    let record = this.byCallbackData.get(callbackData);
    if (record !== undefined) return record;
    record = { attempts: 0, accepted: 0, answersLost: 0 };
    const forgotten = this.callbackDataArrivals.push(callbackData);
    if (forgotten === callbackData) return record; // capacity 0: track nothing
    this.byCallbackData.set(callbackData, record);
    if (forgotten !== undefined) {
      this.byCallbackData.delete(forgotten);
      this.duplicateCallbackData.delete(forgotten);
    }
    return record;
  }
}
