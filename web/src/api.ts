/**
 * The browser's way to the API: same-origin fetch with the session cookie. The browser adds Origin
 * to every state-changing call, which the server checks (design.md §3). Never an API key here.
 */

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field: string | null,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

type Listener = () => void;
const unauthorizedListeners = new Set<Listener>();

/** Called when any call answers 401: the session is gone, the app shows the login page. */
export function onUnauthorized(listener: Listener): () => void {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const init: RequestInit = { method, credentials: 'same-origin', headers: { accept: 'application/json' } };
  if (body instanceof FormData) init.body = body;
  else if (typeof body === 'string') {
    init.body = body;
    init.headers = { accept: 'application/json', 'content-type': 'text/csv' };
  } else if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers = { accept: 'application/json', 'content-type': 'application/json' };
  }
  let response: Response;
  try {
    response = await fetch(path, init);
  } catch {
    throw new ApiError(0, 'network_error', 'network', null);
  }
  const text = await response.text();
  let json: unknown = null;
  try {
    json = text === '' ? null : JSON.parse(text);
  } catch {
    json = null;
  }
  if (response.ok && isEnvelope(json) && json.success) return json.data as T;
  const error = isEnvelope(json) && !json.success ? json.error : null;
  if (response.status === 401 && !path.startsWith('/api/auth/')) {
    for (const listener of unauthorizedListeners) listener();
  }
  const field = error?.details?.field;
  throw new ApiError(
    response.status,
    error?.code ?? 'http_error',
    error?.message ?? `HTTP ${response.status}`,
    typeof field === 'string' ? field : null,
  );
}

interface Envelope {
  success: boolean;
  data?: unknown;
  error?: { message: string; code: string; details?: Record<string, unknown> };
}

function isEnvelope(value: unknown): value is Envelope {
  return typeof value === 'object' && value !== null && 'success' in value;
}
