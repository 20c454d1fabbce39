/** Messages between the bench orchestrator and a server child (bench/serve.ts) over the IPC channel. */

export type ToServer =
  /** Start the dispatcher (app.start()), as main.ts does right after listening. */
  | { type: 'start' }
  /** Queue `count` text messages through Outbox.enqueue (the API notify uses), `spread` recipients. */
  | { type: 'prefill'; count: number; spread: number }
  /** Report process.memoryUsage(). */
  | { type: 'memory' }
  /** Graceful stop (app.close()), then exit 0 — lets --cpu-prof write its profile. */
  | { type: 'close' };

export type FromServer =
  | { type: 'ready'; url: string; dispatcher: 'started' | 'not started' | 'none' }
  | { type: 'started' }
  | { type: 'prefilled'; count: number; ms: number }
  | { type: 'memory'; usage: NodeJS.MemoryUsage }
  | { type: 'closed' }
  | { type: 'failed'; message: string };
