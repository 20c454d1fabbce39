import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DIALECTS,
  isPostgresAvailable,
  startTestApp,
  TEST_API_KEY,
  type TestApp,
  type TestResponse,
} from '../helpers/test-app.js';

const hasPostgres = await isPostgresAvailable();

const ADMIN = { email: 'admin@keyhomekey.test', password: 'admin-password-123' };
const OPERATOR = { email: 'operator@keyhomekey.test', password: 'operator-password-123' };
const EVIL_ORIGIN = 'https://evil.example';
const HTTPS_ORIGIN = 'https://dispatch.keyhomekey.test';

/** A request as a browser makes it: no API key, maybe a cookie and an Origin. */
function browser(
  t: TestApp,
  method: string,
  pathname: string,
  init: { cookie?: string; origin?: string; referer?: string; body?: unknown } = {},
): Promise<TestResponse> {
  return t.request(method, pathname, {
    ...(init.body === undefined ? {} : { body: init.body }),
    headers: {
      'x-api-key': '',
      ...(init.cookie === undefined ? {} : { cookie: init.cookie }),
      ...(init.origin === undefined ? {} : { origin: init.origin }),
      ...(init.referer === undefined ? {} : { referer: init.referer }),
    },
  });
}

/** The `name=value` of the session cookie from a login response. */
function sessionCookie(res: TestResponse): string {
  const header = res.headers.getSetCookie().find((c) => c.startsWith('khk_session='));
  expect(header, 'a khk_session cookie').toBeDefined();
  return (header ?? '').split(';')[0] ?? '';
}

async function login(t: TestApp, user: { email: string; password: string }): Promise<string> {
  const res = await browser(t, 'POST', '/api/auth/login', { origin: t.url, body: user });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return sessionCookie(res);
}

