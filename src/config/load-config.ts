import { existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import { isSupportedCountry, type CountryCode } from 'libphonenumber-js';
import { CONFIG_VARIABLES, type VariableName, type VariableSpec } from './config-schema.js';

export interface Config {
  readonly port: number;
  readonly host: string;
  readonly appOrigin: string;
  readonly isProduction: boolean;
  readonly dataDir: string;
  /** `postgres://…`, or null for the embedded SQLite database in `dataDir`. */
  readonly databaseUrl: string | null;
  /** PostgreSQL's statement_timeout for the serving pool (0 = none). */
  readonly databaseStatementTimeoutMs: number;
  readonly whatsapp: {
    readonly mode: 'cloud' | 'sandbox';
    readonly token: string | null;
    readonly phoneNumberId: string | null;
    readonly defaultTo: string | null;
    readonly apiUrl: string;
    readonly apiVersion: string;
    readonly appSecret: string | null;
    readonly verifyToken: string | null;
    readonly templateNewTicket: string | null;
    readonly templateLanguage: string;
    /** Body parameter count of each approved template we know (WHATSAPP_TEMPLATE_PARAMS). */
    readonly templateParameterCounts: ReadonlyMap<string, number>;
    readonly requestTimeoutMs: number;
  };
  readonly dispatch: {
    readonly maxMps: number;
    readonly retryBaseMs: number;
    readonly maxAttempts: number;
    readonly concurrency: number;
    readonly leaseMs: number;
    readonly notifyWaitMs: number;
  };
  readonly tickets: {
    /** Links to tickets are `${baseUrl}/tickets/<id>`. */
    readonly baseUrl: string;
    readonly includeReporterPhone: boolean;
    readonly directoryUrl: string | null;
    readonly directoryTimeoutMs: number;
    readonly notifyReporter: boolean;
    readonly assignmentTimeoutMs: number;
    /** Specialty as written → deadline in ms (matching normalizes the names). */
    readonly assignmentTimeoutBySpecialty: ReadonlyMap<string, number>;
    readonly assignmentCheckIntervalMs: number;
    readonly mediaLinkSecret: string | null;
  };
  readonly media: MediaConfig;
  readonly defaultCountry: CountryCode;
  /** Empty when not configured; main.ts then generates a development key. */
  readonly internalApiKeys: readonly string[];
  readonly rateLimitMax: number;
  readonly auth: {
    /**
     * Origins browser calls may come from: APP_ORIGIN when set, else null (the listen URL, known once
     * listening, under both localhost and 127.0.0.1).
     */
    readonly allowedOrigins: readonly string[] | null;
    /** Session cookies get `Secure` when the app is served over HTTPS. */
    readonly secureCookies: boolean;
    readonly sessionTtlMs: number;
    readonly loginRateLimitMax: number;
    readonly adminEmail: string;
    readonly adminPassword: string | null;
  };
  readonly webhookRateLimitMax: number;
  /** Browser origins allowed by CORS; empty = none. */
  readonly corsOrigins: readonly string[];
  /** Fastify's trustProxy: which X-Forwarded-For hops give the client address (rate limits, logs). */
  readonly trustProxy: boolean | readonly string[];
  readonly metricsPublic: boolean;
  readonly bodyLimitBytes: number;
  readonly requestTimeoutMs: number;
  readonly logLevel: string;
}

export type MediaConfig =
  | { readonly kind: 'local'; readonly dir: string }
  | {
      readonly kind: 's3';
      readonly endpoint: string;
      readonly bucket: string;
      readonly region: string;
      readonly accessKeyId: string;
      readonly secretAccessKey: string;
    };

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`${variable}: ${problem}`);
    this.name = 'ConfigError';
  }
}

type Env = Readonly<Record<string, string | undefined>>;

/** Room in a claim for a one-second throughput window and the bookkeeping around a send. */
export const LEASE_MARGIN_MS = 2000;

/**
 * Reads `.env.local`, then `.env` (from `cwd`), under the real environment, which wins. Throws a
 * ConfigError naming the first wrong variable. Pure apart from reading those two files.
 */
