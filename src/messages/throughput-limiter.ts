import type pg from 'pg';

/**
 * Caps sends per second per business number (WHATSAPP_MAX_MPS) by pacing them evenly: each reservation
 * takes the next n slots of 1/rate seconds (the generic cell rate algorithm's "theoretical arrival time")
 * and every send waits for its own slot. On PostgreSQL the reservation is one atomic row update timed by
 * the database's clock, so every process sharing the database draws from one schedule (ADR 0006).
 *
 * The cap is "never more than WHATSAPP_MAX_MPS in one calendar second, as Meta counts". Three rules keep it:
 *
 * - Each send starts at its own slot, never bunched with later ones (a reservation of n slots only saves
 *   database round trips).
 * - The schedule runs at HEADROOM × cap. In any half-open window of length L there are at most
 *   ceil(L × rate) slots, so a calendar second holds at most cap sends as long as every send leaves within
 *   (1 / HEADROOM − 1) s ≈ 30.9 ms of its slot's start: that budget is shared by the wake-up lateness we
 *   tolerate (LATE_TOLERANCE_MS) and the jitter between our send and its receipt at Meta.
 * - A send that wakes later than LATE_TOLERANCE_MS after its slot (CPU starvation, a slow round trip) does
 *   not go: the slots that passed are dropped (which only lowers the rate) and it reserves again, at most
 *   MAX_LATE_RETRIES times; after that it goes, alone, so a starved process still makes progress.
 * - Waking in time is not enough: the send must also reach the wire in time. Each grant says by when
 *   (`startBy`); the Cloud API client checks it the moment the request would be written to its
 *   connection, and a send past it comes back unsent and asks for a new slot (Dispatcher).
 */
export interface ThroughputLimiter {
  /**
   * Resolves with how many sends (1..max) may start now, after waiting for their slot; rejects with the
   * signal's reason when it is aborted while waiting (nothing may be sent then).
   */
  acquire(max: number, signal?: AbortSignal): Promise<Grant>;
}

export interface Grant {
  /** How many sends may start now. */
  count: number;
  /**
   * For each of them, the instant (the limiter's monotonic clock: performance.now() in production) after
   * which it must not start writing to the wire: its slot's start plus LATE_TOLERANCE_MS. A send that
   * cannot start by then (no free connection, a stall between the grant and the write) does not go and
   * asks for a new slot instead. Empty when sends are not paced (no cap).
   */
  startBy: readonly number[];
}

const NO_DEADLINES: readonly number[] = [];

export const UNLIMITED: ThroughputLimiter = {
  acquire: (max) => Promise.resolve({ count: max, startBy: NO_DEADLINES }),
};

/**
 * Pace at 97 % of the cap. 100 % would leave no room for any lateness: one send a millisecond late at a
 * second's boundary puts cap + 1 in the next calendar second. 97 % leaves ~30.9 ms per send (see above)
 * and stays inside the bench's "measured rate within cap ± 5 %" goal with room for the slots a late wake
 * drops.
 */
export const HEADROOM = 0.97;

/**
 * How late after its slot's start a send may still go. One slot at 80/s is ~12.9 ms; 10 ms is below that
 * (a late wake never catches up by sending two slots at once at the default cap), is far above a timer's
 * normal lateness on an idle machine (~1 ms), and leaves ~20 ms of the 30.9 ms budget to the jitter
 * between our send and Meta's receipt.
 */
export const LATE_TOLERANCE_MS = 10;

/** Re-reservations after late wakes before a send goes anyway (alone: one send, never a bunch). */
export const MAX_LATE_RETRIES = 3;

/** Round trips remembered for the clock offset (a few seconds' worth at the default cap). */
const OFFSET_SAMPLES = 32;

/** Slots reserved per database round trip: at most ~1/20 s of sending, so an idle process holds few. */
export function grantSize(maxPerSecond: number): number {
  return Math.max(1, Math.floor(maxPerSecond / 20));
}

export interface SlotReservation {
  /** Start of the first reserved slot, on the store's clock (ms since the epoch). */
  startsAt: number;
  /** The store's clock when it reserved them (same scale): waits are computed from it, not from ours. */
  now: number;
}

export interface SlotStore {
  /** Reserves the next `count` slots of `intervalMs` for `key`, none earlier than the store's now. */
  reserve(key: string, count: number, intervalMs: number): Promise<SlotReservation>;
}

