/**
 * `npm run sandbox`: the Cloud API emulator on its own. The one file in src/sandbox that reads the
 * environment: SANDBOX_PORT (3100), SANDBOX_HOST (127.0.0.1), SANDBOX_TOKENS (comma-separated,
 * default `sandbox-token`), SANDBOX_MAX_MPS (0 = unlimited), SANDBOX_LATENCY_MS (0).
 */
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

async function main(): Promise<void> {
  const tokens = (process.env.SANDBOX_TOKENS ?? 'sandbox-token')
    .split(',')
    .map((token) => token.trim())
    .filter((token) => token.length > 0);
  const sandbox = await startSandbox({
    port: readInteger('SANDBOX_PORT', 3100),
    host: process.env.SANDBOX_HOST ?? '127.0.0.1',
    tokens: tokens.length > 0 ? tokens : ['sandbox-token'],
    maxMps: readInteger('SANDBOX_MAX_MPS', 0),
    latencyMs: readInteger('SANDBOX_LATENCY_MS', 0),
  });
  // eslint-disable-next-line no-console
  console.log(`WhatsApp Cloud API sandbox listening on ${sandbox.url} (inbox: ${sandbox.url}/sandbox/inbox)`);

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
