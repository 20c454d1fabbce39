/**
 * One entry per calendar second for the last `windowSeconds` seconds, in a fixed ring indexed by the
 * second: what the sandbox counts per second (accepts, attempts, its own event-loop lag) without keeping
 * history that grows. An entry is created on first use in its second and replaced when the ring comes
 * round to the same slot a window later.
 */
export class PerSecondWindow<T extends { second: number }> {
  private readonly slots: (T | null)[];

  constructor(
    readonly windowSeconds: number,
    /** A fresh entry for a second (Unix seconds). */
    private readonly create: (second: number) => T,
  ) {
    this.slots = new Array<T | null>(windowSeconds).fill(null);
  }

  /** The entry of the calendar second holding `nowMs` (ms since the epoch), created when new. */
  at(nowMs: number): T {
    const second = Math.floor(nowMs / 1000);
    const index = second % this.windowSeconds;
    let slot = this.slots[index] ?? null;
    if (slot === null || slot.second !== second) {
      slot = this.create(second);
      this.slots[index] = slot;
    }
    return slot;
  }

  /** Copies of the entries of the window ending at `nowMs`, oldest first; seconds without one are left out. */
  recent(nowMs: number): T[] {
    const current = Math.floor(nowMs / 1000);
    return this.slots
      .filter(
        (slot): slot is T =>
          slot !== null && slot.second > current - this.windowSeconds && slot.second <= current,
      )
      .sort((a, b) => a.second - b.second)
      .map((slot) => ({ ...slot }));
  }

  clear(): void {
    this.slots.fill(null);
  }
}
