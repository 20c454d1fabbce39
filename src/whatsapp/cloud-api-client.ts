import { Agent, DecoratorHandler, request as undiciRequest, type Dispatcher } from 'undici';
import { toWireSendRequest } from './outgoing-message.js';
import type {
  MediaUpload,
  SendFailure,
  SendRequest,
  SendResult,
  UploadResult,
  WhatsAppClient,
} from './whatsapp-client.js';

export { validateOutgoingMessage, MESSAGE_LIMITS } from './outgoing-message.js';

export interface CloudApiClientOptions {
  /** e.g. `https://graph.facebook.com` (a trailing slash is tolerated). */
  baseUrl: string;
  /** e.g. `v24.0`. */
  apiVersion: string;
  /** Graph ID of the business phone number, not the number itself. */
  phoneNumberId: string;
  token: string;
  /** Budget for the whole call: connect, send, and reading the answer. */
  timeoutMs: number;
  /** Replaces the HTTP transport for every call (tests); by default sends go through a keep-alive pool. */
  fetch?: typeof fetch;
}

interface GraphEndpoint {
  url: string;
  token: string;
  timeoutMs: number;
  fetch: typeof fetch;
  /** undici pool for JSON sends: about a third of global fetch's CPU per request (BENCHMARKS.md, diag). */
  pool: Dispatcher | null;
}

interface GraphRequest {
  body: string | FormData;
  contentType?: string;
}

type GraphCallResult = { ok: true; httpStatus: number; body: unknown } | { ok: false; failure: SendFailure };

type FailureFields = Pick<SendFailure, 'kind' | 'message'> & Partial<SendFailure>;

/** The production adapter of `WhatsAppClient`: Meta's Graph API over `fetch`. Never throws once created. */
export function createCloudApiClient(options: CloudApiClientOptions): WhatsAppClient {
  assertUsableOptions(options);
  const messagesEndpoint = graphEndpoint(options, 'messages');
  const mediaEndpoint = graphEndpoint(options, 'media');

  return {
    async sendMessage(request: SendRequest): Promise<SendResult> {
      const body = JSON.stringify(toWireSendRequest(request));
      const startBy = request.startBy ?? Number.POSITIVE_INFINITY;
      let result: GraphCallResult;
      if (messagesEndpoint.pool !== null) {
        result = await postJsonWithPool(messagesEndpoint, messagesEndpoint.pool, body, startBy);
      } else if (performance.now() > startBy) {
        // A replaced transport (tests) cannot tell when the request is written: checked just before instead.
        result = { ok: false, failure: lateStartFailure(startBy) };
      } else {
        result = await postToGraph(messagesEndpoint, { body, contentType: 'application/json' });
      }
      return result.ok ? readSendResponse(result.body, result.httpStatus) : result;
    },
    async uploadMedia(upload: MediaUpload): Promise<UploadResult> {
      const result = await postToGraph(mediaEndpoint, { body: toMediaForm(upload) });
      return result.ok ? readUploadResponse(result.body, result.httpStatus) : result;
    },
  };
}

const API_VERSION = /^v\d+\.\d+$/;
const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

// Configuration mistakes should stop the service at startup, not surface later as retryable send failures.
function assertUsableOptions(options: CloudApiClientOptions): void {
  const problem = findOptionsProblem(options);
  if (problem !== null) throw new Error(`Cloud API client: ${problem}`);
}

function findOptionsProblem(options: CloudApiClientOptions): string | null {
  if (!URL.canParse(options.baseUrl)) return 'baseUrl is not a valid URL';
  if (!API_VERSION.test(options.apiVersion)) return 'apiVersion must be like v24.0';
  if (options.phoneNumberId.trim() === '') return 'phoneNumberId is empty';
  // fetch would reject such a header with an error that quotes the token.
  if (!/^[\x21-\x7e]+$/.test(options.token)) return 'token is empty or malformed';
  if (!isTimerDelay(options.timeoutMs)) return 'timeoutMs must be a positive integer';
  return null;
}