export function loadConfig(options: { env: Env; cwd: string; readDotenvFiles?: boolean }): Config {
  const fromFiles = options.readDotenvFiles === false ? {} : readDotenvFiles(options.cwd);
  const env: Env = { ...fromFiles, ...options.env };
  const raw = (name: VariableName): string | undefined => {
    const value = env[name]?.trim();
    if (value !== undefined && value !== '') return value;
    return (CONFIG_VARIABLES[name] as VariableSpec).default;
  };
  const str = (name: VariableName): string | null => {
    const value = raw(name);
    if (value === undefined) return null;
    validate(name, value);
    return value;
  };
  const int = (name: VariableName): number => Number(str(name));

  const isProduction = str('NODE_ENV') === 'production';
  const token = str('WHATSAPP_TOKEN');
  const mode = (str('WHATSAPP_MODE') ?? (token === null && !isProduction ? 'sandbox' : 'cloud')) as
    | 'cloud'
    | 'sandbox';
  if (mode === 'sandbox' && isProduction) {
    throw new ConfigError('WHATSAPP_MODE', 'the sandbox cannot be used with NODE_ENV=production');
  }
  const port = int('PORT');
  const host = str('HOST') ?? '127.0.0.1';
  const defaultCountry = (str('DEFAULT_COUNTRY') ?? 'CO').toUpperCase();
  if (!isSupportedCountry(defaultCountry)) {
    throw new ConfigError(
      'DEFAULT_COUNTRY',
      `unknown country "${defaultCountry}" (use an ISO code such as CO)`,
    );
  }
  const databaseUrl = str('DATABASE_URL');
  if (databaseUrl !== null && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError(
      'DATABASE_URL',
      'must start with postgres:// (leave it unset for the embedded database)',
    );
  }
  const keys = (str('INTERNAL_API_KEY') ?? '')
    .split(',')
    .map((key) => key.trim())
    .filter((key) => key !== '');
  if (keys.some((key) => key.length < 16)) {
    throw new ConfigError('INTERNAL_API_KEY', 'each key must be at least 16 characters');
  }
  if (isProduction && keys.length === 0) {
    throw new ConfigError('INTERNAL_API_KEY', 'is required with NODE_ENV=production');
  }
  const leaseMs = int('DISPATCH_LEASE_MS');
  const requestTimeoutMs = int('WHATSAPP_REQUEST_TIMEOUT_MS');
  if (leaseMs < requestTimeoutMs + LEASE_MARGIN_MS) {
    // A claim that expires while its request may still be answered would be sent twice.
    throw new ConfigError(
      'DISPATCH_LEASE_MS',
      `must be at least WHATSAPP_REQUEST_TIMEOUT_MS + ${LEASE_MARGIN_MS} (${requestTimeoutMs + LEASE_MARGIN_MS})`,
    );
  }
  const linkHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host;
  const explicitOrigin = str('APP_ORIGIN');
  const appOrigin = (explicitOrigin ?? `http://${linkHost}:${port}`).replace(/\/+$/, '');
  const adminPassword = str('ADMIN_PASSWORD');
  if (adminPassword !== null && adminPassword.length < 10) {
    throw new ConfigError('ADMIN_PASSWORD', 'must be at least 10 characters');
  }
  const adminEmail = str('ADMIN_EMAIL') ?? 'admin@keyhomekey.local';
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(adminEmail)) {
    throw new ConfigError('ADMIN_EMAIL', `must be an email address, got "${adminEmail}"`);
  }
  const dataDir = path.resolve(options.cwd, str('DATA_DIR') ?? './data');
  const media = mediaConfig(str, dataDir);

  return deepFreeze({
    port,
    host,
    appOrigin,
    isProduction,
    dataDir,
    databaseUrl,
    databaseStatementTimeoutMs: int('DATABASE_STATEMENT_TIMEOUT_MS'),
    whatsapp: {
      mode,
      token,
      phoneNumberId: str('WHATSAPP_PHONE_NUMBER_ID'),
      defaultTo: str('WHATSAPP_DEFAULT_TO'),
      apiUrl: (str('WHATSAPP_API_URL') ?? 'https://graph.facebook.com').replace(/\/+$/, ''),
      apiVersion: str('WHATSAPP_API_VERSION') ?? 'v24.0',
      appSecret: str('WHATSAPP_APP_SECRET'),
      verifyToken: str('WHATSAPP_VERIFY_TOKEN'),
      templateNewTicket: str('WHATSAPP_TEMPLATE_NEW_TICKET'),
      templateLanguage: str('WHATSAPP_TEMPLATE_LANGUAGE') ?? 'es',
      templateParameterCounts: parseTemplateCounts(str('WHATSAPP_TEMPLATE_PARAMS')),
      requestTimeoutMs,
    },
    dispatch: {
      maxMps: int('WHATSAPP_MAX_MPS'),
      retryBaseMs: int('WHATSAPP_RETRY_BASE_MS'),
      maxAttempts: int('WHATSAPP_MAX_ATTEMPTS'),
      concurrency: int('DISPATCH_CONCURRENCY'),
      leaseMs,
      notifyWaitMs: int('NOTIFY_WAIT_MS'),
    },
    tickets: {
      baseUrl: (str('TICKET_BASE_URL') ?? appOrigin).replace(/\/+$/, ''),
      includeReporterPhone: isTrue(str('NOTIFY_INCLUDE_REPORTER_PHONE')),
      directoryUrl: str('PROVIDER_DIRECTORY_URL'),
      directoryTimeoutMs: int('PROVIDER_DIRECTORY_TIMEOUT_MS'),
      notifyReporter: isTrue(str('NOTIFY_REPORTER')),
      assignmentTimeoutMs: int('ASSIGNMENT_TIMEOUT_MIN') * 60_000,
      assignmentTimeoutBySpecialty: parseSpecialtyTimeouts(str('ASSIGNMENT_TIMEOUT_BY_SPECIALTY')),
      assignmentCheckIntervalMs: int('ASSIGNMENT_CHECK_INTERVAL_MS'),
      mediaLinkSecret: str('MEDIA_LINK_SECRET'),
    },
    media,
    defaultCountry,
    internalApiKeys: keys,
    rateLimitMax: int('RATE_LIMIT_MAX'),
    auth: {
      allowedOrigins: explicitOrigin === null ? null : [new URL(explicitOrigin).origin],
      secureCookies: appOrigin.startsWith('https://'),
      sessionTtlMs: int('SESSION_TTL_HOURS') * 3_600_000,
      loginRateLimitMax: int('LOGIN_RATE_LIMIT_MAX'),
      adminEmail,
      adminPassword,
    },
    webhookRateLimitMax: int('WEBHOOK_RATE_LIMIT_MAX'),
    corsOrigins: parseOrigins(str('CORS_ORIGINS')),
    trustProxy: parseTrustProxy(str('TRUST_PROXY')),
    metricsPublic: isTrue(str('METRICS_PUBLIC')),
    bodyLimitBytes: int('BODY_LIMIT_BYTES'),
    requestTimeoutMs: int('REQUEST_TIMEOUT_MS'),
    logLevel: str('LOG_LEVEL') ?? 'info',
  });
}