for (const dialect of DIALECTS) {
  describe.skipIf(dialect === 'postgres' && !hasPostgres)(
    `browser sessions and the Origin rule (${dialect})`,
    () => {
      let t: TestApp;
      let adminCookie: string;
      let operatorCookie: string;

      beforeAll(async () => {
        t = await startTestApp({
          dialect,
          // Many logins within a minute here; the limit has its own suite below.
          env: { ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password, LOGIN_RATE_LIMIT_MAX: '1000' },
        });
        const created = await t.request('POST', '/api/users', { body: { ...OPERATOR, role: 'operator' } });
        expect(created.status, JSON.stringify(created.body)).toBe(201);
        adminCookie = await login(t, ADMIN);
        operatorCookie = await login(t, OPERATOR);
      });
      afterAll(async () => {
        await t?.close();
      });

      it('creates the first admin from ADMIN_EMAIL / ADMIN_PASSWORD, and a login sets an HttpOnly SameSite=Lax cookie', async () => {
        expect(t.app.firstAdmin).toEqual({ created: true, email: ADMIN.email, generatedPassword: null });
        const res = await browser(t, 'POST', '/api/auth/login', { origin: t.url, body: ADMIN });
        expect(res.status).toBe(200);
        expect(res.body.data.user).toMatchObject({ email: ADMIN.email, role: 'admin' });
        expect(res.body.data.sandbox).toBe(true);
        const header = res.headers.getSetCookie().find((c) => c.startsWith('khk_session=')) ?? '';
        expect(header).toMatch(/HttpOnly/i);
        expect(header).toMatch(/SameSite=Lax/i);
        expect(header).toMatch(/Path=\//i);
        expect(header, 'no Secure over plain http').not.toMatch(/Secure/i);
      });

      it('refuses a wrong password and an unknown email alike (401 invalid_credentials)', async () => {
        const wrong = await browser(t, 'POST', '/api/auth/login', {
          origin: t.url,
          body: { email: ADMIN.email, password: 'not-the-password' },
        });
        const unknown = await browser(t, 'POST', '/api/auth/login', {
          origin: t.url,
          body: { email: 'nobody@keyhomekey.test', password: 'whatever-123' },
        });
        for (const res of [wrong, unknown]) {
          expect(res.status).toBe(401);
          expect(res.body.error.code).toBe('invalid_credentials');
          expect(res.headers.getSetCookie()).toEqual([]);
        }
      });

      it('refuses a login from another origin or with no origin at all (login CSRF)', async () => {
        const evil = await browser(t, 'POST', '/api/auth/login', { origin: EVIL_ORIGIN, body: ADMIN });
        expect(evil.status).toBe(403);
        expect(evil.body.error.code).toBe('origin_not_allowed');
        const none = await browser(t, 'POST', '/api/auth/login', { body: ADMIN });
        expect(none.status).toBe(403);
      });

      it('answers /api/auth/me with the session user, 401 without a session', async () => {
        const me = await browser(t, 'GET', '/api/auth/me', { cookie: operatorCookie });
        expect(me.status).toBe(200);
        expect(me.body.data.user).toMatchObject({ email: OPERATOR.email, role: 'operator' });
        const anonymous = await browser(t, 'GET', '/api/auth/me');
        expect(anonymous.status).toBe(401);
      });

      it('lets a session GET without Origin (browsers send none on same-origin GETs)', async () => {
        const res = await browser(t, 'GET', '/api/tickets', { cookie: operatorCookie });
        expect(res.status, JSON.stringify(res.body)).toBe(200);
      });

      it('refuses a session GET that carries a foreign Origin', async () => {
        const res = await browser(t, 'GET', '/api/tickets', { cookie: operatorCookie, origin: EVIL_ORIGIN });
        expect(res.status).toBe(403);
        expect(res.body.error.code).toBe('origin_not_allowed');
      });

      it("POST /api/whatsapp/notify: the seed's same-origin rule without its hole", async () => {
        const body = { to: '3103055424', message: 'Prueba desde la app' };
        // Origin alone (the seed's rule): no session, no entry.
        const originOnly = await browser(t, 'POST', '/api/whatsapp/notify', { origin: t.url, body });
        expect(originOnly.status).toBe(401);
        expect(originOnly.body.error.code).toBe('unauthorized');
        // A session without an Origin or Referer: refused (CSRF guard).
        const sessionOnly = await browser(t, 'POST', '/api/whatsapp/notify', {
          cookie: operatorCookie,
          body,
        });
        expect(sessionOnly.status).toBe(403);
        expect(sessionOnly.body.error.code).toBe('origin_not_allowed');
        // A session from another site.
        const foreign = await browser(t, 'POST', '/api/whatsapp/notify', {
          cookie: operatorCookie,
          origin: EVIL_ORIGIN,
          body,
        });
        expect(foreign.status).toBe(403);
        // A session from the app: sent.
        const ok = await browser(t, 'POST', '/api/whatsapp/notify', {
          cookie: operatorCookie,
          origin: t.url,
          body,
        });
        expect(ok.status, JSON.stringify(ok.body)).toBe(200);
        expect(ok.body.data.to).toBe('573103055424');
      });

      it('accepts the Referer when the browser sent no Origin', async () => {
        const res = await browser(t, 'POST', '/api/whatsapp/notify', {
          cookie: operatorCookie,
          referer: `${t.url}/tickets/new`,
          body: { to: '3103055424', message: 'Con Referer' },
        });
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        const foreign = await browser(t, 'POST', '/api/whatsapp/notify', {
          cookie: operatorCookie,
          referer: `${EVIL_ORIGIN}/page`,
          body: { to: '3103055424', message: 'Con Referer ajeno' },
        });
        expect(foreign.status).toBe(403);
      });

      it('accepts the listen URL under both localhost and 127.0.0.1 when APP_ORIGIN is unset', async () => {
        const port = new URL(t.url).port;
        for (const origin of [`http://localhost:${port}`, `http://127.0.0.1:${port}`]) {
          const res = await browser(t, 'POST', '/api/whatsapp/notify', {
            cookie: operatorCookie,
            origin,
            body: { to: '3103055424', message: `Desde ${origin}` },
          });
          expect(res.status, origin).toBe(200);
        }
        const otherPort = await browser(t, 'POST', '/api/whatsapp/notify', {
          cookie: operatorCookie,
          origin: `http://127.0.0.1:${Number(port) + 1}`,
          body: { to: '3103055424', message: 'otro puerto' },
        });
        expect(otherPort.status).toBe(403);
      });

      it('lets an operator create tickets and read providers, but not change providers or users (403 forbidden)', async () => {
        const ticket = await browser(t, 'POST', '/api/tickets', {
          cookie: operatorCookie,
          origin: t.url,
          body: { description: 'Fuga en la cocina', location: 'Chapinero', specialty: 'Plomería' },
        });
        expect(ticket.status, JSON.stringify(ticket.body)).toBe(201);
        const list = await browser(t, 'GET', '/api/providers', { cookie: operatorCookie });
        expect(list.status).toBe(200);
        const create = await browser(t, 'POST', '/api/providers', {
          cookie: operatorCookie,
          origin: t.url,
          body: {
            name: 'No permitido',
            phone: '3009990001',
            location: 'Chapinero',
            specialties: ['Plomería'],
          },
        });
        expect(create.status).toBe(403);
        expect(create.body.error.code).toBe('forbidden');
        const users = await browser(t, 'GET', '/api/users', { cookie: operatorCookie });
        expect(users.status).toBe(403);
      });

      it('lets an admin change providers and users', async () => {
        const create = await browser(t, 'POST', '/api/providers', {
          cookie: adminCookie,
          origin: t.url,
          body: {
            name: 'Plomero Admin',
            phone: '3009990002',
            location: 'Chapinero',
            specialties: ['Plomería'],
          },
        });
        expect(create.status, JSON.stringify(create.body)).toBe(201);
        const patch = await browser(t, 'PATCH', `/api/providers/${create.body.data.id}`, {
          cookie: adminCookie,
          origin: t.url,
          body: { active: false },
        });
        expect(patch.status).toBe(200);
        const users = await browser(t, 'GET', '/api/users', { cookie: adminCookie });
        expect(users.status).toBe(200);
        expect(users.body.data.items.map((u: { email: string }) => u.email)).toEqual(
          expect.arrayContaining([ADMIN.email, OPERATOR.email]),
        );
        const taken = await t.request('POST', '/api/users', { body: { ...OPERATOR, role: 'operator' } });
        expect(taken.status).toBe(409);
        expect(taken.body.error.code).toBe('user_email_taken');
      });

      it('keeps full access for x-api-key callers, with or without Origin', async () => {
        const res = await t.request('POST', '/api/providers', {
          body: { name: 'Por API', phone: '3009990003', location: 'Chapinero', specialties: ['Plomería'] },
        });
        expect(res.status).toBe(201);
        const withOrigin = await t.request('GET', '/api/providers', { headers: { origin: EVIL_ORIGIN } });
        expect(withOrigin.status).toBe(200);
      });

      it('stores only a hash of the session id, and logs neither passwords nor session ids', async () => {
        const cookie = await login(t, OPERATOR);
        const id = cookie.split('=')[1] ?? '';
        expect(id.length).toBeGreaterThanOrEqual(40);
        const rows = await t.app.database.db.selectFrom('sessions').select('id_hash').execute();
        expect(rows.some((row) => row.id_hash === id)).toBe(false);
        const logs = t.logs.join('');
        expect(logs).not.toContain(id);
        expect(logs).not.toContain(OPERATOR.password);
        expect(logs).not.toContain(ADMIN.password);
      });

      it('logs out: the session stops working and the cookie is cleared', async () => {
        const cookie = await login(t, OPERATOR);
        const out = await browser(t, 'POST', '/api/auth/logout', { cookie, origin: t.url });
        expect(out.status).toBe(200);
        const cleared = out.headers.getSetCookie().find((c) => c.startsWith('khk_session=')) ?? '';
        expect(cleared).toMatch(/khk_session=;|Max-Age=0|Expires=Thu, 01 Jan 1970/i);
        const after = await browser(t, 'GET', '/api/tickets', { cookie });
        expect(after.status).toBe(401);
      });

      it('gives a new session id at every login and ends the one the browser had', async () => {
        const before = await login(t, OPERATOR);
        const res = await t.request('POST', '/api/auth/login', {
          body: OPERATOR,
          headers: { 'x-api-key': '', origin: t.url, cookie: before },
        });
        expect(res.status).toBe(200);
        const after = sessionCookie(res);
        expect(after).not.toBe(before);
        expect((await browser(t, 'GET', '/api/tickets', { cookie: before })).status).toBe(401);
        expect((await browser(t, 'GET', '/api/tickets', { cookie: after })).status).toBe(200);
      });

      it('answers 401 for a made-up session cookie', async () => {
        const res = await browser(t, 'GET', '/api/tickets', {
          cookie: 'khk_session=forged-value',
          origin: t.url,
        });
        expect(res.status).toBe(401);
      });
    },
  );
}

describe('login rate limit and HTTPS cookies', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({
      dialect: 'sqlite',
      env: {
        ADMIN_EMAIL: ADMIN.email,
        ADMIN_PASSWORD: ADMIN.password,
        LOGIN_RATE_LIMIT_MAX: '4',
        APP_ORIGIN: HTTPS_ORIGIN,
      },
    });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('only APP_ORIGIN is allowed when set, and the cookie is Secure behind HTTPS', async () => {
    const other = await browser(t, 'POST', '/api/auth/login', { origin: t.url, body: ADMIN });
    expect(other.status).toBe(403);
    const res = await browser(t, 'POST', '/api/auth/login', { origin: HTTPS_ORIGIN, body: ADMIN });
    expect(res.status).toBe(200);
    const header = res.headers.getSetCookie().find((c) => c.startsWith('khk_session=')) ?? '';
    expect(header).toMatch(/; Secure/i);
  });

  it('limits login attempts per address (429 with Retry-After); the API key is not affected', async () => {
    // Two of the four attempts of this minute were spent above.
    const statuses: number[] = [];
    let last: TestResponse | null = null;
    for (let i = 0; i < 4; i++) {
      last = await browser(t, 'POST', '/api/auth/login', {
        origin: HTTPS_ORIGIN,
        body: { email: ADMIN.email, password: `wrong-password-${i}` },
      });
      statuses.push(last.status);
    }
    expect(statuses).toEqual([401, 401, 429, 429]);
    expect(last?.body.error.code).toBe('rate_limited');
    expect(last?.headers.get('retry-after')).not.toBeNull();
    const providers = await t.request('GET', '/api/providers', { headers: { 'x-api-key': TEST_API_KEY } });
    expect(providers.status).toBe(200);
  });
});
