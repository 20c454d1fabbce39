import { describe, expect, it } from 'vitest';
import { EventLoopLagMonitor } from './event-loop-lag.js';

/** A fixed instant in the middle of a second. */
const T0 = 1_780_000_000_500;

function monitorWithClocks(): {
  monitor: EventLoopLagMonitor;
  advance: (ms: number) => void;
} {
  let monotonic = 0;
  let wall = T0;
  const monitor = new EventLoopLagMonitor({
    clock: () => wall,
    monotonic: () => monotonic,
    resolutionMs: 10,
  });
  return {
    monitor,
    advance: (ms) => {
      monotonic += ms;
      wall += ms;
    },
  };
}

describe('EventLoopLagMonitor', () => {
  it('measures how late each tick ran after the previous one, per calendar second', () => {
    const { monitor, advance } = monitorWithClocks();
    monitor.start();
    monitor.stop(); // only its clock reading matters: ticks are driven by hand below
    advance(10);
    monitor.tick(); // on time
    advance(13);
    monitor.tick(); // 3 ms late
    advance(10);
    monitor.tick();
    advance(500); // a 490 ms stall, ending in the next calendar second
    monitor.tick();

    const snapshot = monitor.snapshot(T0 + 533);
    expect(snapshot).toMatchObject({ resolutionMs: 10, ticks: 4, maxMs: 490 });
    expect(snapshot.perSecond).toEqual([
      { second: Math.floor(T0 / 1000), maxMs: 3 },
      { second: Math.floor(T0 / 1000) + 1, maxMs: 490 },
    ]);
    expect(snapshot.meanMs).toBeCloseTo(493 / 4, 3);
    expect(snapshot.p50Ms).toBeLessThanOrEqual(0.5);
    expect(snapshot.p99Ms).toBe(490);
  });

  it('puts p99 in the lag bucket that holds the 99th percentile, never above the max', () => {
    const { monitor } = monitorWithClocks();
    for (let index = 0; index < 98; index++) monitor.record(1, T0);
    monitor.record(20, T0);
    monitor.record(20.2, T0);
    const snapshot = monitor.snapshot(T0);
    expect(snapshot.p50Ms).toBe(1.5); // the bucket [1, 1.5) ms
    expect(snapshot.p99Ms).toBe(20.2); // the bucket [20, 20.5) ms, capped at the max seen
    expect(snapshot.maxMs).toBe(20.2);
  });

  it('forgets everything on reset, and seconds older than its window', () => {
    const { monitor } = monitorWithClocks();
    monitor.record(40, T0);
    expect(monitor.snapshot(T0 + 200_000).perSecond).toEqual([]);
    monitor.reset();
    expect(monitor.snapshot(T0)).toMatchObject({ ticks: 0, maxMs: 0, p99Ms: 0, meanMs: 0, perSecond: [] });
  });

  it('ticks on a real timer once started, and stops', async () => {
    const monitor = new EventLoopLagMonitor({ clock: Date.now, resolutionMs: 5 });
    monitor.start();
    await new Promise((resolve) => setTimeout(resolve, 60));
    monitor.stop();
    const ticks = monitor.snapshot(Date.now()).ticks;
    expect(ticks).toBeGreaterThan(0);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(monitor.snapshot(Date.now()).ticks).toBe(ticks);
  });
});
