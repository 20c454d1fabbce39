/**
 * A fixed-capacity FIFO. Pushing into a full ring drops the oldest item and returns it, in O(1);
 * used where a Map's own insertion order would be too slow to pop from the front.
 */
export class RingBuffer<T> {
  private readonly items: (T | undefined)[];
  private start = 0;
  private length = 0;

  constructor(readonly capacity: number) {
    this.items = new Array<T | undefined>(capacity);
  }

  /** Adds `item`; returns the item that fell out, if the ring was full (the item itself when capacity is 0). */
  push(item: T): T | undefined {
    if (this.capacity === 0) return item;
    let dropped: T | undefined;
    if (this.length === this.capacity) {
      dropped = this.items[this.start];
      this.items[this.start] = undefined;
      this.start = (this.start + 1) % this.capacity;
      this.length -= 1;
    }
    this.items[(this.start + this.length) % this.capacity] = item;
    this.length += 1;
    return dropped;
  }

  get size(): number {
    return this.length;
  }

  /** The items, oldest first. */
  toArray(): T[] {
    const items: T[] = [];
    for (let index = 0; index < this.length; index += 1) {
      items.push(this.items[(this.start + index) % this.capacity] as T);
    }
    return items;
  }

  clear(): void {
    this.items.fill(undefined);
    this.start = 0;
    this.length = 0;
  }
}
