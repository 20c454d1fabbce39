import { describe, expect, it } from 'vitest';
import { grantSize, MemorySlotStore, PacedLimiter, UNLIMITED } from './throughput-limiter.js';

describe('throughput limiter', () => {
  it('grants small groups so a second never bursts far past the cap', () => {
    expect(grantSize(80)).toBe(4);
    expect(grantSize(1000)).toBe(50);
    expect(grantSize(10)).toBe(1);
  });

  it('reserves consecutive slots: 80/s means one every 12.5 ms, never two in the same slot', async () => {
    const store = new MemorySlotStore();
    expect(await store.reserve('n', 4, 12.5, 1000)).toBe(1000);
    expect(await store.reserve('n', 4, 12.5, 1000)).toBe(1050);
    expect(await store.reserve('n', 4, 12.5, 1010)).toBe(1100);
    // After an idle spell the schedule restarts at "now"; nothing is saved up for a burst.
    expect(await store.reserve('n', 1, 12.5, 5000)).toBe(5000);
    expect(await store.reserve('other', 1, 12.5, 1000)).toBe(1000);
  });

  it('moves the shared schedule one interval forward per granted send', async () => {
    const store = new MemorySlotStore();
    const limiter = new PacedLimiter(store, 'n', 1000, () => 0);
    let granted = 0;
    while (granted < 100) granted += await limiter.acquire(100 - granted);
    expect(granted).toBe(100);
    expect(await store.reserve('n', 1, 1, 0)).toBe(100);
  });

  it('lets everything through when the cap is lifted', async () => {
    expect(await UNLIMITED.acquire(500)).toBe(500);
  });
});