// AbortSignal.timeout throws synchronously on anything else, which would break the never-throw contract.
function isTimerDelay(ms: number): boolean {
  return Number.isInteger(ms) && ms > 0 && ms <= MAX_TIMER_DELAY_MS;
}

function graphEndpoint(options: CloudApiClientOptions, edge: 'messages' | 'media'): GraphEndpoint {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  return {
    url: `${baseUrl}/${options.apiVersion}/${encodeURIComponent(options.phoneNumberId)}/${edge}`,
    token: options.token,
    timeoutMs: options.timeoutMs,
    fetch: options.fetch ?? fetch,
    pool: options.fetch === undefined ? sharedPool() : null,
  };
}

let pool: Dispatcher | null = null;

// One pool per process: connections to the Graph host are reused across clients and sends.
function sharedPool(): Dispatcher {
  pool ??= new Agent({
    keepAliveTimeout: 30_000,
    keepAliveMaxTimeout: 60_000,
    connect: { timeout: 10_000 },
  }).compose(refuseLateStarts);
  return pool;
}

/** Thrown into undici when a request reaches its connection after its `startBy`: nothing was written. */
class LateStartError extends Error {
  override readonly name = 'LateStartError';
}

/** The request options of one send: undici's, plus the deadline the interceptor below reads. */
type TimedRequestOptions = Dispatcher.DispatchOptions & { startBy?: number };

/**
 * An undici interceptor: a request with a `startBy` is checked at `onConnect`, which undici calls right
 * before it writes the request to a connection (after any wait for a free or new connection). Past the
 * deadline it fails there (StartByHandler), before a byte is written, so it cannot reach Meta late and
 * crowd the next second of the cap.
 */
function refuseLateStarts(dispatch: Dispatcher['dispatch']): Dispatcher['dispatch'] {
  return (options: TimedRequestOptions, handler) => {
    const { startBy } = options;
    if (startBy === undefined || startBy === Number.POSITIVE_INFINITY) return dispatch(options, handler);
    return dispatch(options, new StartByHandler(handler, startBy));
  };
}

/**
 * undici's DecoratorHandler forwards every handler callback to the one it wraps; its type declarations
 * (undici 6) leave the methods out, so they are stated here.
 */
const ForwardingHandler = DecoratorHandler as unknown as new (
  handler: Dispatcher.DispatchHandlers,
) => Dispatcher.DispatchHandlers & {
  onConnect(abort: (error?: Error) => void, context?: object): void;
};

class StartByHandler extends ForwardingHandler {
  constructor(
    handler: Dispatcher.DispatchHandlers,
    private readonly startBy: number,
  ) {
    super(handler);
  }

  override onConnect(abort: (error?: Error) => void, context?: object): void {
    // Thrown, not passed to abort(): undici then fails just this request, before writing it, and keeps
    // the connection (abort() would destroy it, and the next send would wait for a new one: late again).
    if (performance.now() > this.startBy) {
      throw new LateStartError('the request could not start within its throughput slot');
    }
    super.onConnect(abort, context);
  }
}

async function postJsonWithPool(
  endpoint: GraphEndpoint,
  dispatcher: Dispatcher,
  body: string,
  startBy: number,
): Promise<GraphCallResult> {
  let httpStatus: number | null = null;
  try {
    const options: Parameters<typeof undiciRequest>[1] & { startBy: number } = {
      method: 'POST',
      headers: graphHeaders(endpoint.token, 'application/json'),
      body,
      dispatcher,
      // Together they bound the call like the fetch path's single timeout: waiting for headers, then for body bytes.
      headersTimeout: endpoint.timeoutMs,
      bodyTimeout: endpoint.timeoutMs,
      // Read by refuseLateStarts (undici hands request options through to the dispatcher).
      startBy,
    };
    const response = await undiciRequest(endpoint.url, options);
    httpStatus = response.statusCode;
    const text = await response.body.text();
    return interpretAnswer(
      { status: response.statusCode, header: (name) => headerValue(response.headers[name]) },
      text,
      endpoint.token,
    );
  } catch (error) {
    if (error instanceof LateStartError) return { ok: false, failure: lateStartFailure(startBy) };
    const code = findErrorWithCode(error)?.code;
    const isTimeout = code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT';
    const failure = isTimeout
      ? timeoutFailure(endpoint.timeoutMs, httpStatus)
      : networkFailure(error, httpStatus, endpoint.token);
    return { ok: false, failure };
  }
}

