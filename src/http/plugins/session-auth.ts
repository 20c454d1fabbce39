import cookie from '@fastify/cookie';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { SessionStore } from '../../auth/session-store.js';
import type { User } from '../../auth/user.js';
import type { ApiKeyMatcher } from './api-key-auth.js';
import { send } from './error-envelope.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The logged-in user of a browser call; null for API-key callers and public routes. */
    user: User | null;
  }
}

export const SESSION_COOKIE = 'khk_session';

export interface SessionAuth {
  sessions: SessionStore;
  /** Origins a browser call may come from (APP_ORIGIN, or the listen URL under both host spellings). */
  allowedOrigins: () => readonly string[];
  secureCookies: boolean;
  sessionTtlMs: number;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * What operators may not do: change providers or manage users. Matched on the route pattern, so a
 * new admin-only route is one more line here.
 */
const ADMIN_ONLY: { methods: ReadonlySet<string> | 'all'; route: RegExp }[] = [
  { methods: new Set(['POST', 'PATCH', 'PUT', 'DELETE']), route: /^\/api\/providers(\/|$)/ },
  { methods: 'all', route: /^\/api\/users(\/|$)/ },
];

/** Registers the cookie parser on the whole app and the `request.user` slot. */
export async function registerSessionCookies(app: FastifyInstance): Promise<void> {
  await app.register(cookie);
  app.decorateRequest('user', null);
}

/**
 * The guard of everything under /api: a valid `x-api-key` (server to server, full access), or a live
 * session cookie whose request comes from an allowed origin (design.md §3). Origin alone never
 * authorizes: without a session the answer is 401. Browsers send no Origin on same-origin GETs, so a
 * safe method needs only the session; a state-changing one also needs Origin (or else Referer).
 */
export function sessionOrApiKeyGuard(isValidKey: ApiKeyMatcher, auth: SessionAuth) {
  const checkSession = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const user = await sessionUser(request, reply, auth);
    if (user === null) {
      await send(reply, 'unauthorized', 'Unauthorized');
      return;
    }
    if (!isOriginAllowed(request, auth)) {
      await send(reply, 'origin_not_allowed', 'This request must come from the app (Origin not allowed)');
      return;
    }
    if (user.role !== 'admin' && isAdminOnly(request)) {
      await send(reply, 'forbidden', 'Only an admin may do this');
      return;
    }
    request.user = user;
  };
  // A callback hook: an API-key call (the busy server-to-server path) then costs no promise. A reply sent
  // by the session check ends the chain, so done() is called only when the request may go on.
  return (request: FastifyRequest, reply: FastifyReply, done: (error?: Error) => void): void => {
    if (isValidKey(request).isValid) {
      done();
      return;
    }
    checkSession(request, reply).then(
      () => {
        if (!reply.sent) done();
      },
      (error: unknown) => done(error instanceof Error ? error : new Error(String(error))),
    );
  };
}

/** The user of the request's session cookie (extending the cookie when the session slid), or null. */
export async function sessionUser(
  request: FastifyRequest,
  reply: FastifyReply,
  auth: SessionAuth,
): Promise<User | null> {
  const id = request.cookies[SESSION_COOKIE];
  if (id === undefined || id === '') return null;
  const resolved = await auth.sessions.resolve(id);
  if (resolved === null) {
    clearSessionCookie(reply, auth);
    return null;
  }
  if (resolved.extended) setSessionCookie(reply, auth, id);
  return resolved.user;
}

/**
 * Origin when the browser sent one, else the origin of Referer; a safe method may carry neither.
 * `Origin: null` (sandboxed frames, some redirects) is never allowed.
 */
export function isOriginAllowed(request: FastifyRequest, auth: SessionAuth): boolean {
  const origin = requestOrigin(request);
  if (origin === undefined) return SAFE_METHODS.has(request.method);
  return origin !== null && auth.allowedOrigins().includes(origin);
}

function requestOrigin(request: FastifyRequest): string | null | undefined {
  const { origin, referer } = request.headers;
  if (typeof origin === 'string' && origin !== '') return origin === 'null' ? null : origin;
  if (typeof referer === 'string' && referer !== '') {
    return URL.canParse(referer) ? new URL(referer).origin : null;
  }
  return undefined;
}

function isAdminOnly(request: FastifyRequest): boolean {
  const route = request.routeOptions.url ?? request.url;
  return ADMIN_ONLY.some(
    (rule) => rule.route.test(route) && (rule.methods === 'all' || rule.methods.has(request.method)),
  );
}

export function setSessionCookie(reply: FastifyReply, auth: SessionAuth, id: string): void {
  void reply.setCookie(SESSION_COOKIE, id, {
    path: '/',
    httpOnly: true,
    sameSite: 'lax',
    secure: auth.secureCookies,
    maxAge: Math.floor(auth.sessionTtlMs / 1000),
  });
}

export function clearSessionCookie(reply: FastifyReply, auth: SessionAuth): void {
  void reply.clearCookie(SESSION_COOKIE, {
    path: '/',
    httpOnly: true,
    sameSite: 'lax',
    secure: auth.secureCookies,
  });
}

/**
 * The origins of the listen address when APP_ORIGIN is unset: a loopback or wildcard host is reached
 * as localhost, 127.0.0.1 or [::1], so all three spellings are accepted.
 */
export function listenOrigins(host: string, port: number): string[] {
  if (['127.0.0.1', 'localhost', '::1', '0.0.0.0', '::'].includes(host)) {
    return [`http://localhost:${port}`, `http://127.0.0.1:${port}`, `http://[::1]:${port}`];
  }
  return [`http://${host.includes(':') ? `[${host}]` : host}:${port}`];
}