function validate(name: VariableName, value: string): void {
  const spec: VariableSpec = CONFIG_VARIABLES[name];
  switch (spec.kind) {
    case 'integer': {
      if (!/^\d+$/.test(value))
        throw new ConfigError(name, `must be a whole number, got "${shown(spec, value)}"`);
      const n = Number(value);
      if (spec.min !== undefined && n < spec.min) throw new ConfigError(name, `must be at least ${spec.min}`);
      if (spec.max !== undefined && n > spec.max) throw new ConfigError(name, `must be at most ${spec.max}`);
      return;
    }
    case 'boolean':
      if (!['true', 'false', '1', '0'].includes(value)) throw new ConfigError(name, 'must be true or false');
      return;
    case 'enum':
      if (!spec.values?.includes(value)) {
        throw new ConfigError(name, `must be one of ${spec.values?.join(', ')}, got "${shown(spec, value)}"`);
      }
      return;
    case 'url':
      if (!URL.canParse(value) || !/^https?:$/.test(new URL(value).protocol)) {
        throw new ConfigError(name, `must be an http(s) URL, got "${shown(spec, value)}"`);
      }
      return;
    case 'string':
    case 'list':
      return;
  }
}

function parseTrustProxy(value: string | null): boolean | readonly string[] {
  if (value === null || value === 'false' || value === '0') return false;
  if (value === 'true') return true;
  const entries = value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  for (const entry of entries) {
    const [address = '', bits, ...rest] = entry.split('/');
    const family = isIP(address);
    const maxBits = family === 4 ? 32 : 128;
    const isValidBits = bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= maxBits);
    if (family === 0 || !isValidBits || rest.length > 0) {
      throw new ConfigError('TRUST_PROXY', `"${entry}" is not true or an IP address/CIDR`);
    }
  }
  return entries;
}