export interface PacedLimiterOptions {
  store: SlotStore;
  key: string;
  maxPerSecond: number;
  headroom?: number;
  /** A monotonic clock in ms (default performance.now): measures waits and lateness. */
  monotonic?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export function createThroughputLimiter(options: {
  maxPerSecond: number;
  key: string;
  pgPool: pg.Pool | null;
}): Promise<ThroughputLimiter> {
  if (options.maxPerSecond <= 0) return Promise.resolve(UNLIMITED);
  const store: SlotStore =
    options.pgPool === null ? new MemorySlotStore() : new PostgresSlotStore(options.pgPool);
  return Promise.resolve(new PacedLimiter({ store, key: options.key, maxPerSecond: options.maxPerSecond }));
}

interface Slot {
  /** The slot's start on the monotonic clock: the send may not start before it. */
  at: number;
  /** Lateness is counted from here: `at`, or for a reservation's first slot the answer's arrival if later. */
  lateFrom: number;
}

export class PacedLimiter implements ThroughputLimiter {
  readonly intervalMs: number;
  private readonly grant: number;
  private readonly store: SlotStore;
  private readonly key: string;
  private readonly monotonic: () => number;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Reserved slots not used yet, in order. */
  private slots: Slot[] = [];
  /** The reservation in progress (started ahead while waiting), settled with its error if it failed. */
  private pending: Promise<Error | null> | null = null;
  /** Recent estimates of (store clock − our clock) and the round trip each came from. */
  private readonly offsets: { offset: number; roundTrip: number }[] = [];
  /** Slots given up because their send woke too late (observability and tests). */
  droppedSlots = 0;
  /** Sends that went late after MAX_LATE_RETRIES re-reservations (observability and tests). */
  lateSends = 0;

  constructor(options: PacedLimiterOptions) {
    this.store = options.store;
    this.key = options.key;
    this.intervalMs = 1000 / (options.maxPerSecond * (options.headroom ?? HEADROOM));
    this.grant = grantSize(options.maxPerSecond);
    this.monotonic = options.monotonic ?? (() => performance.now());
    this.sleep = options.sleep ?? sleep;
  }

  async acquire(max: number, signal?: AbortSignal): Promise<Grant> {
    signal?.throwIfAborted();
    const wanted = Math.max(1, Math.floor(max));
    let lateWakes = 0;
    for (;;) {
      this.dropPassed();
      // More to send than slots in hand: reserve the next ones now, so the round trip overlaps the wait.
      if (this.slots.length < wanted) this.reserveAhead(Math.min(wanted - this.slots.length, this.grant));
      if (this.slots.length === 0) {
        const error = await this.pending;
        if (error !== null) throw error;
        continue;
      }
      const slot = this.slots[0];
      if (slot === undefined) continue;
      // Never before its slot: a timer may fire a fraction of a millisecond early.
      for (let waitMs = slot.at - this.monotonic(); waitMs > 0; waitMs = slot.at - this.monotonic()) {
        await this.sleep(waitMs, signal);
        signal?.throwIfAborted();
      }
      const now = this.monotonic();
      if (now - slot.lateFrom > LATE_TOLERANCE_MS) {
        if (lateWakes < MAX_LATE_RETRIES) {
          lateWakes++;
          continue; // dropPassed() gives up this slot and every other one that passed; wait for the next
        }
        // Starved again and again: go, but alone (the other passed slots are given up, never bunched),
        // with no deadline: a process that never wakes in time must still make progress.
        this.slots.shift();
        this.lateSends++;
        this.dropPassed();
        return { count: 1, startBy: [Number.POSITIVE_INFINITY] };
      }
      this.slots.shift();
      const startBy = [slot.lateFrom + LATE_TOLERANCE_MS];
      // Slots that are due too (high rates: a timer cannot fire every millisecond) go together, each
      // within the tolerance of its own start.
      for (let next = this.slots[0]; next !== undefined && startBy.length < wanted; next = this.slots[0]) {
        if (next.at > now || now - next.at > LATE_TOLERANCE_MS) break;
        this.slots.shift();
        startBy.push(next.lateFrom + LATE_TOLERANCE_MS);
      }
      return { count: startBy.length, startBy };
    }
  }

