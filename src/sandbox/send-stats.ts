import { RingBuffer } from './ring-buffer.js';

/** How many seconds of per-second history the stats keep. */
export const PER_SECOND_WINDOW = 120;

export interface SecondCount {
  /** Unix seconds. */
  second: number;
  count: number;
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
}

export interface CallbackDataCount {
  callbackData: string;
  count: number;
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
  private readonly seconds: SecondCount[] = Array.from({ length: PER_SECOND_WINDOW }, () => ({
    second: -1,
    count: 0,
  }));
  private maxPerSecond = 0;
  private duplicateAccepts = 0;
  private readonly acceptedByCallbackData = new Map<string, number>();
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
    const second = Math.floor(nowMs / 1000);
    const slot = this.seconds[second % PER_SECOND_WINDOW];
    if (slot) {
      if (slot.second !== second) {
        slot.second = second;
        slot.count = 0;
      }
      slot.count += 1;
      if (slot.count > this.maxPerSecond) this.maxPerSecond = slot.count;
    }
    if (callbackData !== null) this.countCallbackData(callbackData);
  }

  recordRejected(codeKey: string): void {
    this.rejected += 1;
    this.rejectedByCode.set(codeKey, (this.rejectedByCode.get(codeKey) ?? 0) + 1);
  }

  recordHung(): void {
    this.hung += 1;
  }

  acceptedCountFor(callbackData: string): number {
    return this.acceptedByCallbackData.get(callbackData) ?? 0;
  }

  /** Callback data accepted more than once, in the order they first repeated, at most `limit` of them. */
  duplicates(limit = Number.POSITIVE_INFINITY): CallbackDataCount[] {
    const result: CallbackDataCount[] = [];
    for (const callbackData of this.duplicateCallbackData) {
      if (result.length >= limit) break;
      result.push({ callbackData, count: this.acceptedCountFor(callbackData) });
    }
    return result;
  }

  get distinctDuplicates(): number {
    return this.duplicateCallbackData.size;
  }

  snapshot(nowMs: number): SendStatsSnapshot {
    const current = Math.floor(nowMs / 1000);
    const perSecond = this.seconds
      .filter((slot) => slot.second > current - PER_SECOND_WINDOW && slot.second <= current)
      .sort((a, b) => a.second - b.second)
      .map((slot) => ({ ...slot }));
    return {
      requests: this.requests,
      accepted: this.accepted,
      rejected: this.rejected,
      rejectedByCode: Object.fromEntries(this.rejectedByCode),
      hung: this.hung,
      perSecond,
      maxPerSecond: this.maxPerSecond,
      duplicateAccepts: this.duplicateAccepts,
    };
  }

  reset(): void {
    this.requests = 0;
    this.accepted = 0;
    this.rejected = 0;
    this.hung = 0;
    this.rejectedByCode = new Map();
    for (const slot of this.seconds) {
      slot.second = -1;
      slot.count = 0;
    }
    this.maxPerSecond = 0;
    this.duplicateAccepts = 0;
    this.acceptedByCallbackData.clear();
    this.callbackDataArrivals.clear();
    this.duplicateCallbackData.clear();
  }

  private countCallbackData(callbackData: string): void {
    const previous = this.acceptedByCallbackData.get(callbackData) ?? 0;
    this.acceptedByCallbackData.set(callbackData, previous + 1);
    if (previous > 0) {
      this.duplicateAccepts += 1;
      this.duplicateCallbackData.add(callbackData);
      return;
    }
    const forgotten = this.callbackDataArrivals.push(callbackData);
    if (forgotten !== undefined) {
      this.acceptedByCallbackData.delete(forgotten);
      this.duplicateCallbackData.delete(forgotten);
    }
  }
}
