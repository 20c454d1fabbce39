/**
 * Runs the real service (src/main.ts through tsx) as a child process, for tests that must kill it
 * (SIGKILL) or restart it. Each child leads its own process group, so a kill reaches anything it
 * started; every child still running is ended by `stopAllChildServers()` (call it in afterAll).
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Environment variables passed through from the test process; everything else is given explicitly. */
const INHERITED_ENV = ['PATH', 'HOME', 'TMPDIR', 'LANG', 'TZ'];
const OUTPUT_LIMIT = 64 * 1024;

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ChildServer {
  readonly pid: number;
  readonly port: number;
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  /** Resolves when the process has exited (never rejects). */
  readonly exited: Promise<ChildExit>;
  readonly hasExited: boolean;
  /** The last 64 KB of its stdout and stderr, for failure messages. */
  output(): string;
  /** Sends `signal` to the child's process group at once (synchronous; no-op once it has exited). */
  signal(signal: NodeJS.Signals): void;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves on exit. */
  stop(graceMs?: number): Promise<ChildExit>;
}

const running = new Set<ChildServer>();

/** A port that was free a moment ago (listen on 0, read it, close). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no port assigned'))));
    });
  });
}

/**
 * Starts `node --import tsx src/main.ts` with `env` (plus PORT and HOST) and resolves once `/readyz`
 * answers 200. Retries with another port if the chosen one was taken in the meantime.
 */
export async function startChildServer(options: {
  env: Record<string, string>;
  readyTimeoutMs?: number;
}): Promise<ChildServer> {
  const readyTimeoutMs = options.readyTimeoutMs ?? 30_000;
  for (let attempt = 1; ; attempt++) {
    const child = spawnServer(await freePort(), options.env);
    try {
      await waitUntilReady(child, readyTimeoutMs);
      return child;
    } catch (error) {
      await child.stop(1000);
      if (attempt < 3 && child.output().includes('EADDRINUSE')) continue;
      throw error;
    }
  }
}

/** Ends every child started here that is still running (SIGTERM, then SIGKILL). */
export async function stopAllChildServers(graceMs = 5000): Promise<void> {
  await Promise.all([...running].map((child) => child.stop(graceMs)));
}

function spawnServer(port: number, env: Record<string, string>): ChildServer {
  const inherited = Object.fromEntries(
    INHERITED_ENV.flatMap((name) => (process.env[name] === undefined ? [] : [[name, process.env[name]]])),
  ) as Record<string, string>;
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: REPO_ROOT,
    env: { ...inherited, ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  const collect = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-OUTPUT_LIMIT);
  };
  proc.stdout.on('data', collect);
  proc.stderr.on('data', collect);

  let hasExited = false;
  const exited = new Promise<ChildExit>((resolve) => {
    proc.once('exit', (code, signal) => {
      hasExited = true;
      running.delete(server);
      resolve({ code, signal });
    });
    proc.once('error', (error) => {
      collect(Buffer.from(`spawn error: ${error.message}\n`));
      hasExited = true;
      running.delete(server);
      resolve({ code: null, signal: null });
    });
  });
  const pid = proc.pid ?? -1;

  const sendSignal = (signal: NodeJS.Signals): void => {
    if (hasExited || pid <= 0) return;
    try {
      process.kill(-pid, signal); // the whole group: the server and anything it spawned
    } catch {
      try {
        proc.kill(signal);
      } catch {
        // already gone
      }
    }
  };

  const server: ChildServer = {
    pid,
    port,
    url: `http://127.0.0.1:${port}`,
    exited,
    get hasExited() {
      return hasExited;
    },
    output: () => output,
    signal: sendSignal,
    async stop(graceMs = 5000) {
      if (hasExited) return exited;
      sendSignal('SIGTERM');
      const timer = setTimeout(() => sendSignal('SIGKILL'), graceMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
  running.add(server);
  return server;
}

async function waitUntilReady(child: ChildServer, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.hasExited) {
      const { code, signal } = await child.exited;
      throw new Error(
        `server exited before it was ready (code ${code}, signal ${signal}):\n${child.output()}`,
      );
    }
    try {
      const response = await fetch(`${child.url}/readyz`, { signal: AbortSignal.timeout(2000) });
      await response.arrayBuffer();
      if (response.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`server not ready within ${timeoutMs} ms:\n${child.output()}`);
}
