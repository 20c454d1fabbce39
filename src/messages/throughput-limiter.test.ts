import { describe, expect, it } from 'vitest';
import {
  type Grant,
  grantSize,
  HEADROOM,
  LATE_TOLERANCE_MS,
  MAX_LATE_RETRIES,
  MemorySlotStore,
  PacedLimiter,
  UNLIMITED,
  type SlotReservation,
  type SlotStore,
} from './throughput-limiter.js';

/**
 * A fake world: `t` is the monotonic clock (ms). `sleep` registers a timer that fires `lateBy()` ms after
 * it is due; `run` fires timers in order, letting promises settle in between (one "machine", any number of
 * limiters, no real time involved).
 */
class FakeTime {
  t = 0;
  readonly sleeps: number[] = [];
  private timers: { at: number; resolve: () => void }[] = [];

  constructor(private readonly lateBy: () => number = () => 0) {}

  readonly monotonic = (): number => this.t;

  readonly sleep = (ms: number, signal?: AbortSignal): Promise<void> => {
    this.sleeps.push(ms);
    return new Promise((resolve) => {
      const timer = { at: this.t + ms + this.lateBy(), resolve };
      this.timers.push(timer);
      signal?.addEventListener('abort', () => {
        this.timers = this.timers.filter((other) => other !== timer);
        resolve();
      });
    });
  };

  /** Fires timers until `done` (or nothing is left to fire). */
  async run(done: () => boolean): Promise<void> {
    for (let guard = 0; guard < 1_000_000 && !done(); guard++) {
      await new Promise((resolve) => setImmediate(resolve));
      if (done()) return;
      this.timers.sort((a, b) => a.at - b.at);
      const next = this.timers.shift();
      if (next === undefined) continue;
      this.t = Math.max(this.t, next.at);
      next.resolve();
    }
  }
}

const EPOCH = 1_790_000_000_000;

/** A database-like store: its own clock (`skewMs` off ours) and a round trip that takes fake time. */
function databaseStore(
  time: FakeTime,
  options: {
    skewMs?: number;
    roundTripMs?: number;
    /** The two legs of each round trip (before and after the store reads its clock), overriding roundTripMs. */
    legs?: () => [number, number];
    othersAhead?: number;
  } = {},
): SlotStore & { calls: SlotReservation[] } {
  const inner = new MemorySlotStore(() => EPOCH + (options.skewMs ?? 0) + time.t);
  const halfTrip = (options.roundTripMs ?? 0) / 2;
  const calls: SlotReservation[] = [];
  return {
    calls,
    async reserve(key, count, intervalMs) {
      const [there, back] = options.legs?.() ?? [halfTrip, halfTrip];
      time.t += there;
      // Other processes keep the schedule busy: they reserved this many slots just before us.
      if (options.othersAhead !== undefined) await inner.reserve(key, options.othersAhead, intervalMs);
      const reservation = await inner.reserve(key, count, intervalMs);
      time.t += back;
      calls.push(reservation);
      return reservation;
    },
  };
}

function limiterOn(store: SlotStore, time: FakeTime, maxPerSecond = 80): PacedLimiter {
  return new PacedLimiter({
    store,
    key: 'n',
    maxPerSecond,
    monotonic: time.monotonic,
    sleep: time.sleep,
  });
}

/** Most sends in any window [t, t + 1000) ms. */
function maxInOneSecond(sendTimes: number[]): number {
  const sorted = [...sendTimes].sort((a, b) => a - b);
  let most = 0;
  let first = 0;
  for (let last = 0; last < sorted.length; last++) {
    while ((sorted[last] ?? 0) - (sorted[first] ?? 0) >= 1000) first++;
    most = Math.max(most, last - first + 1);
  }
  return most;
}

