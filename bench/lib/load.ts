import autocannon, { type Instance, type Request, type Result } from 'autocannon';

export interface LoadOptions {
  url: string;
  path: string;
  connections: number;
  /** Seconds; ignored when `amount` is set. */
  durationSec?: number;
  /** Total requests to send instead of a duration. */
  amount?: number;
  headers: Record<string, string>;
  body: string;
  /** Per-response hook (costs the load generator a body read per response: use only when needed). */
  onResponse?: Request['onResponse'];
  /** Hard stop after this many seconds whatever else happens (default: duration + 30 s, or 300 s). */
  maxSec?: number;
  /** Called with the running instance (e.g. to stop it early). */
  onStart?: (instance: Instance) => void;
}

export interface LoadResult {
  /** autocannon's mean of its per-second request counts. */
  requestsPerSec: number;
  latencyP50: number;
  latencyP99: number;
  latencyMax: number;
  latencyMean: number;
  count2xx: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
  durationSec: number;
  /** Responses received (autocannon's requests.total). */
  completed: number;
}

export function assertLoopback(url: string): void {
  const host = new URL(url).hostname;
  if (host !== '127.0.0.1' && host !== 'localhost' && host !== '[::1]') {
    throw new Error(`load is only ever sent to this machine, not ${host}`);
  }
}

/** Runs autocannon (programmatic API, POST with a JSON body) and keeps the figures the report needs. */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  assertLoopback(options.url);
  const request: Request = {
    method: 'POST',
    path: options.path,
    headers: { 'content-type': 'application/json', ...options.headers },
    body: options.body,
    ...(options.onResponse === undefined ? {} : { onResponse: options.onResponse }),
  };
  const instance = autocannon({
    url: options.url,
    connections: options.connections,
    ...(options.amount === undefined ? { duration: options.durationSec ?? 10 } : { amount: options.amount }),
    timeout: 10,
    requests: [request],
  });
  options.onStart?.(instance);
  const maxSec = options.maxSec ?? (options.amount === undefined ? (options.durationSec ?? 10) + 30 : 300);
  const guard = setTimeout(() => instance.stop(), maxSec * 1000);
  try {
    const result: Result = await instance;
    return summarize(result);
  } finally {
    clearTimeout(guard);
  }
}

function summarize(result: Result): LoadResult {
  return {
    requestsPerSec: result.requests.average,
    latencyP50: result.latency.p50,
    latencyP99: result.latency.p99,
    latencyMax: result.latency.max,
    latencyMean: result.latency.average,
    count2xx: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes: Object.fromEntries(
      Object.entries(result.statusCodeStats).map(([code, s]) => [code, Number(s.count)]),
    ),
    durationSec: result.duration,
    completed: result.requests.total,
  };
}
