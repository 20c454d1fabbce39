/**
 * Group commit: items pushed while a flush runs are written together by the next flush, so many
 * concurrent requests share one transaction. Each push resolves with its own result.
 */
export class BatchQueue<T, R> {
  private pending: { item: T; resolve: (r: R) => void; reject: (e: unknown) => void }[] = [];
  private isFlushing = false;
  private isScheduled = false;

  constructor(
    private readonly flush: (items: T[]) => Promise<R[]>,
    private readonly maxBatch = 500,
  ) {}

  push(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.isFlushing || this.isScheduled) return;
    this.isScheduled = true;
    setImmediate(() => {
      this.isScheduled = false;
      void this.run();
    });
  }

  private async run(): Promise<void> {
    if (this.isFlushing || this.pending.length === 0) return;
    this.isFlushing = true;
    const batch = this.pending.splice(0, this.maxBatch);
    try {
      const results = await this.flush(batch.map((entry) => entry.item));
      batch.forEach((entry, index) => entry.resolve(results[index] as R));
    } catch (error) {
      for (const entry of batch) entry.reject(error);
    } finally {
      this.isFlushing = false;
      if (this.pending.length > 0) this.schedule();
    }
  }
}
