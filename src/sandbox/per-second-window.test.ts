import { describe, expect, it } from 'vitest';
import { PerSecondWindow } from './per-second-window.js';

describe('PerSecondWindow', () => {
  const counts = () => new PerSecondWindow(3, (second) => ({ second, count: 0 }));

  it('keeps one entry per calendar second, oldest first, and drops seconds older than the window', () => {
    const window = counts();
    window.at(10_000).count += 1;
    window.at(10_999).count += 1;
    window.at(12_500).count += 5;
    expect(window.recent(12_900)).toEqual([
      { second: 10, count: 2 },
      { second: 12, count: 5 },
    ]);
    // Second 13 takes second 10's slot (13 % 3 = 10 % 3) and starts from nothing.
    window.at(13_000).count += 1;
    expect(window.recent(13_000)).toEqual([
      { second: 12, count: 5 },
      { second: 13, count: 1 },
    ]);
    // Out of the window: nothing left by second 17.
    expect(window.recent(17_000)).toEqual([]);
  });

  it('hands out copies, and clear() forgets every second', () => {
    const window = counts();
    window.at(5_000).count = 4;
    const [copy] = window.recent(5_000);
    if (copy !== undefined) copy.count = 99;
    expect(window.recent(5_000)).toEqual([{ second: 5, count: 4 }]);
    window.clear();
    expect(window.recent(5_000)).toEqual([]);
    expect(window.at(5_000)).toEqual({ second: 5, count: 0 });
  });
});