  /**
   * The store's clock minus ours. The store read its clock somewhere during the round trip; like NTP, take
   * the middle of it, which is off by at most half the round trip, and of the recent samples trust the
   * one with the shortest round trip (a slow, lopsided one would shift every slot it maps, by different
   * amounts in different processes: jitter between them). Only this difference is used, so skew between
   * hosts does not enter, and our clock is monotonic, so neither do steps of the wall clock here.
   */
  private storeOffset(sent: number, arrived: number, storeNow: number): number {
    this.offsets.push({ offset: storeNow - (sent + arrived) / 2, roundTrip: arrived - sent });
    if (this.offsets.length > OFFSET_SAMPLES) this.offsets.shift();
    let best = this.offsets[0];
    for (const sample of this.offsets)
      if (best === undefined || sample.roundTrip < best.roundTrip) best = sample;
    return best?.offset ?? storeNow - arrived;
  }

  private dropPassed(): void {
    const now = this.monotonic();
    const kept = this.slots.filter((slot) => now - slot.lateFrom <= LATE_TOLERANCE_MS);
    this.droppedSlots += this.slots.length - kept.length;
    this.slots = kept;
  }

  private reserveAhead(count: number): void {
    if (this.pending !== null) return;
    this.pending = this.reserve(count).then(
      () => null,
      (error: unknown) => (error instanceof Error ? error : new Error(String(error))),
    );
    void this.pending.finally(() => {
      this.pending = null;
    });
  }

  private async reserve(count: number): Promise<void> {
    const sent = this.monotonic();
    const reservation = await this.store.reserve(this.key, count, this.intervalMs);
    const arrived = this.monotonic();
    const first = reservation.startsAt - this.storeOffset(sent, arrived, reservation.now);
    // On an idle schedule the first slot is the store's "now", already half a round trip old on arrival
    // (tens of ms to a remote database). It may go then: nothing was scheduled in the interval before it,
    // so that delay cannot bunch it with an earlier send. The later slots get no such allowance.
    const idle = reservation.startsAt - reservation.now < 0.001;
    for (let index = 0; index < count; index++) {
      const at = first + index * this.intervalMs;
      this.slots.push({ at, lateFrom: index === 0 && idle ? Math.max(at, arrived) : at });
    }
    // Reservations follow each other on the store's schedule; their mapping to our clock may differ by a
    // fraction of a round trip, so keep the slots in order.
    this.slots.sort((a, b) => a.at - b.at);
  }
}

/** The schedule of one process (embedded database): a map, on a monotonic clock in ms since the epoch. */
export class MemorySlotStore implements SlotStore {
  private readonly next = new Map<string, number>();

  constructor(private readonly now: () => number = () => performance.timeOrigin + performance.now()) {}

  reserve(key: string, count: number, intervalMs: number): Promise<SlotReservation> {
    const now = this.now();
    const startsAt = Math.max(this.next.get(key) ?? now, now);
    this.next.set(key, startsAt + count * intervalMs);
    return Promise.resolve({ startsAt, now });
  }
}

/**
 * One row per number (migration 0005), moved by one statement timed by the database: `clock_timestamp()`
 * (the moment the statement runs, not the transaction's start) in ms since the epoch, so every process and
 * host reads the same clock and a slow round trip cannot reserve slots that already passed.
 */
export class PostgresSlotStore implements SlotStore {
  constructor(private readonly pool: pg.Pool) {}

  async reserve(key: string, count: number, intervalMs: number): Promise<SlotReservation> {
    const span = count * intervalMs;
    const result = await this.pool.query<{ next_slot_at: number; now_ms: number }>(
      `with clock as (select extract(epoch from clock_timestamp())::double precision * 1000 as now_ms)
       insert into throughput_slots (key, next_slot_at)
       select $1, clock.now_ms + $2::double precision from clock
       on conflict (key) do update
         set next_slot_at = greatest(throughput_slots.next_slot_at, (select now_ms from clock)) + $2::double precision
       returning next_slot_at, (select now_ms from clock) as now_ms`,
      [key, span],
    );
    const row = result.rows[0];
    if (row === undefined) throw new Error('throughput slot reservation returned no row');
    const now = Number(row.now_ms);
    return { startsAt: Number(row.next_slot_at) - span, now };
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
