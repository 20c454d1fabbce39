/**
 * Meta's per-number throughput cap (130429 above it), counted per calendar second so it lines up
 * with the per-second stats. A limit of 0 means unlimited.
 */
export class ThroughputWindow {
  private readonly windows = new Map<string, { second: number; count: number }>();

  constructor(private readonly maxPerSecond: number) {}

  /** Counts one message for `key` and says whether it fits in the current second. */
  tryTake(key: string, nowMs: number): boolean {
    if (this.maxPerSecond <= 0) return true;
    const second = Math.floor(nowMs / 1000);
    const window = this.windows.get(key);
    if (!window || window.second !== second) {
      this.windows.set(key, { second, count: 1 });
      return true;
    }
    if (window.count >= this.maxPerSecond) return false;
    window.count += 1;
    return true;
  }

  reset(): void {
    this.windows.clear();
  }
}