function headerValue(value: string | string[] | undefined): string | null {
  if (value === undefined) return null;
  return Array.isArray(value) ? (value[0] ?? null) : value;
}

function toMediaForm(upload: MediaUpload): FormData {
  const form = new FormData();
  form.append('messaging_product', 'whatsapp');
  form.append('type', upload.mimeType);
  form.append('file', new Blob([upload.data], { type: upload.mimeType }), upload.filename);
  return form;
}

async function postToGraph(endpoint: GraphEndpoint, request: GraphRequest): Promise<GraphCallResult> {
  const signal = AbortSignal.timeout(endpoint.timeoutMs);
  let httpStatus: number | null = null;
  try {
    const response = await endpoint.fetch(endpoint.url, {
      method: 'POST',
      headers: graphHeaders(endpoint.token, request.contentType),
      body: request.body,
      signal,
    });
    httpStatus = response.status;
    const text = await response.text();
    return interpretAnswer(
      { status: response.status, header: (name) => response.headers.get(name) },
      text,
      endpoint.token,
    );
  } catch (error) {
    const failure = signal.aborted
      ? timeoutFailure(endpoint.timeoutMs, httpStatus)
      : networkFailure(error, httpStatus, endpoint.token);
    return { ok: false, failure };
  }
}

function graphHeaders(token: string, contentType: string | undefined): Record<string, string> {
  return {
    authorization: `Bearer ${token}`,
    accept: 'application/json',
    ...(contentType === undefined ? {} : { 'content-type': contentType }),
  };
}

interface GraphAnswer {
  status: number;
  header(name: 'retry-after' | 'content-type'): string | null;
}

