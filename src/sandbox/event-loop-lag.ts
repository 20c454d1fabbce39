import { PerSecondWindow } from './per-second-window.js';

/** How many calendar seconds of per-second lag the monitor keeps (as the send stats do). */
export const LAG_WINDOW_SECONDS = 120;

export interface SecondLag {
  /** Unix seconds (the second in which the late tick ran). */
  second: number;
  /** The longest a tick waited beyond its time in that second, in ms. */
  maxMs: number;
}

export interface EventLoopLagSnapshot {
  /** How often the monitor's timer ticks; a lag below it cannot be told from none. */
  resolutionMs: number;
  /** Ticks measured since start or the last reset. */
  ticks: number;
  maxMs: number;
  p99Ms: number;
  p50Ms: number;
  meanMs: number;
  /** Max lag per calendar second for the last {@link LAG_WINDOW_SECONDS} seconds, oldest first, gaps omitted. */
  perSecond: SecondLag[];
}

export interface EventLoopLagOptions {
  /** Ms since the epoch: which calendar second a tick belongs to (the sandbox's clock). */
  clock: () => number;
  /** A monotonic clock in ms (default performance.now): measures the lag. */
  monotonic?: () => number;
  resolutionMs?: number;
}

/** Lags are counted in buckets of this many ms (the percentiles' precision); longer ones in the last. */
const BUCKET_MS = 0.5;
const BUCKETS = 4000;

/**
 * How late the event loop runs a timer that should fire every `resolutionMs`: the time a request that
 * arrived meanwhile waited before the process could even read it. Per calendar second, so a second the
 * sandbox counted as over the cap can be checked against a stall of the instrument itself. Like
 * `perf_hooks.monitorEventLoopDelay`, but with the lag attributed to the second it ended in, and a
 * plain bucket array instead of its histogram, whose `mean` took ~10 ms per read on a loaded machine
 * (the stats are polled several times a second: the instrument must not stall itself).
 */
export class EventLoopLagMonitor {
  readonly resolutionMs: number;
  private readonly clock: () => number;
  private readonly monotonic: () => number;
  private buckets = new Uint32Array(BUCKETS);
  private ticks = 0;
  private sumMs = 0;
  private maxMs = 0;
  private readonly seconds = new PerSecondWindow<SecondLag>(LAG_WINDOW_SECONDS, (second) => ({
    second,
    maxMs: 0,
  }));
  private timer: NodeJS.Timeout | null = null;
  private expected = 0;

  constructor(options: EventLoopLagOptions) {
    this.clock = options.clock;
    this.monotonic = options.monotonic ?? (() => performance.now());
    this.resolutionMs = options.resolutionMs ?? 10;
  }

  start(): void {
    if (this.timer !== null) return;
    this.expected = this.monotonic() + this.resolutionMs;
    this.timer = setInterval(() => this.tick(), this.resolutionMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /** One timer tick: how late it ran. Public for tests with a fake clock. */
  tick(): void {
    const now = this.monotonic();
    this.record(Math.max(0, now - this.expected), this.clock());
    // Node re-arms an interval from when its callback runs, so the next tick is due one period from now.
    this.expected = now + this.resolutionMs;
  }

  record(lagMs: number, nowMs: number): void {
    const bucket = Math.min(BUCKETS - 1, Math.floor(lagMs / BUCKET_MS));
    this.buckets[bucket] = (this.buckets[bucket] ?? 0) + 1;
    this.ticks += 1;
    this.sumMs += lagMs;
    if (lagMs > this.maxMs) this.maxMs = lagMs;
    const slot = this.seconds.at(nowMs);
    if (lagMs > slot.maxMs) slot.maxMs = lagMs;
  }

  snapshot(nowMs: number): EventLoopLagSnapshot {
    return {
      resolutionMs: this.resolutionMs,
      ticks: this.ticks,
      maxMs: round(this.maxMs),
      p99Ms: this.percentile(0.99),
      p50Ms: this.percentile(0.5),
      meanMs: this.ticks === 0 ? 0 : round(this.sumMs / this.ticks),
      perSecond: this.seconds.recent(nowMs).map((slot) => ({ ...slot, maxMs: round(slot.maxMs) })),
    };
  }

  reset(): void {
    this.buckets = new Uint32Array(BUCKETS);
    this.ticks = 0;
    this.sumMs = 0;
    this.maxMs = 0;
    this.seconds.clear();
  }

  /** The upper edge of the bucket holding the q-quantile (never above the max seen). */
  private percentile(q: number): number {
    if (this.ticks === 0) return 0;
    const rank = Math.ceil(q * this.ticks);
    let seen = 0;
    for (let bucket = 0; bucket < BUCKETS; bucket++) {
      seen += this.buckets[bucket] ?? 0;
      if (seen >= rank) return round(Math.min(this.maxMs, (bucket + 1) * BUCKET_MS));
    }
    return round(this.maxMs);
  }
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