/** A small deterministic PRNG (mulberry32), so a failing run can be replayed. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let x = Math.imul(state ^ (state >>> 15), 1 | state);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

describe('throughput limiter', () => {
  it('reserves small groups per round trip', () => {
    expect(grantSize(80)).toBe(4);
    expect(grantSize(1000)).toBe(50);
    expect(grantSize(10)).toBe(1);
  });

  it('paces just under the cap, inside the ± 5 % the bench allows', () => {
    const limiter = new PacedLimiter({ store: new MemorySlotStore(), key: 'n', maxPerSecond: 80 });
    expect(limiter.intervalMs).toBeCloseTo(1000 / (80 * HEADROOM), 9);
    expect(HEADROOM).toBeGreaterThanOrEqual(0.95);
    expect(HEADROOM).toBeLessThan(1);
    // The lateness we tolerate fits in the slack the headroom leaves in a second.
    expect(LATE_TOLERANCE_MS).toBeLessThan(1000 * (1 / HEADROOM - 1));
  });

  it('memory store: consecutive slots, none before its now, and its now returned', async () => {
    let now = 1000;
    const store = new MemorySlotStore(() => now);
    expect(await store.reserve('n', 4, 12.5)).toEqual({ startsAt: 1000, now: 1000 });
    expect(await store.reserve('n', 4, 12.5)).toEqual({ startsAt: 1050, now: 1000 });
    now = 1010;
    expect(await store.reserve('n', 4, 12.5)).toEqual({ startsAt: 1100, now: 1010 });
    // After an idle spell the schedule restarts at "now"; nothing is saved up for a burst.
    now = 5000;
    expect(await store.reserve('n', 1, 12.5)).toEqual({ startsAt: 5000, now: 5000 });
    expect((await store.reserve('other', 1, 12.5)).startsAt).toBe(5000);
  });

  it('waits by the store clock: skew between our clock and the database does not matter', async () => {
    // The database is 5 hours ahead of this process; another process already holds 10 slots.
    const time = new FakeTime();
    const store = databaseStore(time, { skewMs: 5 * 3600_000, roundTripMs: 4 });
    const limiter = limiterOn(store, time);
    const interval = limiter.intervalMs;
    await store.reserve('n', 10, interval);
    time.t = 0;
    let granted = 0;
    const acquiring = limiter.acquire(1).then((grant) => (granted = grant.count));
    await time.run(() => granted > 0);
    expect(granted).toBe(1);
    // Reserved at the store's "now" + 10 slots; the store read its clock mid-trip (t = 2), the answer came
    // at t = 4: the send waits 10 intervals from the middle of the round trip.
    expect(store.calls.at(-1)?.startsAt).toBeCloseTo(EPOCH + 5 * 3600_000 + 2 + 10 * interval, 2);
    expect(time.sleeps).toHaveLength(1);
    expect(time.sleeps[0]).toBeCloseTo(2 + 10 * interval - 4, 2);
    expect(time.t).toBeCloseTo(2 + 10 * interval, 2);
    await acquiring;
  });

  it('maps the store clock with its fastest recent round trip: a slow, lopsided one does not shift slots', async () => {
    // Two quick round trips (1 ms each way), then a slow one whose way back takes 40 ms.
    const legs: [number, number][] = [
      [1, 1],
      [1, 1],
      [1, 40],
    ];
    const time = new FakeTime();
    const store = databaseStore(time, { legs: () => legs.shift() ?? [1, 1], othersAhead: 20 });
    const limiter = limiterOn(store, time, 10); // a grant of 1: one reservation per acquire
    const interval = limiter.intervalMs;
    let sendsDone = 0;
    const sendTimes: number[] = [];
    void (async () => {
      for (let send = 0; send < 3; send++) {
        await limiter.acquire(1);
        sendTimes.push(time.t);
      }
      sendsDone = 3;
    })();
    await time.run(() => sendsDone === 3);
    // Other processes keep the schedule 20+ slots ahead. The third send must go exactly when its slot
    // starts by the store's clock, not 19.5 ms later (the middle of its own lopsided round trip).
    const third = store.calls[2];
    expect(third).toBeDefined();
    if (third === undefined) return;
    expect(third.startsAt - third.now).toBeGreaterThanOrEqual(20 * interval - 1e-3);
    const readAt = third.now - EPOCH; // the fake store's clock is EPOCH + t
    expect(sendTimes[2]).toBeCloseTo(readAt + (third.startsAt - third.now), 2);
  });

  it('never sends before its slot, even when a timer fires a little early', async () => {
    const early = [-0.6]; // the first timer fires 0.6 ms before it is due
    const time = new FakeTime(() => early.shift() ?? 0);
    const store = databaseStore(time, { othersAhead: 4 });
    const limiter = limiterOn(store, time);
    let granted = 0;
    const acquiring = limiter.acquire(1).then((grant) => (granted = grant.count));
    await time.run(() => granted > 0);
    await acquiring;
    const reservation = store.calls[0];
    expect(reservation).toBeDefined();
    if (reservation === undefined) return;
    expect(time.t).toBeGreaterThanOrEqual(reservation.startsAt - EPOCH - 1e-6);
    expect(time.sleeps).toHaveLength(2);
  });

  it('sends each slot at its own time, not a grant at once, each with its own deadline to start', async () => {
    const time = new FakeTime();
    const limiter = limiterOn(databaseStore(time), time);
    const sendTimes: number[] = [];
    const deadlines: number[] = [];
    let done = false;
    void (async () => {
      let left = 20;
      while (left > 0) {
        const { count, startBy } = await limiter.acquire(left);
        expect(startBy).toHaveLength(count);
        for (let index = 0; index < count; index++) sendTimes.push(time.t);
        deadlines.push(...startBy);
        left -= count;
      }
      done = true;
    })();
    await time.run(() => done);
    expect(sendTimes).toHaveLength(20);
    for (let index = 1; index < sendTimes.length; index++) {
      expect((sendTimes[index] ?? 0) - (sendTimes[index - 1] ?? 0)).toBeCloseTo(limiter.intervalMs, 2);
    }
    // Woken on time, each send may still start until LATE_TOLERANCE_MS after its slot, on the same clock.
    deadlines.forEach((deadline, index) =>
      expect(deadline - (sendTimes[index] ?? 0)).toBeCloseTo(LATE_TOLERANCE_MS, 2),
    );
  });

  it('a late wake does not send: the passed slots are given up and it waits for a new one', async () => {
    // The first wake-up is 50 ms late (CPU starvation), later ones are on time.
    const lateness = [50];
    const time = new FakeTime(() => lateness.shift() ?? 0);
    const store = databaseStore(time);
    const limiter = limiterOn(store, time);
    const interval = limiter.intervalMs;
    await store.reserve('n', 8, interval); // the schedule is 8 slots ahead: the limiter has to wait
    let granted = 0;
    const acquiring = limiter.acquire(10).then((grant) => (granted = grant.count));
    await time.run(() => granted > 0);
    await acquiring;
    // Not the 4 slots of its grant at once (3 of them had passed too): one send, on a fresh slot, on time.
    expect(granted).toBe(1);
    expect(limiter.droppedSlots).toBeGreaterThanOrEqual(1);
    expect(limiter.lateSends).toBe(0);
    expect(time.sleeps.length).toBeGreaterThanOrEqual(2);
    const lastReservation = store.calls.at(-1);
    expect(lastReservation).toBeDefined();
    // It went at a slot reserved after it woke late, within the tolerance of that slot.
    expect(time.t).toBeGreaterThanOrEqual(8 * interval + 50);
  });

  it(`retries at most ${MAX_LATE_RETRIES} times, then sends alone`, async () => {
    const time = new FakeTime(() => 100); // every wake-up is 100 ms late, on a busy schedule
    const store = databaseStore(time, { othersAhead: 8 });
    const limiter = limiterOn(store, time);
    let granted: Grant | null = null;
    const acquiring = limiter.acquire(10).then((grant) => (granted = grant));
    await time.run(() => granted !== null);
    await acquiring;
    // Alone, and with no deadline to start (it must go out at last).
    expect(granted).toEqual({ count: 1, startBy: [Number.POSITIVE_INFINITY] });
    expect(limiter.lateSends).toBe(1);
    expect(time.sleeps).toHaveLength(MAX_LATE_RETRIES + 1);
  });

  it('an idle schedule on a distant database: the first send goes on arrival, not dropped', async () => {
    // 60 ms round trip: the first slot (the store's now) is 30 ms old when the answer arrives.
    const time = new FakeTime();
    const store = databaseStore(time, { roundTripMs: 60 });
    const limiter = limiterOn(store, time);
    let granted = 0;
    const acquiring = limiter.acquire(1).then((grant) => (granted = grant.count));
    await time.run(() => granted > 0);
    await acquiring;
    expect(granted).toBe(1);
    expect(store.calls).toHaveLength(1);
    expect(limiter.droppedSlots).toBe(0);
  });

  async function severalProcesses(lateBy: () => number): Promise<{ max: number; rate: number }> {
    const time = new FakeTime(lateBy);
    const store = databaseStore(time, { roundTripMs: 2 });
    const sendTimes: number[] = [];
    const perProcess = 400;
    let finished = 0;
    for (let process = 0; process < 4; process++) {
      const limiter = limiterOn(store, time);
      void (async () => {
        let left = perProcess;
        while (left > 0) {
          const { count } = await limiter.acquire(Math.min(left, 50));
          for (let index = 0; index < count; index++) sendTimes.push(time.t);
          left -= count;
        }
        finished++;
      })();
    }
    await time.run(() => finished === 4);
    expect(sendTimes).toHaveLength(4 * perProcess);
    const seconds = (Math.max(...sendTimes) - Math.min(...sendTimes)) / 1000;
    return { max: maxInOneSecond(sendTimes), rate: sendTimes.length / seconds };
  }

  it('several processes on one schedule, waking up to the tolerance late: never over the cap, rate ≥ 95 %', async () => {
    const next = random(7);
    const { max, rate } = await severalProcesses(() => LATE_TOLERANCE_MS * next() * 0.99);
    expect(max).toBeLessThanOrEqual(80);
    expect(rate).toBeGreaterThanOrEqual(0.95 * 80);
  });

  it('several processes, some wake-ups starved (30–130 ms late): still never over the cap', async () => {
    const next = random(11);
    const { max, rate } = await severalProcesses(() =>
      next() < 0.02 ? 30 + 100 * next() : LATE_TOLERANCE_MS * next() * 0.99,
    );
    expect(max).toBeLessThanOrEqual(80);
    // The slots a starved process held are lost: that costs rate, never the cap.
    expect(rate).toBeGreaterThan(0.75 * 80);
  });

  it('high rates: slots already due go together, each within the tolerance of its own start', async () => {
    const time = new FakeTime(() => 4); // a timer fires 4 ms late: 4 slots of ~1 ms are due at once
    const limiter = limiterOn(databaseStore(time), time, 1000);
    const counts: number[] = [];
    let done = false;
    void (async () => {
      let left = 200;
      while (left > 0) {
        const { count } = await limiter.acquire(left);
        counts.push(count);
        left -= count;
      }
      done = true;
    })();
    await time.run(() => done);
    expect(Math.max(...counts)).toBeGreaterThan(1);
    expect(Math.max(...counts)).toBeLessThanOrEqual(Math.ceil(LATE_TOLERANCE_MS / limiter.intervalMs) + 1);
    expect(limiter.lateSends).toBe(0);
  });

  it('stops waiting when aborted, and sends nothing', async () => {
    const time = new FakeTime();
    const store = databaseStore(time);
    const limiter = limiterOn(store, time);
    await store.reserve('n', 40, limiter.intervalMs);
    const controller = new AbortController();
    const acquiring = limiter.acquire(1, controller.signal);
    await new Promise((resolve) => setImmediate(resolve));
    controller.abort();
    await expect(acquiring).rejects.toThrow();
  });

  it('surfaces a failed reservation', async () => {
    const limiter = new PacedLimiter({
      store: { reserve: () => Promise.reject(new Error('database down')) },
      key: 'n',
      maxPerSecond: 80,
    });
    await expect(limiter.acquire(1)).rejects.toThrow('database down');
  });

  it('lets everything through when the cap is lifted', async () => {
    expect(await UNLIMITED.acquire(500)).toEqual({ count: 500, startBy: [] });
  });
});
