import { describe, expect, it } from 'vitest';
import { BatchQueue } from './batch-queue.js';

describe('BatchQueue', () => {
  it('writes items pushed together in one flush and resolves each with its own result', async () => {
    const flushes: number[][] = [];
    const queue = new BatchQueue<number, string>((items) => {
      flushes.push(items);
      return Promise.resolve(items.map((n) => `#${n}`));
    });
    const results = await Promise.all([1, 2, 3].map((n) => queue.push(n)));
    expect(results).toEqual(['#1', '#2', '#3']);
    expect(flushes).toEqual([[1, 2, 3]]);
  });

  it('groups what arrives during a flush into the next one', async () => {
    const flushes: number[][] = [];
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const queue = new BatchQueue<number, number>(async (items) => {
      flushes.push(items);
      if (flushes.length === 1) await gate;
      return items;
    });
    const first = queue.push(1);
    await new Promise((resolve) => setImmediate(resolve));
    const later = [queue.push(2), queue.push(3)];
    release();
    await Promise.all([first, ...later]);
    expect(flushes).toEqual([[1], [2, 3]]);
  });

  it('rejects every item of a failed flush, and keeps working afterwards', async () => {
    let shouldFail = true;
    const queue = new BatchQueue<number, number>((items) =>
      shouldFail ? Promise.reject(new Error('disk full')) : Promise.resolve(items),
    );
    const failed = await Promise.allSettled([queue.push(1), queue.push(2)]);
    expect(failed.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    shouldFail = false;
    await expect(queue.push(3)).resolves.toBe(3);
  });

  it('never puts more than maxBatch items in one flush', async () => {
    const sizes: number[] = [];
    const queue = new BatchQueue<number, number>((items) => {
      sizes.push(items.length);
      return Promise.resolve(items);
    }, 2);
    await Promise.all([1, 2, 3, 4, 5].map((n) => queue.push(n)));
    expect(sizes).toEqual([2, 2, 1]);
  });
});
