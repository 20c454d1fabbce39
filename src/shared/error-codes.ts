/**
 * Every error code the public API can answer with: its HTTP status and what it means. The one table;
 * docs/error-codes.md is checked against it by a test. Retired codes must not be reused.
 */
export const ERROR_CODES = {
  validation_error: {
    status: 400,
    description: 'A field is missing, has the wrong type or is out of range; `details.field` names it.',
  },
  invalid_json: { status: 400, description: 'The body is not valid JSON.' },
  invalid_url: {
    status: 400,
    description: 'The URL cannot be decoded (a broken percent escape such as `%E0%A4%A`).',
  },
  invalid_phone_number: {
    status: 400,
    description: 'The phone number is not a valid number (after normalization).',
  },
  unauthorized: {
    status: 401,
    description:
      'Neither a valid `x-api-key` nor a live session cookie (Origin/Referer alone is never a credential).',
  },
  invalid_credentials: { status: 401, description: 'Login refused: unknown email or wrong password.' },
  forbidden: {
    status: 403,
    description: "The logged-in user's role may not do this (operators cannot change providers or users).",
  },
  origin_not_allowed: {
    status: 403,
    description:
      'A session call whose Origin (or Referer) is not APP_ORIGIN; state-changing calls must carry one.',
  },
  user_email_taken: { status: 409, description: 'Another user already has this email.' },
  invalid_csv: {
    status: 400,
    description: 'The CSV file cannot be parsed (nothing was imported); `details.line` says where.',
  },
  too_many_files: { status: 400, description: 'More files than allowed in one request (`details.max`).' },
  webhook_verification_failed: {
    status: 403,
    description:
      "Meta's webhook handshake with a wrong or missing `hub.verify_token` (or no `hub.challenge`).",
  },
  not_found: { status: 404, description: 'No such route or resource.' },
  idempotency_key_conflict: {
    status: 409,
    description: 'The Idempotency-Key was used within 24 h for a different request.',
  },
  ticket_changed: {
    status: 409,
    description:
      'The ticket moved on (a tap, a deadline or another request) while this request was changing it; try again.',
  },
  provider_phone_taken: {
    status: 409,
    description: 'Another provider already has this phone number; `details.providerId` names it.',
  },
  payload_too_large: { status: 413, description: 'The body is larger than BODY_LIMIT_BYTES.' },
  file_too_large: {
    status: 413,
    description:
      "An uploaded file exceeds its type's limit (images 5 MB, documents 100 MB); `details.field` names it.",
  },
  unsupported_media_type: {
    status: 415,
    description:
      'The Content-Type is not accepted by this route, or an uploaded file is not an accepted type (sniffed from its bytes).',
  },
  rate_limited: { status: 429, description: 'Too many requests; retry after the `Retry-After` header.' },
  internal_error: {
    status: 500,
    description: 'An unexpected error; the response carries a request id to find it in the logs.',
  },
  whatsapp_not_configured: {
    status: 500,
    description: 'Cloud mode without WHATSAPP_TOKEN / WHATSAPP_PHONE_NUMBER_ID.',
  },
  whatsapp_rejected: {
    status: 502,
    description: "Meta refused the message for good; `details.whatsappCode` is Meta's code.",
  },
  database_unavailable: {
    status: 503,
    description:
      'The database cannot be reached, or a statement outlasted DATABASE_STATEMENT_TIMEOUT_MS; retry later.',
  },
} as const satisfies Record<string, { status: number; description: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** An expected failure with a stable code. `message` is safe to show to the caller. */
export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'AppError';
  }

  get status(): number {
    return ERROR_CODES[this.code].status;
  }
}
