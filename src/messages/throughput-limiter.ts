import type pg from 'pg';
import {
  RateLimiterMemory,
  RateLimiterPostgres,
  RateLimiterRes,
  type RateLimiterAbstract,
} from 'rate-limiter-flexible';

/**
 * Caps sends per second per business number (WHATSAPP_MAX_MPS). `acquire(n)` resolves with how many
 * sends (1..n) may start now, waiting while the current one-second window is used up. On PostgreSQL
 * the counter lives in the database, so every process sharing it shares one cap.
 */
export interface ThroughputLimiter {
  acquire(max: number, signal?: AbortSignal): Promise<number>;
}

export const UNLIMITED: ThroughputLimiter = { acquire: (max) => Promise.resolve(max) };

export function createThroughputLimiter(options: {
  maxPerSecond: number;
  key: string;
  pgPool: pg.Pool | null;
}): Promise<ThroughputLimiter> {
  if (options.maxPerSecond <= 0) return Promise.resolve(UNLIMITED);
  const common = { points: options.maxPerSecond, duration: 1, keyPrefix: 'wa_mps' };
  if (options.pgPool === null) {
    return Promise.resolve(
      new WindowLimiter(new RateLimiterMemory(common), options.key, options.maxPerSecond),
    );
  }
  const pool = options.pgPool;
  return new Promise((resolve, reject) => {
    const limiter: RateLimiterPostgres = new RateLimiterPostgres(
      { ...common, storeClient: pool, tableName: 'throughput_limits', clearExpiredByTimeout: false },
      (error?: unknown) => {
        if (error !== undefined && error !== null)
          reject(new Error('could not create the throughput_limits table', { cause: error }));
        else resolve(new WindowLimiter(limiter, options.key, options.maxPerSecond));
      },
    );
  });
}

class WindowLimiter implements ThroughputLimiter {
  constructor(
    private readonly limiter: RateLimiterAbstract,
    private readonly key: string,
    private readonly points: number,
  ) {}

  async acquire(max: number, signal?: AbortSignal): Promise<number> {
    for (;;) {
      signal?.throwIfAborted();
      const current = await this.limiter.get(this.key);
      const remaining = current === null ? this.points : current.remainingPoints;
      if (remaining > 0) {
        const wanted = Math.min(max, remaining);
        try {
          await this.limiter.consume(this.key, wanted);
          return wanted;
        } catch (rejection) {
          // Another process took the points first; its over-consumption only shortens this window.
          if (!(rejection instanceof RateLimiterRes)) throw rejection;
          await sleep(Math.max(rejection.msBeforeNext, 5), signal);
          continue;
        }
      }
      await sleep(Math.max(current?.msBeforeNext ?? 5, 5), signal);
    }
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
