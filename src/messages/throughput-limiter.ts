import type pg from 'pg';

/**
 * Caps sends per second per business number (WHATSAPP_MAX_MPS) by pacing them evenly: each grant of n
 * sends reserves the next n slots of 1/maxMps seconds (the generic cell rate algorithm's "theoretical
 * arrival time"), and the caller waits for its slot. On PostgreSQL the reservation is one atomic row
 * update, so every process sharing the database draws from one schedule.
 */
export interface ThroughputLimiter {
  /** Resolves with how many sends (1..max) may start now, after waiting for their slot. */
  acquire(max: number, signal?: AbortSignal): Promise<number>;
}

export const UNLIMITED: ThroughputLimiter = { acquire: (max) => Promise.resolve(max) };

/** Sends granted at once: small enough that no second ever holds more than ~5 % over the cap. */
export function grantSize(maxPerSecond: number): number {
  return Math.max(1, Math.floor(maxPerSecond / 20));
}

export interface SlotStore {
  /** Reserves `count` slots of `intervalMs` from `now` on; returns when the first one starts. */
  reserve(key: string, count: number, intervalMs: number, now: number): Promise<number>;
}

export function createThroughputLimiter(options: {
  maxPerSecond: number;
  key: string;
  pgPool: pg.Pool | null;
  now?: () => number;
}): Promise<ThroughputLimiter> {
  if (options.maxPerSecond <= 0) return Promise.resolve(UNLIMITED);
  const store: SlotStore =
    options.pgPool === null ? new MemorySlotStore() : new PostgresSlotStore(options.pgPool);
  return Promise.resolve(new PacedLimiter(store, options.key, options.maxPerSecond, options.now ?? Date.now));
}

export class PacedLimiter implements ThroughputLimiter {
  private readonly intervalMs: number;
  private readonly grant: number;

  constructor(
    private readonly store: SlotStore,
    private readonly key: string,
    maxPerSecond: number,
    private readonly now: () => number,
  ) {
    this.intervalMs = 1000 / maxPerSecond;
    this.grant = grantSize(maxPerSecond);
  }

  async acquire(max: number, signal?: AbortSignal): Promise<number> {
    signal?.throwIfAborted();
    const count = Math.max(1, Math.min(max, this.grant));
    const now = this.now();
    const startsAt = await this.store.reserve(this.key, count, this.intervalMs, now);
    // The whole grant goes out when its last slot begins, so no window ever runs ahead of the cap.
    const waitMs = startsAt + (count - 1) * this.intervalMs - now;
    if (waitMs > 0) await sleep(waitMs, signal);
    return count;
  }
}

export class MemorySlotStore implements SlotStore {
  private readonly next = new Map<string, number>();

  reserve(key: string, count: number, intervalMs: number, now: number): Promise<number> {
    const start = Math.max(this.next.get(key) ?? now, now);
    this.next.set(key, start + count * intervalMs);
    return Promise.resolve(start);
  }
}

/** One row per number (migration 0005); `greatest(next, now)` in one statement keeps processes in line. */
export class PostgresSlotStore implements SlotStore {
  constructor(private readonly pool: pg.Pool) {}

  async reserve(key: string, count: number, intervalMs: number, now: number): Promise<number> {
    const span = count * intervalMs;
    const result = await this.pool.query<{ next_slot_at: number }>(
      `insert into throughput_slots (key, next_slot_at) values ($1, $2::double precision + $3::double precision)
       on conflict (key) do update
         set next_slot_at = greatest(throughput_slots.next_slot_at, $2::double precision) + $3::double precision
       returning next_slot_at`,
      [key, now, span],
    );
    return Number(result.rows[0]?.next_slot_at ?? now + span) - span;
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
