import pino, { type DestinationStream, type Logger } from 'pino';

/** Paths whose values never reach a log line. */
export const REDACTED_PATHS = [
  'req.headers["x-api-key"]',
  'req.headers.authorization',
  'req.headers.cookie',
  'headers["x-api-key"]',
  'headers.authorization',
  '*.token',
  '*.password',
  '*.appSecret',
  '*.apiKey',
];

/** Runs of 8+ digits in URLs are phone numbers or ids: keep the ends only. */
export function maskDigitRuns(text: string): string {
  return text.replace(/\d{8,}/g, (digits) => `${digits.slice(0, 5)}***${digits.slice(-4)}`);
}

/** Query parameters whose values are credentials (Meta's `hub.verify_token`, any `token`, `key`, `secret`…). */
const SECRET_QUERY_NAME = /token|secret|key|password|signature|auth/i;

/**
 * A request URL fit for a log line: credential-like query values replaced (found by the log grep test: the
 * webhook handshake carried WHATSAPP_VERIFY_TOKEN into every request log), then digit runs masked.
 */
export function maskUrl(url: string): string {
  const queryAt = url.indexOf('?');
  if (queryAt === -1) return maskDigitRuns(url);
  const query = url
    .slice(queryAt + 1)
    .split('&')
    .map((pair) => {
      const equals = pair.indexOf('=');
      const name = equals === -1 ? pair : pair.slice(0, equals);
      let decoded = name;
      try {
        decoded = decodeURIComponent(name);
      } catch {
        // an undecodable name is judged as written
      }
      return equals !== -1 && SECRET_QUERY_NAME.test(decoded) ? `${name}=[redacted]` : pair;
    })
    .join('&');
  return maskDigitRuns(`${url.slice(0, queryAt)}?${query}`);
}

/**
 * pino's error serializer, with digit runs masked in the texts a database or an API may fill with a phone
 * number (PostgreSQL's `Key (phone)=(573103055424) already exists.`).
 */
function serializeError(error: Error): Record<string, unknown> {
  const serialized = pino.stdSerializers.err(error) as unknown as Record<string, unknown>;
  for (const field of ['message', 'detail', 'stack', 'details']) {
    const value = serialized[field];
    if (typeof value === 'string') serialized[field] = maskDigitRuns(value);
  }
  return serialized;
}

interface SerializableRequest {
  id?: unknown;
  method?: string;
  url?: string;
}

export function createLogger(options: {
  level: string;
  destination?: DestinationStream;
  pretty?: boolean;
}): Logger {
  const base = {
    level: options.level,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    serializers: {
      err: serializeError,
      req: (req: SerializableRequest) => ({
        id: req.id,
        method: req.method,
        url: maskUrl(req.url ?? ''),
      }),
    },
  };
  if (options.destination !== undefined) return pino(base, options.destination);
  if (options.pretty === true) {
    return pino({
      ...base,
      transport: {
        target: 'pino-pretty',
        options: { translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname' },
      },
    });
  }
  return pino(base);
}
