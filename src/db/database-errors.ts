/**
 * Tells "the database cannot be reached right now" (answer 503, retry later, keep running) from every other
 * database error (a bug or bad data: 500). Works on pg, pg-pool, Node socket and better-sqlite3 errors,
 * following `cause` chains and AggregateErrors (Node's connect to several addresses).
 */
export type DatabaseErrorKind =
  /** No connection: refused, reset, terminated, timed out, server shutting down or starting up. */
  | 'unavailable'
  /** SQLite's file is locked by another writer for longer than busy_timeout. */
  | 'busy'
  | 'other';

/** Node socket errors on the way to the server. */
const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * PostgreSQL SQLSTATEs meaning "not now": admin_shutdown, crash_shutdown, cannot_connect_now,
 * too_many_connections, and query_canceled (statement_timeout: a statement stuck behind a lock or on an
 * overloaded server). Class 08 (connection exception) is matched as a class.
 */
const PG_UNAVAILABLE_STATES = new Set(['57P01', '57P02', '57P03', '53300', '57014']);

/** pg and pg-pool report a lost or never-made connection with these messages and no code. */
const UNAVAILABLE_MESSAGES = [
  /timeout exceeded when trying to connect/i,
  /^Connection terminated/i,
  /connection error and is not queryable/i,
  /^Query read timeout$/i,
];

export function classifyDatabaseError(error: unknown): DatabaseErrorKind {
  const seen = new Set<unknown>();
  const pending: unknown[] = [error];
  let kind: DatabaseErrorKind = 'other';
  while (pending.length > 0 && seen.size < 20) {
    const current = pending.shift();
    if (!(current instanceof Error) || seen.has(current)) continue;
    seen.add(current);
    const own = classifyOne(current);
    if (own === 'unavailable') return own;
    if (own === 'busy') kind = own;
    if (current.cause !== undefined) pending.push(current.cause);
    if (current instanceof AggregateError) pending.push(...(current.errors as unknown[]));
  }
  return kind;
}

export function isDatabaseUnavailable(error: unknown): boolean {
  return classifyDatabaseError(error) !== 'other';
}

function classifyOne(error: Error): DatabaseErrorKind {
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (SOCKET_CODES.has(code) || PG_UNAVAILABLE_STATES.has(code) || /^08[0-9A-Z]{3}$/.test(code)) {
      return 'unavailable';
    }
    if (/^SQLITE_(BUSY|LOCKED)(_|$)/.test(code)) return 'busy';
  }
  return UNAVAILABLE_MESSAGES.some((pattern) => pattern.test(error.message)) ? 'unavailable' : 'other';
}
