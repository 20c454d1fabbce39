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
      req: (req: SerializableRequest) => ({
        id: req.id,
        method: req.method,
        url: maskDigitRuns(req.url ?? ''),
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
