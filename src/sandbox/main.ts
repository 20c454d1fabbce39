/**
 * `npm run sandbox`: the Cloud API emulator on its own. The one file in src/sandbox that reads the
 * environment: SANDBOX_PORT (3100), SANDBOX_HOST (127.0.0.1), SANDBOX_TOKENS (comma-separated,
 * default `sandbox-token`), SANDBOX_MAX_MPS (0 = unlimited), SANDBOX_LATENCY_MS (0), and for the
 * reply leg SANDBOX_WEBHOOK_URL (the service's webhook endpoint; unset = no webhooks),
 * SANDBOX_APP_SECRET (required with the URL: signs the webhooks), SANDBOX_WEBHOOK_CONCURRENCY (POSTs
 * in flight, default 4), SANDBOX_WEBHOOK_BATCH (statuses per POST at most, as Meta batches under load;
 * 0 = one status per webhook, the default) with SANDBOX_WEBHOOK_BATCH_MS (how long a batch waits to
 * fill, default 50), and SANDBOX_ENFORCE_WINDOW (`true`/`false`, default false: 131047 for free-form
 * messages outside the 24-hour window). Its stats report its event-loop lag and scheduling priority.
 */
import os from 'node:os';
import type { SandboxWebhookOptions } from './build-sandbox.js';
import { EventLoopLagMonitor } from './event-loop-lag.js';
import { startSandbox } from './start-sandbox.js';

function readInteger(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) {
    throw new Error(`${name} must be a whole number >= 0, got "${raw}"`);
  }
  return value;
}

function readBoolean(name: string, fallback: boolean): boolean {
  const raw = process.env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (['true', '1', 'yes', 'on'].includes(raw)) return true;
  if (['false', '0', 'no', 'off'].includes(raw)) return false;
  throw new Error(`${name} must be true or false, got "${process.env[name]}"`);
}

function readWebhook(): SandboxWebhookOptions | undefined {
  const url = process.env.SANDBOX_WEBHOOK_URL?.trim();
  if (url === undefined || url === '') return undefined;
  const appSecret = process.env.SANDBOX_APP_SECRET ?? '';
  if (appSecret === '') throw new Error('SANDBOX_APP_SECRET is required when SANDBOX_WEBHOOK_URL is set');
  const concurrency = readInteger('SANDBOX_WEBHOOK_CONCURRENCY', 0);
  const batch = readInteger('SANDBOX_WEBHOOK_BATCH', 0);
  return {
    url,
    appSecret,
    ...(concurrency > 0 ? { concurrency } : {}),
    ...(batch > 1
      ? { statusBatch: { maxStatuses: batch, maxWaitMs: readInteger('SANDBOX_WEBHOOK_BATCH_MS', 50) } }
      : {}),
  };
}

function niceness(): number | null {
  try {
    return os.getPriority();
  } catch {
    return null;
  }
}

async function main(): Promise<void> {
  const tokens = (process.env.SANDBOX_TOKENS ?? 'sandbox-token')
    .split(',')
    .map((token) => token.trim())
    .filter((token) => token.length > 0);
  const webhook = readWebhook();
  // The stats report how late this process's event loop ran and at which priority it ran: a counter
  // that stalls counts late, so a reader can tell a real excess from a starved instrument.
  const eventLoop = new EventLoopLagMonitor({ clock: Date.now });
  eventLoop.start();
  // Node loads its HTTP client on the first fetch (~300 ms of compiling on a loaded machine): do it
  // now, not in the middle of the first sends (the first status webhook would stall their counting).
  if (webhook) await (await fetch('data:,')).text();
  const sandbox = await startSandbox({
    instrument: { eventLoop, niceness },
    port: readInteger('SANDBOX_PORT', 3100),
    host: process.env.SANDBOX_HOST ?? '127.0.0.1',
    tokens: tokens.length > 0 ? tokens : ['sandbox-token'],
    maxMps: readInteger('SANDBOX_MAX_MPS', 0),
    latencyMs: readInteger('SANDBOX_LATENCY_MS', 0),
    enforceWindow: readBoolean('SANDBOX_ENFORCE_WINDOW', false),
    ...(webhook ? { webhook } : {}),
  });
  // eslint-disable-next-line no-console
  console.log(`WhatsApp Cloud API sandbox listening on ${sandbox.url} (inbox: ${sandbox.url}/sandbox/inbox)`);
  // eslint-disable-next-line no-console
  console.log(`pid ${process.pid}, nice ${String(niceness())}`);
  // eslint-disable-next-line no-console
  console.log(
    webhook
      ? `Webhooks go to ${String(sandbox.state.webhooks?.url)} (log: ${sandbox.url}/sandbox/webhooks)`
      : 'No SANDBOX_WEBHOOK_URL: no status or reply webhooks are sent',
  );

  let closing = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (closing) return;
    closing = true;
    sandbox.close().then(
      () => process.exit(0),
      (error: unknown) => {
        // eslint-disable-next-line no-console
        console.error(`sandbox: failed to close after ${signal}:`, error);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((error: unknown) => {
  // eslint-disable-next-line no-console
  console.error('sandbox:', error instanceof Error ? error.message : error);
  process.exit(1);
});
