import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { decoyPasswordHash, verifyPassword } from '../../../auth/password.js';
import type { UserStore } from '../../../auth/user-store.js';
import { AppError } from '../../../shared/error-codes.js';
import { ErrorResponses, Success } from '../../contract/envelope.js';
import { LoginBody, SessionInfo } from '../../contract/auth.js';
import {
  clearSessionCookie,
  isOriginAllowed,
  SESSION_COOKIE,
  sessionUser,
  setSessionCookie,
  type SessionAuth,
} from '../../plugins/session-auth.js';
import { rateLimitHook } from '../../plugins/rate-limit.js';

export interface AuthRouteOptions {
  auth: SessionAuth;
  users: UserStore;
  /** Login attempts per minute per client address; 0 = off. */
  loginRateLimitMax: number;
  sandbox: boolean;
}

/**
 * Web sessions: log in (email + password → HttpOnly cookie), log out, who am I. Outside the /api
 * guard (logging in is how a browser gets a credential), so each route checks what it needs itself.
 */
export const authRoutes: FastifyPluginAsyncTypebox<AuthRouteOptions> = async (app, options) => {
  const { auth, users } = options;
  const tags = ['auth'];
  // Per client address, before the password is checked (the plugin itself is registered once, at the root).
  const loginLimit =
    options.loginRateLimitMax > 0
      ? rateLimitHook(app, { name: 'login', max: options.loginRateLimitMax, key: (request) => request.ip })
      : null;

  app.post(
    '/api/auth/login',
    {
      schema: {
        tags,
        summary: 'Log in: sets the session cookie',
        body: LoginBody,
        response: { 200: Success(SessionInfo), ...ErrorResponses },
      },
      ...(loginLimit === null ? {} : { onRequest: loginLimit }),
    },
    async (request, reply) => {
      // Login CSRF: a form on another site must not log the browser in to an attacker's account.
      if (!isOriginAllowed(request, auth) || requestHasNoOrigin(request)) {
        throw new AppError('origin_not_allowed', 'Log in from the app (Origin not allowed)');
      }
      const found = await users.findByEmail(request.body.email);
      // Same work whether or not the account exists, so timing does not tell which emails are users.
      const isValid = await verifyPassword(
        found?.passwordHash ?? (await decoyPasswordHash()),
        request.body.password,
      );
      if (found === null || !isValid || !found.user.active) {
        request.log.info({ event: 'auth.login_failed' }, 'login refused');
        throw new AppError('invalid_credentials', 'Wrong email or password');
      }
      // A fresh id at every login; the browser's previous session (if any) ends here.
      const previous = request.cookies[SESSION_COOKIE];
      if (previous !== undefined && previous !== '') await auth.sessions.destroy(previous);
      const session = await auth.sessions.create(found.user.id);
      setSessionCookie(reply, auth, session.id);
      request.log.info({ event: 'auth.login', userId: found.user.id }, 'logged in');
      return { success: true as const, data: { user: found.user, sandbox: options.sandbox } };
    },
  );

  app.post(
    '/api/auth/logout',
    {
      schema: {
        tags,
        summary: 'Log out: ends the session and clears the cookie',
        response: { 200: Success(Type.Object({ loggedOut: Type.Boolean() })), ...ErrorResponses },
      },
    },
    async (request, reply) => {
      if (!isOriginAllowed(request, auth) || requestHasNoOrigin(request)) {
        throw new AppError('origin_not_allowed', 'Log out from the app (Origin not allowed)');
      }
      const id = request.cookies[SESSION_COOKIE];
      if (id !== undefined && id !== '') await auth.sessions.destroy(id);
      clearSessionCookie(reply, auth);
      return { success: true as const, data: { loggedOut: id !== undefined && id !== '' } };
    },
  );

  app.get(
    '/api/auth/me',
    {
      schema: {
        tags,
        summary: 'The logged-in user (401 without a session)',
        response: { 200: Success(SessionInfo), ...ErrorResponses },
      },
    },
    async (request, reply) => {
      const user = await sessionUser(request, reply, auth);
      if (user === null) throw new AppError('unauthorized', 'Not logged in');
      return { success: true as const, data: { user, sandbox: options.sandbox } };
    },
  );
};

function requestHasNoOrigin(request: { headers: Record<string, unknown> }): boolean {
  return request.headers.origin === undefined && request.headers.referer === undefined;
}
