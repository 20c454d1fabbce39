import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import type { FromServer, ToServer } from './protocol.js';

/** Every child the bench started; all are SIGKILLed on exit, whatever the path out. */
const live = new Set<ChildProcess>();

export function track<T extends ChildProcess>(child: T): T {
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}

export function livePids(): number[] {
  return [...live].flatMap((child) =>
    child.pid === undefined || child.exitCode !== null ? [] : [child.pid],
  );
}

export function killAllChildren(): void {
  for (const child of live) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  live.clear();
}

process.once('exit', killAllChildren);

export interface ServerChild {
  readonly pid: number;
  readonly url: string;
  readonly dispatcher: string;
  readonly logFile: string;
  send(message: ToServer): void;
  /** Waits for the next message of `type` from the child (rejects on a `failed` message or exit). */
  next<T extends FromServer['type']>(type: T, timeoutMs: number): Promise<Extract<FromServer, { type: T }>>;
  /** kill -9, and wait until the process is gone. */
  kill9(): Promise<void>;
  /** Graceful close over IPC (falls back to kill -9 after `timeoutMs`). */
  close(timeoutMs?: number): Promise<void>;
  isRunning(): boolean;
}

/**
 * V8 flags for the measured server children, for A/B comparisons (BENCH_SERVER_NODE_FLAGS, space-separated;
 * default none, as `npm start`). Measured 2026-11-30: `--max-semi-space-size=2` brings idle RSS from 140 to
 * 117 MB but costs notify 80 % more CPU per request (0.106 → 0.191 ms), so `npm start` does not use it.
 */
export const SERVER_NODE_FLAGS: readonly string[] = (process.env.BENCH_SERVER_NODE_FLAGS ?? '')
  .split(' ')
  .filter((flag) => flag !== '');

/**
 * Forks a compiled script with an IPC channel, stdout/stderr to `logFile`, and waits for its
 * `ready` message, with SERVER_NODE_FLAGS; `execArgv` can add e.g. --cpu-prof.
 */
export async function startServerChild(options: {
  script: string;
  env: Record<string, string>;
  cwd: string;
  logFile: string;
  execArgv?: string[];
  readyTimeoutMs?: number;
}): Promise<ServerChild> {
  const logFd = openSync(options.logFile, 'a');
  const child = track(
    fork(options.script, [], {
      cwd: options.cwd,
      // Only what the server needs: no inherited DATABASE_URL, WHATSAPP_* or the like from the shell.
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...options.env },
      execArgv: [...SERVER_NODE_FLAGS, ...(options.execArgv ?? [])],
      stdio: ['ignore', logFd, logFd, 'ipc'],
    }),
  );
  closeSync(logFd);
  const inbox: FromServer[] = [];
  const waiters = new Set<() => void>();
  child.on('message', (message: FromServer) => {
    inbox.push(message);
    for (const wake of waiters) wake();
  });
  child.on('exit', () => {
    for (const wake of waiters) wake();
  });

  const next = <T extends FromServer['type']>(type: T, timeoutMs: number) =>
    new Promise<Extract<FromServer, { type: T }>>((resolve, reject) => {
      const check = (): void => {
        const failedIndex = inbox.findIndex((m) => m.type === 'failed');
        if (failedIndex >= 0) {
          const [failed] = inbox.splice(failedIndex, 1);
          finish();
          reject(
            new Error(
              `server child failed: ${failed?.type === 'failed' ? failed.message : ''}\n${logTail(options.logFile)}`,
            ),
          );
          return;
        }
        const index = inbox.findIndex((m) => m.type === type);
        if (index >= 0) {
          const [message] = inbox.splice(index, 1);
          finish();
          resolve(message as Extract<FromServer, { type: T }>);
          return;
        }
        if (child.exitCode !== null || child.signalCode !== null) {
          finish();
          reject(
            new Error(
              `server child exited (${child.exitCode ?? child.signalCode}) before '${type}'\n${logTail(options.logFile)}`,
            ),
          );
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`server child: no '${type}' within ${timeoutMs} ms\n${logTail(options.logFile)}`));
      }, timeoutMs);
      const finish = (): void => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });

  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  const isRunning = (): boolean => child.exitCode === null && child.signalCode === null;
  const kill9 = async (): Promise<void> => {
    if (isRunning()) child.kill('SIGKILL');
    await exited;
  };

  try {
    const ready = await next('ready', options.readyTimeoutMs ?? 60_000);
    return {
      pid: child.pid ?? -1,
      url: ready.url,
      dispatcher: ready.dispatcher,
      logFile: options.logFile,
      send: (message) => {
        child.send(message);
      },
      next,
      kill9,
      isRunning,
      close: async (timeoutMs = 15_000) => {
        if (!isRunning()) return;
        child.send({ type: 'close' } satisfies ToServer);
        const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
        await exited;
        clearTimeout(timer);
      },
    };
  } catch (error) {
    await kill9();
    throw error;
  }
}

function logTail(file: string): string {
  try {
    const text = readFileSync(file, 'utf8');
    return `--- last lines of ${file} ---\n${text.split('\n').slice(-20).join('\n')}`;
  } catch {
    return '';
  }
}

let clockTicks: number | null = null;

function ticksPerSecond(): number {
  if (clockTicks === null) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** VmRSS and VmHWM (peak RSS) of a process, in bytes, from /proc. */
export function readRss(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string): number =>
    Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kb('VmRSS') * 1024, peak: kb('VmHWM') * 1024 };
}

/** CPU seconds (user + system) a process has used so far, from /proc/PID/stat. */
export function readCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start at field 3: utime is 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond();
}

/** Measures a process's CPU use over an interval: call the returned function at the end. */
export function cpuMeter(pid: number): () => { cpuSeconds: number; wallSeconds: number; percent: number } {
  const cpu0 = readCpuSeconds(pid);
  const wall0 = performance.now();
  return () => {
    const cpuSeconds = readCpuSeconds(pid) - cpu0;
    const wallSeconds = (performance.now() - wall0) / 1000;
    return { cpuSeconds, wallSeconds, percent: (100 * cpuSeconds) / wallSeconds };
  };
}
