import { readFileSync } from 'node:fs';
import os from 'node:os';
import { livePids, readCpuSeconds } from './children.js';
import { sleep } from './util.js';

/**
 * This machine may be shared (other sessions' builds and tests run on the same 2 cores), so every
 * measurement records how much CPU *other* processes used meanwhile: machine busy time from
 * /proc/stat minus the CPU of the bench's own processes (this one and its children).
 */

function machineBusySeconds(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const ticks = line.trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = ticks;
  const hz = 100; // USER_HZ; /proc/stat uses it whatever the kernel's HZ
  const busy = user + nice + system + irq + softirq + steal;
  return { busy: busy / hz, total: (busy + idle + iowait) / hz };
}

function ownCpuSeconds(cache: Map<number, number>): number {
  let sum = 0;
  for (const pid of [process.pid, ...livePids()]) {
    try {
      const seconds = readCpuSeconds(pid);
      cache.set(pid, seconds);
    } catch {
      // exited: keep its last reading
    }
  }
  for (const seconds of cache.values()) sum += seconds;
  return sum;
}

export interface LoadSample {
  /** Average cores used by processes other than the bench's during the interval. */
  otherCores: number;
  /** Average cores used by the bench's processes. */
  ownCores: number;
  seconds: number;
}

/** Starts measuring; the returned function ends the interval and gives the averages. */
export function loadMeter(): () => LoadSample {
  const cache = new Map<number, number>();
  const machine0 = machineBusySeconds();
  const own0 = ownCpuSeconds(cache);
  const wall0 = performance.now();
  // Sample own processes now and then so children killed mid-interval keep a recent reading.
  const timer = setInterval(() => ownCpuSeconds(cache), 250);
  timer.unref();
  return () => {
    clearInterval(timer);
    const machine = machineBusySeconds();
    const own = ownCpuSeconds(cache) - own0;
    const seconds = (performance.now() - wall0) / 1000;
    const busy = machine.busy - machine0.busy;
    return { otherCores: Math.max(0, busy - own) / seconds, ownCores: own / seconds, seconds };
  };
}

/**
 * Waits (at most `maxWaitMs`) for a second in which other processes use less than `threshold`
 * cores, so measurements start on a quiet machine when one comes; says what it found.
 */
export async function waitForQuiet(
  maxWaitMs: number,
  threshold = 0.3,
): Promise<{ isQuiet: boolean; waitedMs: number; otherCores: number }> {
  const started = performance.now();
  let otherCores = 0;
  for (;;) {
    const meter = loadMeter();
    await sleep(1000);
    otherCores = meter().otherCores;
    const waitedMs = performance.now() - started;
    if (otherCores < threshold) return { isQuiet: true, waitedMs, otherCores };
    if (waitedMs >= maxWaitMs) return { isQuiet: false, waitedMs, otherCores };
  }
}

export function cores(): number {
  return os.availableParallelism();
}
