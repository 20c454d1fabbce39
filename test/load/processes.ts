/**
 * Child processes for the load scenarios: the real service (src/main.ts) and the standalone sandbox
 * (src/sandbox/main.ts), both through tsx, on ports chosen by the caller (so the sandbox can be told
 * where the service's webhook is before the service starts). Each child leads its own process group
 * and writes its output to a log file; `stopAllLoadProcesses()` ends whatever is still running.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { REPO_ROOT } from '../helpers/child-server.js';

export { freePort } from '../helpers/child-server.js';

const INHERITED_ENV = ['PATH', 'HOME', 'TMPDIR', 'LANG', 'TZ'];

export interface LoadProcess {
  readonly name: string;
  readonly pid: number;
  readonly url: string;
  readonly logFile: string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly hasExited: boolean;
  /** SIGKILL the whole group at once; resolves on exit. */
  kill9(): Promise<void>;
  /** SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
  logTail(lines?: number): string;
}

const running = new Set<LoadProcess>();

export async function stopAllLoadProcesses(graceMs = 5000): Promise<void> {
  await Promise.all([...running].map((child) => child.stop(graceMs)));
}

/** `src/main.ts` on 127.0.0.1:`port`; resolves once `/readyz` answers 200. */
export function startServerProcess(options: {
  name: string;
  port: number;
  env: Record<string, string>;
  logFile: string;
  readyTimeoutMs?: number;
}): Promise<LoadProcess> {
  return startProcess({
    ...options,
    script: 'src/main.ts',
    env: { ...options.env, PORT: String(options.port), HOST: '127.0.0.1' },
    readyPath: '/readyz',
  });
}

/**
 * `src/sandbox/main.ts` (`npm run sandbox`) on 127.0.0.1:`port`; resolves once `/sandbox/stats` answers.
 * `niceness` (e.g. -10) starts it through `nice`, ahead of the processes it measures; without the right
 * to raise a priority, `nice` warns in the log and runs it at the usual one (its stats tell which).
 */
export function startSandboxProcess(options: {
  name: string;
  port: number;
  env: Record<string, string>;
  logFile: string;
  readyTimeoutMs?: number;
  niceness?: number;
}): Promise<LoadProcess> {
  return startProcess({
    ...options,
    script: 'src/sandbox/main.ts',
    env: { ...options.env, SANDBOX_PORT: String(options.port), SANDBOX_HOST: '127.0.0.1' },
    readyPath: '/sandbox/stats',
  });
}

/** A process's scheduling priority (nice), or null when it cannot be read (gone, or not ours to see). */
export function nicenessOf(pid: number): number | null {
  try {
    return os.getPriority(pid);
  } catch {
    return null;
  }
}

async function startProcess(options: {
  name: string;
  script: string;
  port: number;
  env: Record<string, string>;
  logFile: string;
  readyPath: string;
  readyTimeoutMs?: number;
  niceness?: number;
}): Promise<LoadProcess> {
  const inherited = Object.fromEntries(
    INHERITED_ENV.flatMap((name) => (process.env[name] === undefined ? [] : [[name, process.env[name]]])),
  ) as Record<string, string>;
  const logFd = openSync(options.logFile, 'a');
  const node = [process.execPath, '--import', 'tsx', options.script];
  // `nice` execs the command, so the pid is still the child's; every thread it starts inherits the priority.
  const command =
    options.niceness === undefined || process.platform === 'win32'
      ? node
      : ['nice', '-n', String(options.niceness), ...node];
  const [file = process.execPath, ...args] = command;
  const proc = spawn(file, args, {
    cwd: REPO_ROOT,
    env: { ...inherited, ...options.env },
    stdio: ['ignore', logFd, logFd],
    detached: true,
  });
  closeSync(logFd);
  let hasExited = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    proc.once('exit', (code, signal) => {
      hasExited = true;
      running.delete(child);
      resolve({ code, signal });
    });
    proc.once('error', () => {
      hasExited = true;
      running.delete(child);
      resolve({ code: null, signal: null });
    });
  });
  const pid = proc.pid ?? -1;
  const signal = (name: NodeJS.Signals): void => {
    if (hasExited || pid <= 0) return;
    try {
      process.kill(-pid, name);
    } catch {
      try {
        proc.kill(name);
      } catch {
        // already gone
      }
    }
  };
  const logTail = (lines = 30): string => {
    try {
      return readFileSync(options.logFile, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  };
  const child: LoadProcess = {
    name: options.name,
    pid,
    url: `http://127.0.0.1:${options.port}`,
    logFile: options.logFile,
    exited,
    get hasExited() {
      return hasExited;
    },
    kill9: async () => {
      signal('SIGKILL');
      await exited;
    },
    stop: async (graceMs = 5000) => {
      if (hasExited) return;
      signal('SIGTERM');
      const timer = setTimeout(() => signal('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
    logTail,
  };
  running.add(child);

  const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000);
  while (Date.now() < deadline) {
    if (hasExited) throw new Error(`${options.name} exited before it was ready:\n${logTail()}`);
    try {
      const response = await fetch(`${child.url}${options.readyPath}`, { signal: AbortSignal.timeout(2000) });
      await response.arrayBuffer();
      if (response.status === 200) return child;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await child.kill9();
  throw new Error(`${options.name} not ready in time:\n${logTail()}`);
}
