/**
 * The server under test, run as a child process of the bench (compiled with tsc like `npm start`,
 * run with plain `node`). It does what src/main.ts does — config from the environment, buildApp,
 * listen, start the dispatcher — minus the banner and signal handling, plus an IPC channel so the
 * orchestrator can pre-fill the outbox and start the dispatcher at a moment it times.
 *
 * Extra environment: BENCH_PG_SCHEMA (PostgreSQL schema to use), BENCH_START_DISPATCHER=0 (listen
 * but leave the dispatcher stopped until told).
 */
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config/load-config.js';
import type { NewMessage } from '../src/messages/message.js';
import { createLogger } from '../src/shared/logger.js';
import { releaseStartupMemory } from '../src/shared/release-startup-memory.js';
import type { FromServer, ToServer } from './lib/protocol.js';
import { recipientFor } from './lib/util.js';

function send(message: FromServer): void {
  process.send?.(message);
}

async function main(): Promise<void> {
  const config = loadConfig({ env: process.env, cwd: process.cwd(), readDotenvFiles: false });
  // Like production: JSON lines on stdout (the bench points stdout at a log file).
  const logger = createLogger({ level: config.logLevel });
  const pgSchema = process.env.BENCH_PG_SCHEMA;
  const app = await buildApp({
    config,
    logger,
    apiKeys: config.internalApiKeys,
    version: 'bench',
    ...(pgSchema === undefined || pgSchema === '' ? {} : { pgSchema }),
  });
  const url = await app.http.listen({ port: config.port, host: config.host });
  const startNow = process.env.BENCH_START_DISPATCHER !== '0';
  if (startNow) app.start();
  await releaseStartupMemory();

  // The orchestrator went away (even by kill -9): do not linger.
  process.on('disconnect', () => process.exit(0));
  process.on('message', (raw: ToServer) => {
    void handle(raw).catch((error: unknown) => {
      send({
        type: 'failed',
        message: error instanceof Error ? (error.stack ?? error.message) : String(error),
      });
    });
  });

  async function handle(message: ToServer): Promise<void> {
    switch (message.type) {
      case 'start':
        app.start();
        send({ type: 'started' });
        return;
      case 'prefill': {
        const started = performance.now();
        // Chunks of 5,000 concurrent enqueues: the outbox's group commit writes them 500 per transaction.
        for (let from = 0; from < message.count; from += 5000) {
          const batch: Promise<unknown>[] = [];
          for (let i = from; i < Math.min(message.count, from + 5000); i++) {
            const item: NewMessage = {
              to: recipientFor(i, message.spread),
              message: {
                kind: 'text',
                body: `Bench message ${i}: a new maintenance ticket is waiting for you.`,
              },
            };
            batch.push(app.outbox.enqueue(item));
          }
          await Promise.all(batch);
        }
        send({ type: 'prefilled', count: message.count, ms: performance.now() - started });
        return;
      }
      case 'memory':
        send({ type: 'memory', usage: process.memoryUsage() });
        return;
      case 'close':
        await app.close(5000);
        send({ type: 'closed' });
        process.exit(0);
    }
  }

  send({
    type: 'ready',
    url,
    dispatcher: app.dispatcher === null ? 'none' : startNow ? 'started' : 'not started',
  });
}

main().catch((error: unknown) => {
  send({ type: 'failed', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  process.exitCode = 1;
  setTimeout(() => process.exit(1), 100).unref();
});