function parseSpecialtyTimeouts(value: string | null): ReadonlyMap<string, number> {
  const timeouts = new Map<string, number>();
  for (const entry of (value ?? '')
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '')) {
    const match = /^([^=]{1,120})=\s*(\d{1,5})$/.exec(entry);
    const minutes = Number(match?.[2] ?? 0);
    if (match === null || minutes < 1 || minutes > 10080) {
      throw new ConfigError(
        'ASSIGNMENT_TIMEOUT_BY_SPECIALTY',
        `"${entry}" is not specialty=minutes (1 to 10080 minutes)`,
      );
    }
    timeouts.set((match[1] ?? '').trim(), minutes * 60_000);
  }
  return timeouts;
}

function parseTemplateCounts(value: string | null): ReadonlyMap<string, number> {
  const counts = new Map<string, number>();
  for (const entry of (value ?? '')
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '')) {
    const match = /^([a-z0-9_]{1,512})=(\d{1,2})$/.exec(entry);
    if (match === null) throw new ConfigError('WHATSAPP_TEMPLATE_PARAMS', `"${entry}" is not name=count`);
    counts.set(match[1] ?? '', Number(match[2]));
  }
  return counts;
}

/** CORS_ORIGINS: each an http(s) origin, compared exactly (scheme, host, port; no path). */
function parseOrigins(value: string | null): string[] {
  const origins = (value ?? '')
    .split(',')
    .map((origin) => origin.trim())
    .filter((origin) => origin !== '');
  for (const origin of origins) {
    if (!URL.canParse(origin) || new URL(origin).origin !== origin.replace(/\/+$/, '')) {
      throw new ConfigError('CORS_ORIGINS', `"${origin}" is not an origin like https://app.example.com`);
    }
  }
  return origins.map((origin) => origin.replace(/\/+$/, ''));
}

function isTrue(value: string | null): boolean {
  return value === 'true' || value === '1';
}

function mediaConfig(str: (name: VariableName) => string | null, dataDir: string): MediaConfig {
  const endpoint = str('S3_ENDPOINT');
  if (endpoint === null) return { kind: 'local', dir: path.join(dataDir, 'media') };
  const required = (name: 'S3_BUCKET' | 'S3_ACCESS_KEY_ID' | 'S3_SECRET_ACCESS_KEY'): string => {
    const value = str(name);
    if (value === null) throw new ConfigError(name, 'is required when S3_ENDPOINT is set');
    return value;
  };
  return {
    kind: 's3',
    endpoint,
    bucket: required('S3_BUCKET'),
    region: str('S3_REGION') ?? 'us-east-1',
    accessKeyId: required('S3_ACCESS_KEY_ID'),
    secretAccessKey: required('S3_SECRET_ACCESS_KEY'),
  };
}

function shown(spec: VariableSpec, value: string): string {
  return spec.isSecret === true ? '[hidden]' : value;
}

function readDotenvFiles(cwd: string): Record<string, string> {
  const merged: Record<string, string> = {};
  // .env.local overrides .env, as in the seed's local development flow.
  for (const file of ['.env', '.env.local']) {
    const full = path.join(cwd, file);
    if (existsSync(full)) Object.assign(merged, parseDotenv(readFileSync(full)));
  }
  return merged;
}

function deepFreeze<T extends object>(value: T): T {
  for (const child of Object.values(value)) {
    if (child !== null && typeof child === 'object') deepFreeze(child as object);
  }
  return Object.freeze(value);
}
