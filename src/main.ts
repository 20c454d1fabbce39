/**
 * The process: load config, build the app, listen, start the dispatcher, stop gracefully on
 * SIGTERM/SIGINT. The only module that reads the environment or exits.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import closeWithGrace from 'close-with-grace';
import { buildApp } from './app.js';
import { ConfigError, loadConfig, type Config } from './config/load-config.js';
import { createLogger } from './shared/logger.js';
import { releaseStartupMemory } from './shared/release-startup-memory.js';
import type { FirstAdmin } from './auth/ensure-first-admin.js';

const VERSION = '0.1.0';

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig({ env: process.env, cwd: process.cwd() });
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`Configuration error: ${error.message}\n`);
      process.exit(78);
    }
    throw error;
  }
  const logger = createLogger({ level: config.logLevel, pretty: process.stdout.isTTY });
  const { keys, keyFile } = resolveApiKeys(config);
  const app = await buildApp({ config, logger, apiKeys: keys, version: VERSION, webRoot: builtWebRoot() });

  closeWithGrace({ delay: 20_000 }, async ({ signal, err }) => {
    if (err !== undefined) logger.error({ event: 'server.crashed', err }, 'stopping after an error');
    logger.info({ event: 'server.stopping', signal }, 'stopping: finishing sends in flight');
    await app.close(15_000);
  });

  const url = await app.http.listen({ port: config.port, host: config.host });
  app.start();
  logger.info(
    { event: 'server.started', url, mode: config.whatsapp.mode, database: app.database.description },
    'listening',
  );
  process.stdout.write(
    banner({
      config,
      url,
      databaseDescription: app.database.description,
      keyFile,
      sandboxUrl: app.sandboxUrl,
      firstAdmin: app.firstAdmin,
    }),
  );
  await releaseStartupMemory();
}

/** dist/web of this checkout, whether running from dist/src/main.js or (tsx) src/main.ts. */
function builtWebRoot(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const root = path.basename(here) === 'src' && path.basename(path.dirname(here)) === 'dist' ? '../..' : '..';
  return path.resolve(here, root, 'dist', 'web');
}

/** Outside production a missing INTERNAL_API_KEY is generated once and kept in DATA_DIR (never printed). */
function resolveApiKeys(config: Config): { keys: readonly string[]; keyFile: string | null } {
  if (config.internalApiKeys.length > 0) return { keys: config.internalApiKeys, keyFile: null };
  const keyFile = path.join(config.dataDir, 'internal-api-key');
  if (!existsSync(keyFile)) {
    mkdirSync(config.dataDir, { recursive: true });
    writeFileSync(keyFile, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
  }
  chmodSync(keyFile, 0o600);
  return { keys: [readFileSync(keyFile, 'utf8').trim()], keyFile };
}

function banner(input: {
  config: Config;
  url: string;
  databaseDescription: string;
  keyFile: string | null;
  sandboxUrl: string | null;
  firstAdmin: FirstAdmin;
}): string {
  const { config, keyFile } = input;
  const shown = config.appOrigin;
  const keyLine =
    keyFile === null
      ? 'API key   INTERNAL_API_KEY'
      : `API key   generated for development: x-api-key: $(cat ${path.relative(process.cwd(), keyFile)})`;
  const modeLine =
    config.whatsapp.mode === 'sandbox'
      ? 'WhatsApp  sandbox (built-in emulator; nothing leaves this machine)'
      : `WhatsApp  cloud ${config.whatsapp.apiUrl} ${config.whatsapp.apiVersion}`;
  const lines = [
    '',
    `KeyhomeKey Dispatch ${VERSION}`,
    `URL       ${shown} (listening on ${input.url})`,
    modeLine,
    `Database  ${input.databaseDescription}`,
    keyLine,
    `Web app   ${shown} (log in there)`,
    `API docs  ${shown}/docs`,
  ];
  const admin = input.firstAdmin;
  if (admin.created) {
    lines.push(
      admin.generatedPassword === null
        ? `Admin     created ${admin.email} with ADMIN_PASSWORD`
        : `Admin     created ${admin.email}  password: ${admin.generatedPassword}  (shown once: keep it now)`,
    );
  }
  if (config.whatsapp.mode === 'sandbox') {
    lines.push(`Inbox     ${shown}/api/sandbox/inbox  (one number: ${shown}/api/sandbox/inbox/573103055424)`);
  }
  return `${lines.join('\n')}\n\n`;
}

main().catch((error: unknown) => {
  const cause = error instanceof Error && error.cause instanceof Error ? ` (${error.cause.message})` : '';
  process.stderr.write(
    `Failed to start: ${error instanceof Error ? error.message : String(error)}${cause}\n`,
  );
  process.exit(1);
});
