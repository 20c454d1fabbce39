/**
 * Every environment variable the service reads: its type, default and a one-line description.
 * `.env.example` is checked against this list by a test; `load-config.ts` is the only reader.
 */

export type VariableKind = 'string' | 'integer' | 'boolean' | 'url' | 'enum' | 'list';

export interface VariableSpec {
  kind: VariableKind;
  description: string;
  /** Default as it would be written in the environment; undefined = unset. */
  default?: string;
  /** Allowed values for `enum`. */
  values?: readonly string[];
  min?: number;
  max?: number;
  /** Secrets are never logged or printed. */
  isSecret?: boolean;
  /** Group heading in `.env.example` and the README. */
  group: 'Server' | 'WhatsApp' | 'Database' | 'Dispatch' | 'Security' | 'Tickets' | 'Media' | 'Logging';
}

export const CONFIG_VARIABLES = {
  PORT: { kind: 'integer', min: 0, max: 65535, default: '3000', group: 'Server', description: 'HTTP port.' },
  HOST: {
    kind: 'string',
    default: '127.0.0.1',
    group: 'Server',
    description: 'Interface to listen on (0.0.0.0 in containers).',
  },
  APP_ORIGIN: {
    kind: 'url',
    group: 'Server',
    description:
      'Origin browser calls must come from, and base of links (default: the listen URL, as localhost and 127.0.0.1).',
  },
  NODE_ENV: {
    kind: 'string',
    default: 'development',
    group: 'Server',
    description: 'Only `production` matters: it forbids the sandbox default and requires INTERNAL_API_KEY.',
  },
  DATA_DIR: {
    kind: 'string',
    default: './data',
    group: 'Database',
    description: 'Where the embedded database, the generated dev API key and local media live.',
  },
  DATABASE_URL: {
    kind: 'string',
    group: 'Database',
    isSecret: true,
    description:
      'postgres://… for PostgreSQL (Supabase included); default: SQLite file DATA_DIR/keyhomekey.db.',
  },
  DATABASE_STATEMENT_TIMEOUT_MS: {
    kind: 'integer',
    min: 0,
    default: '15000',
    group: 'Database',
    description:
      'PostgreSQL: a statement that runs longer (waiting for a lock included) is cancelled and its request answers 503; 0 = no limit. Migrations run without it.',
  },
  WHATSAPP_MODE: {
    kind: 'enum',
    values: ['cloud', 'sandbox'],
    group: 'WhatsApp',
    description:
      'cloud = Meta; sandbox = built-in emulator (default when no token is set outside production).',
  },
  WHATSAPP_TOKEN: {
    kind: 'string',
    isSecret: true,
    group: 'WhatsApp',
    description: 'WhatsApp Business Cloud API access token (System User token in production).',
  },
  WHATSAPP_PHONE_NUMBER_ID: {
    kind: 'string',
    group: 'WhatsApp',
    description: 'Graph ID of the business phone number that sends.',
  },
  WHATSAPP_DEFAULT_TO: {
    kind: 'string',
    group: 'WhatsApp',
    description: 'The central number notified when no provider matches (e.g. 573103055424).',
  },
  WHATSAPP_API_URL: {
    kind: 'url',
    default: 'https://graph.facebook.com',
    group: 'WhatsApp',
    description: 'Graph API base URL; point it at any server that speaks the Cloud API wire format.',
  },
  WHATSAPP_API_VERSION: {
    kind: 'string',
    default: 'v24.0',
    group: 'WhatsApp',
    description: 'Graph API version used in request paths.',
  },
  WHATSAPP_APP_SECRET: {
    kind: 'string',
    isSecret: true,
    group: 'WhatsApp',
    description: "Meta app secret: verifies webhooks' X-Hub-Signature-256.",
  },
  WHATSAPP_VERIFY_TOKEN: {
    kind: 'string',
    isSecret: true,
    group: 'WhatsApp',
    description: 'Token Meta echoes in the webhook verification handshake.',
  },
  WHATSAPP_TEMPLATE_NEW_TICKET: {
    kind: 'string',
    group: 'WhatsApp',
    description: 'Approved utility template for the first contact with a provider.',
  },
  WHATSAPP_TEMPLATE_LANGUAGE: {
    kind: 'string',
    default: 'es',
    group: 'WhatsApp',
    description: 'Language code of the templates, exactly as approved (es, es_CO…).',
  },
  WHATSAPP_TEMPLATE_PARAMS: {
    kind: 'string',
    group: 'WhatsApp',
    description:
      'Approved templates and their body parameter counts, e.g. nuevo_ticket=6,aviso=1: notify refuses a wrong count before sending.',
  },
  WHATSAPP_REQUEST_TIMEOUT_MS: {
    kind: 'integer',
    min: 100,
    default: '15000',
    group: 'WhatsApp',
    description: 'Timeout of each Graph API request.',
  },
  WHATSAPP_MAX_MPS: {
    kind: 'integer',
    min: 0,
    default: '80',
    group: 'Dispatch',
    description: 'Messages per second per business number, across all processes (0 = no cap, for tests).',
  },
  WHATSAPP_RETRY_BASE_MS: {
    kind: 'integer',
    min: 1,
    default: '1000',
    group: 'Dispatch',
    description: 'First retry delay; doubles per attempt with full jitter, capped at 60 s.',
  },
  WHATSAPP_MAX_ATTEMPTS: {
    kind: 'integer',
    min: 1,
    max: 100,
    default: '10',
    group: 'Dispatch',
    description: 'Attempts before a transiently failing message is marked failed.',
  },
  DISPATCH_CONCURRENCY: {
    kind: 'integer',
    min: 1,
    max: 2000,
    default: '256',
    group: 'Dispatch',
    description: 'Graph requests in flight per process (at 200 ms Graph latency, 256 allow ~1,000 msg/s).',
  },
  DISPATCH_LEASE_MS: {
    kind: 'integer',
    min: 1000,
    default: '60000',
    group: 'Dispatch',
    description:
      'How long a claimed message is held before another process may take it over (≥ request timeout + 2 s).',
  },
  NOTIFY_WAIT_MS: {
    kind: 'integer',
    min: 0,
    default: '10000',
    group: 'Dispatch',
    description: 'How long POST /api/whatsapp/notify waits for Meta before answering 202.',
  },
  DEFAULT_COUNTRY: {
    kind: 'string',
    default: 'CO',
    group: 'WhatsApp',
    description: 'ISO country for national numbers without a country code.',
  },
  INTERNAL_API_KEY: {
    kind: 'list',
    isSecret: true,
    group: 'Security',
    description:
      'x-api-key for server-to-server calls; comma-separated for rotation. Generated into DATA_DIR outside production.',
  },
  RATE_LIMIT_MAX: {
    kind: 'integer',
    min: 0,
    default: '600',
    group: 'Security',
    description: 'Requests per minute per API key or client address (0 = off).',
  },
  ADMIN_EMAIL: {
    kind: 'string',
    default: 'admin@keyhomekey.local',
    group: 'Security',
    description: 'Email of the admin created at the first start (when the database has no user).',
  },
  ADMIN_PASSWORD: {
    kind: 'string',
    isSecret: true,
    group: 'Security',
    description:
      "That admin's password (10+ characters); unset = generated and printed once in the start banner.",
  },
  SESSION_TTL_HOURS: {
    kind: 'integer',
    min: 1,
    max: 8760,
    default: '12',
    group: 'Security',
    description: 'How long a web session lasts without use (it is extended while used).',
  },
  LOGIN_RATE_LIMIT_MAX: {
    kind: 'integer',
    min: 0,
    default: '10',
    group: 'Security',
    description: 'Login attempts per minute per client address (0 = off).',
  },
  WEBHOOK_RATE_LIMIT_MAX: {
    kind: 'integer',
    min: 0,
    default: '30000',
    group: 'Security',
    description:
      'Webhook deliveries per minute per client address, counted before the signature check (0 = off). At the default cap Meta may post 3 statuses × 80 messages/s one by one: 14,400 a minute.',
  },
  TRUST_PROXY: {
    kind: 'string',
    group: 'Security',
    description:
      "Behind a reverse proxy: true (trust X-Forwarded-For), a hop count, or the proxies' addresses/CIDRs comma-separated; unset = the socket address (rate limits per client need it behind a proxy).",
  },
  CORS_ORIGINS: {
    kind: 'list',
    group: 'Security',
    description:
      'Origins allowed to call the API from a browser, comma-separated (e.g. https://admin.example.com); empty = none.',
  },
  METRICS_PUBLIC: {
    kind: 'boolean',
    default: 'false',
    group: 'Security',
    description: 'Serve GET /metrics without the API key (only for a scraper on a private network).',
  },
  BODY_LIMIT_BYTES: {
    kind: 'integer',
    min: 1024,
    default: '65536',
    group: 'Security',
    description: 'Largest JSON body accepted (413 above).',
  },
  REQUEST_TIMEOUT_MS: {
    kind: 'integer',
    min: 0,
    default: '30000',
    group: 'Security',
    description: 'Time allowed to receive a whole request.',
  },
  TICKET_BASE_URL: {
    kind: 'url',
    group: 'Tickets',
    description:
      'Base of the ticket link sent to providers (default: APP_ORIGIN); the link is BASE/tickets/<id>.',
  },
  NOTIFY_INCLUDE_REPORTER_PHONE: {
    kind: 'boolean',
    default: 'false',
    group: 'Tickets',
    description: "Include the reporter's phone number in the provider's first message.",
  },
  NOTIFY_REPORTER: {
    kind: 'boolean',
    default: 'false',
    group: 'Tickets',
    description: 'Tell the reporter over WhatsApp who accepted their ticket.',
  },
  ASSIGNMENT_TIMEOUT_MIN: {
    kind: 'integer',
    min: 1,
    max: 10080,
    default: '30',
    group: 'Tickets',
    description: 'Minutes a provider has to tap Aceptar before the ticket goes to the next candidate.',
  },
  ASSIGNMENT_TIMEOUT_BY_SPECIALTY: {
    kind: 'string',
    group: 'Tickets',
    description:
      'Per-specialty deadlines in minutes, e.g. "Urgencias=10,Plomería=20" (case and accents do not matter).',
  },
  ASSIGNMENT_CHECK_INTERVAL_MS: {
    kind: 'integer',
    min: 10,
    max: 600000,
    default: '5000',
    group: 'Tickets',
    description: 'How often each process looks for expired offers (timers are rows: restarts lose none).',
  },
  MEDIA_LINK_SECRET: {
    kind: 'string',
    isSecret: true,
    group: 'Tickets',
    description:
      'Signs the expiring links Meta fetches ticket photos from (TICKET_BASE_URL/media/…); default: derived from INTERNAL_API_KEY.',
  },
  PROVIDER_DIRECTORY_URL: {
    kind: 'url',
    group: 'Tickets',
    description:
      "External provider directory (the seed's Retel AI lookup): GET URL?location=&specialty= → [{name, phone, location?, specialties?}].",
  },
  PROVIDER_DIRECTORY_TIMEOUT_MS: {
    kind: 'integer',
    min: 100,
    default: '3000',
    group: 'Tickets',
    description: 'Timeout of the directory lookup; on timeout or error matching goes on without it.',
  },
  S3_ENDPOINT: {
    kind: 'url',
    group: 'Media',
    description:
      'S3-compatible endpoint (Supabase Storage: https://<project>.supabase.co/storage/v1/s3); unset = local disk.',
  },
  S3_BUCKET: { kind: 'string', group: 'Media', description: 'Bucket for ticket media.' },
  S3_ACCESS_KEY_ID: { kind: 'string', isSecret: true, group: 'Media', description: 'S3 access key id.' },
  S3_SECRET_ACCESS_KEY: {
    kind: 'string',
    isSecret: true,
    group: 'Media',
    description: 'S3 secret access key.',
  },
  S3_REGION: { kind: 'string', default: 'us-east-1', group: 'Media', description: 'S3 region.' },
  LOG_LEVEL: {
    kind: 'enum',
    values: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
    default: 'info',
    group: 'Logging',
    description: 'pino log level.',
  },
} as const satisfies Record<string, VariableSpec>;

export type VariableName = keyof typeof CONFIG_VARIABLES;