function interpretAnswer(response: GraphAnswer, text: string, token: string): GraphCallResult {
  const body = parseJson(text);
  const graphError = readGraphError(body);
  const httpStatus = response.status;
  const isOk = httpStatus >= 200 && httpStatus < 300;
  if (isOk && !graphError && body !== undefined) return { ok: true, httpStatus, body };

  const retryAfterMs = parseRetryAfter(response.header('retry-after'), Date.now());
  if (graphError) {
    return { ok: false, failure: failure({ ...graphError, httpStatus, retryAfterMs }, token) };
  }
  if (isOk) return invalidResponse(httpStatus, 'body is not JSON');
  const contentType = response.header('content-type') ?? 'no content type';
  const message = `HTTP ${httpStatus} without a Graph error body (${contentType})`;
  // An edge 5xx (502/504) may hide an upstream that did process the send.
  const isAmbiguous = httpStatus >= 500;
  return {
    ok: false,
    failure: failure({ kind: 'http_error', message, httpStatus, retryAfterMs, isAmbiguous }, token),
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function readGraphError(body: unknown): FailureFields | null {
  if (!isRecord(body) || !isRecord(body.error)) return null;
  const { code, message, error_data: errorData, fbtrace_id: fbtraceId } = body.error;
  if (typeof code !== 'number') return null;
  return {
    kind: 'graph_error',
    whatsappCode: code,
    message: typeof message === 'string' ? message : `Graph error ${code}`,
    details: isRecord(errorData) && typeof errorData.details === 'string' ? errorData.details : null,
    fbtraceId: typeof fbtraceId === 'string' ? fbtraceId : null,
  };
}

function readSendResponse(body: unknown, httpStatus: number): SendResult {
  const wamid = firstElement(body, 'messages', 'id');
  if (wamid === null) return invalidResponse(httpStatus, 'no messages[0].id in the send response');
  return { ok: true, wamid, waId: firstElement(body, 'contacts', 'wa_id') };
}

function readUploadResponse(body: unknown, httpStatus: number): UploadResult {
  const mediaId = isRecord(body) && typeof body.id === 'string' && body.id !== '' ? body.id : null;
  if (mediaId === null) return invalidResponse(httpStatus, 'no id in the media upload response');
  return { ok: true, mediaId };
}

/** Reads `body[list][0][field]` when it is a non-empty string. */
function firstElement(body: unknown, list: string, field: string): string | null {
  const items = isRecord(body) ? body[list] : undefined;
  const first: unknown = Array.isArray(items) ? items[0] : undefined;
  const value = isRecord(first) ? first[field] : undefined;
  return typeof value === 'string' && value !== '' ? value : null;
}

// A 2xx we cannot read most likely means Meta accepted the message, hence ambiguous.
function invalidResponse(httpStatus: number, reason: string): { ok: false; failure: SendFailure } {
  const message = `HTTP ${httpStatus} ${reason}`;
  return {
    ok: false,
    failure: failure({ kind: 'invalid_response', message, httpStatus, isAmbiguous: true }, ''),
  };
}

function timeoutFailure(timeoutMs: number, httpStatus: number | null): SendFailure {
  return failure(
    { kind: 'timeout', message: `no answer within ${timeoutMs} ms`, httpStatus, isAmbiguous: true },
    '',
  );
}

function lateStartFailure(startBy: number): SendFailure {
  const lateMs = Math.max(0, performance.now() - startBy);
  const message = `not sent: it would have started ${lateMs.toFixed(1)} ms after its throughput slot`;
  return failure({ kind: 'late_start', message }, '');
}

/** Error codes that prove the request never left this process (DNS, refused or unreachable connect). */
const NOT_SENT_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);

function networkFailure(error: unknown, httpStatus: number | null, token: string): SendFailure {
  const cause = findErrorWithCode(error);
  const code = cause?.code ?? null;
  const detail = cause?.message ?? (error instanceof Error ? error.message : String(error));
  return failure(
    {
      kind: 'network',
      message: `network error${code === null ? '' : ` ${code}`}: ${detail}`,
      httpStatus,
      isAmbiguous: code === null || !NOT_SENT_ERROR_CODES.has(code),
    },
    token,
  );
}

/** undici wraps socket errors as `TypeError('fetch failed', { cause })`, sometimes in an AggregateError. */
function findErrorWithCode(error: unknown, depth = 0): { code: string; message: string } | null {
  if (!(error instanceof Error) || depth > 5) return null;
  const code: unknown = (error as Error & { code?: unknown }).code;
  if (typeof code === 'string') return { code, message: error.message };
  const nested = error instanceof AggregateError ? (error.errors as unknown[]) : [];
  for (const candidate of [error.cause, ...nested]) {
    const found = findErrorWithCode(candidate, depth + 1);
    if (found) return found;
  }
  return null;
}

function failure(fields: FailureFields, token: string): SendFailure {
  return {
    httpStatus: null,
    whatsappCode: null,
    details: null,
    fbtraceId: null,
    retryAfterMs: null,
    isAmbiguous: false,
    ...fields,
    message: redact(fields.message, token),
    ...(typeof fields.details === 'string' ? { details: redact(fields.details, token) } : {}),
  };
}

// Servers and proxies can echo request headers into error text; the token must never reach logs.
function redact(text: string, token: string): string {
  return token === '' ? text : text.replaceAll(token, '[redacted]');
}

/** `Retry-After` as delay-seconds or an HTTP date, in ms from `nowMs`; null when absent or unreadable. */
export function parseRetryAfter(value: string | null, nowMs: number): number | null {
  if (value === null) return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  // Date.parse accepts odd strings such as "1.5"; an HTTP date always names a day or month.
  if (!/[a-z]/i.test(trimmed)) return null;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? null : Math.max(0, date - nowMs);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
