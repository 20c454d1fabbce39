import { describe, expect, it } from 'vitest';
import { RingBuffer } from './ring-buffer.js';

describe('RingBuffer', () => {
  it('drops and returns the oldest item once full, wrapping around', () => {
    const ring = new RingBuffer<number>(3);
    expect([1, 2, 3].map((item) => ring.push(item))).toEqual([undefined, undefined, undefined]);
    expect([4, 5, 6, 7].map((item) => ring.push(item))).toEqual([1, 2, 3, 4]);
    expect(ring.size).toBe(3);
    expect(ring.toArray()).toEqual([5, 6, 7]);
    ring.clear();
    expect(ring.toArray()).toEqual([]);
    expect(ring.push(8)).toBeUndefined();
  });

  it('keeps nothing with capacity 0', () => {
    expect(new RingBuffer<string>(0).push('a')).toBe('a');
  });
});
