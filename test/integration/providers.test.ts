import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import pg from 'pg';
import type { Logger } from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runImportProviders } from '../../src/cli/import-providers.js';
import { migrateToLatest, openDatabase, type Database } from '../../src/db/database.js';
import { ErrorEnvelope } from '../../src/http/contract/envelope.js';
import { apiKeyGuard, createApiKeyMatcher } from '../../src/http/plugins/api-key-auth.js';
import { registerErrorEnvelope } from '../../src/http/plugins/error-envelope.js';
import { buildValidatorCompiler } from '../../src/http/plugins/validators.js';
import { providerRoutes } from '../../src/http/routes/providers/index.js';
import {
  lookupDirectoryIfNeeded,
  matchProvider,
  type MatchDeps,
  type MatchInput,
} from '../../src/providers/match-provider.js';
import {
  createHttpProviderDirectory,
  type ProviderDirectory,
} from '../../src/providers/provider-directory.js';
import { ProviderStore } from '../../src/providers/provider-store.js';
import { newId } from '../../src/shared/ids.js';
import { createLogger } from '../../src/shared/logger.js';
import {
  DIALECTS,
  isPostgresAvailable,
  TEST_API_KEY,
  TEST_PG_URL,
  type TestDialect,
} from '../helpers/test-app.js';

const hasPostgres = await isPostgresAvailable();
const IMPORT_LIMIT = 256 * 1024;

interface LogSink {
  lines: Record<string, unknown>[];
  logger: Logger;
  events(name: string): Record<string, unknown>[];
}

function logSink(): LogSink {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      callback();
    },
  });
  return {
    lines,
    logger: createLogger({ level: 'debug', destination: sink }),
    events: (name) => lines.filter((line) => line.event === name),
  };
}

interface Response {
  status: number;
  body: any;
}

/** The provider routes as the real app mounts them: same validator, error envelope and API key guard. */
interface ProvidersApp {
  database: Database;
  store: ProviderStore;
  logs: LogSink;
  http: FastifyInstance;
  /** Advances the clock; every call to now() moves 1 ms, so rows never tie. */
  clock: { now(): number };
  request(
    method: string,
    pathname: string,
    init?: { body?: unknown; raw?: string | Uint8Array; headers?: Record<string, string> },
  ): Promise<Response>;
  close(): Promise<void>;
}

async function startProvidersApp(dialect: TestDialect): Promise<ProvidersApp> {
  const dir = mkdtempSync(path.join(tmpdir(), 'khk-providers-'));
  const pgSchema =
    dialect === 'postgres'
      ? `p_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`
      : undefined;
  const database = openDatabase({
    url: dialect === 'postgres' ? TEST_PG_URL : null,
    sqliteFile: path.join(dir, 'keyhomekey.db'),
    ...(pgSchema === undefined ? {} : { pgSchema }),
  });
  await migrateToLatest(database, pgSchema);
  let time = Date.UTC(2026, 0, 1);
  const clock = { now: () => (time += 1) };
  const store = new ProviderStore({ db: database.db, clock, defaultCountry: 'CO' });
  const logs = logSink();

  const loggerInstance: FastifyBaseLogger = logs.logger;
  const http = Fastify({ loggerInstance, bodyLimit: 64 * 1024 });
  http.setValidatorCompiler(buildValidatorCompiler());
  http.addSchema(ErrorEnvelope);
  registerErrorEnvelope(http);
  await http.register(async (api) => {
    api.addHook('onRequest', apiKeyGuard(createApiKeyMatcher([TEST_API_KEY])));
    await api.register(providerRoutes, { store, importBodyLimitBytes: IMPORT_LIMIT });
  });
  const url = await http.listen({ port: 0, host: '127.0.0.1' });

  return {
    database,
    store,
    logs,
    http,
    clock,
    async request(method, pathname, init = {}) {
      const headers: Record<string, string> = { 'x-api-key': TEST_API_KEY, ...init.headers };
      let body: string | Uint8Array | undefined = init.raw;
      if (body === undefined && init.body !== undefined) {
        body = JSON.stringify(init.body);
        headers['content-type'] ??= 'application/json';
      }
      const response = await fetch(`${url}${pathname}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body }),
      });
      const text = await response.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        // not JSON: keep the text
      }
      return { status: response.status, body: parsed };
    },
    async close() {
      await http.close();
      await database.close();
      if (pgSchema !== undefined) {
        const client = new pg.Client({ connectionString: TEST_PG_URL });
        await client.connect();
        try {
          await client.query(`drop schema if exists "${pgSchema}" cascade`);
        } finally {
          await client.end();
        }
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A stand-in for the external directory: answers by path, records what it was asked. */
interface FakeDirectory {
  url: string;
  requests: URL[];
  close(): Promise<void>;
}

async function startFakeDirectory(): Promise<FakeDirectory> {
  const requests: URL[] = [];
  const json = (res: ServerResponse, status: number, body: string) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(body);
  };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://directory');
    requests.push(url);
    switch (url.pathname) {
      case '/ok':
        return json(
          res,
          200,
          JSON.stringify([
            { name: 'Retel Plomería', phone: '+57 300 555 0101', specialties: ['Plomería', 42] },
            { name: 'Bad phone', phone: '12345' },
            { name: '', phone: '3005550103' },
            'not an object',
            { name: 'Numeric', phone: 573005550104, location: 'Bosa' },
          ]),
        );
      case '/empty':
        return json(res, 200, '[]');
      case '/slow':
        setTimeout(() => json(res, 200, '[]'), 3000);
        return;
      case '/slow-body':
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('[');
        setTimeout(() => res.end(']'), 3000);
        return;
      case '/500':
        return json(res, 500, '{"error":"boom"}');
      case '/garbage':
        return json(res, 200, '<html>not json</html>');
      case '/shape':
        return json(res, 200, '{"data":[{"name":"x","phone":"3005550101"}]}');
      case '/huge':
        return json(res, 200, JSON.stringify([{ name: 'x'.repeat(2_000_000), phone: '3005550101' }]));
      default:
        return json(res, 404, '{}');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const csv = (...lines: string[]) => `${lines.join('\n')}\n`;
const HEADER = 'name,phone,location,specialties,active';

describe.each(DIALECTS)('providers on %s', (dialect) => {
  const skip = dialect === 'postgres' && !hasPostgres;
  let t: ProvidersApp;

  beforeAll(async () => {
    if (skip) return;
    t = await startProvidersApp(dialect);
  });
  afterAll(async () => t?.close());
  beforeEach(async () => {
    if (skip) return;
    await t.database.db.deleteFrom('tickets').execute();
    await t.database.db.deleteFrom('provider_specialties').execute();
    await t.database.db.deleteFrom('providers').execute();
  });

  const create = async (body: Record<string, unknown>) => {
    const res = await t.request('POST', '/api/providers', { body });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body.data;
  };
  const importCsv = (text: string | Uint8Array, query = '', contentType = 'text/csv; charset=utf-8') =>
    t.request('POST', `/api/providers/import${query}`, {
      raw: text,
      headers: { 'content-type': contentType },
    });
  const countProviders = async () =>
    Number(
      (
        await t.database.db
          .selectFrom('providers')
          .select((eb) => eb.fn.countAll().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );

  describe.skipIf(skip)('', () => {
    describe('CRUD', () => {
      it('creates a provider with a normalized phone and answers 201 with it', async () => {
        const res = await t.request('POST', '/api/providers', {
          body: {
            name: ' Ana Pérez ',
            phone: '310 305 5424',
            location: 'Chapinero',
            specialties: ['Plomería', 'plomeria', 'Gas'],
          },
        });
        expect(res.status).toBe(201);
        expect(res.body).toEqual({
          success: true,
          data: {
            id: expect.any(String),
            name: 'Ana Pérez',
            phone: '573103055424',
            location: 'Chapinero',
            specialties: ['Plomería', 'Gas'],
            active: true,
            source: 'local',
            lastAssignedAt: null,
            stats: { accepted: 0, declined: 0, expired: 0, rankMinutes: null },
            createdAt: expect.any(String),
            updatedAt: expect.any(String),
          },
        });
        const got = await t.request('GET', `/api/providers/${res.body.data.id}`);
        expect(got.status).toBe(200);
        expect(got.body.data).toEqual(res.body.data);
      });

      it('refuses a phone another provider has, however it is written, with 409 naming that provider', async () => {
        const first = await create({
          name: 'Ana',
          phone: '3103055424',
          location: 'Suba',
          specialties: ['Gas'],
        });
        for (const phone of ['+57 310 305 5424', '573103055424', '(310) 305-5424']) {
          const res = await t.request('POST', '/api/providers', {
            body: { name: 'Otra', phone, location: 'Bosa', specialties: ['Pintura'] },
          });
          expect(res.status).toBe(409);
          expect(res.body).toEqual({
            success: false,
            error: {
              code: 'provider_phone_taken',
              message: 'Another provider already has this phone number',
              details: { field: 'phone', providerId: first.id },
            },
          });
        }
        expect(await countProviders()).toBe(1);
      });

      it('lets only one of many concurrent creates with the same phone win', async () => {
        const results = await Promise.all(
          Array.from({ length: 8 }, (_, i) =>
            t.request('POST', '/api/providers', {
              body: { name: `P${i}`, phone: '3001112233', location: 'Suba', specialties: ['Gas'] },
            }),
          ),
        );
        expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409, 409, 409, 409, 409, 409]);
        const winner = results.find((r) => r.status === 201)?.body.data.id;
        for (const r of results.filter((x) => x.status === 409))
          expect(r.body.error.details.providerId).toBe(winner);
      });

      it.each([
        [{ phone: '3103055424', location: 'Suba', specialties: ['Gas'] }, 'name', 'name is required'],
        [
          { name: '', phone: '3103055424', location: 'Suba', specialties: ['Gas'] },
          'name',
          'name must not be empty',
        ],
        [
          { name: '   ', phone: '3103055424', location: 'Suba', specialties: ['Gas'] },
          'name',
          'name must not be empty',
        ],
        [
          { name: 'n'.repeat(121), phone: '3103055424', location: 'Suba', specialties: ['Gas'] },
          'name',
          'name must be at most 120 characters',
        ],
        [{ name: 'Ana', location: 'Suba', specialties: ['Gas'] }, 'phone', 'phone is required'],
        [
          { name: 'Ana', phone: 3103055424, location: 'Suba', specialties: ['Gas'] },
          'phone',
          'phone must be a string',
        ],
        [{ name: 'Ana', phone: '3103055424', specialties: ['Gas'] }, 'location', 'location is required'],
        [
          { name: 'Ana', phone: '3103055424', location: 'l'.repeat(121), specialties: ['Gas'] },
          'location',
          'location must be at most 120 characters',
        ],
        [{ name: 'Ana', phone: '3103055424', location: 'Suba' }, 'specialties', 'specialties is required'],
        [
          { name: 'Ana', phone: '3103055424', location: 'Suba', specialties: 'Gas' },
          'specialties',
          'specialties must be an array',
        ],
        [
          { name: 'Ana', phone: '3103055424', location: 'Suba', specialties: [] },
          'specialties',
          'specialties must NOT have fewer than 1 items',
        ],
        [
          {
            name: 'Ana',
            phone: '3103055424',
            location: 'Suba',
            specialties: Array.from({ length: 21 }, (_, i) => `S${i}`),
          },
          'specialties',
          'specialties must NOT have more than 20 items',
        ],
        [
          { name: 'Ana', phone: '3103055424', location: 'Suba', specialties: ['Gas', ''] },
          'specialties.1',
          'specialties.1 must not be empty',
        ],
        [
          { name: 'Ana', phone: '3103055424', location: 'Suba', specialties: [' '] },
          'specialties.0',
          'specialties.0 must not be empty',
        ],
        [
          { name: 'Ana', phone: '3103055424', location: 'Suba', specialties: ['Gas'], active: 'yes' },
          'active',
          'active must be a boolean',
        ],
        [
          { name: 'Ana', phone: '3103055424', location: 'Suba', specialties: ['Gas'], rating: 5 },
          'rating',
          'rating is not allowed',
        ],
      ])('refuses %j with 400 naming %s', async (body, field, message) => {
        const res = await t.request('POST', '/api/providers', { body });
        expect(res.status).toBe(400);
        expect(res.body.success).toBe(false);
        expect(res.body.error).toMatchObject({ code: 'validation_error', message, details: { field } });
      });

      it.each(['123', 'abc', '1234567890', '+1 000 000 0000'])(
        'refuses the invalid phone %s with invalid_phone_number',
        async (phone) => {
          const res = await t.request('POST', '/api/providers', {
            body: { name: 'Ana', phone, location: 'Suba', specialties: ['Gas'] },
          });
          expect(res.status).toBe(400);
          expect(res.body.error.code).toBe('invalid_phone_number');
          expect(res.body.error.details).toEqual({ field: 'phone' });
        },
      );

      it('PATCH changes only the fields sent, re-validates the phone and refuses a taken one', async () => {
        const ana = await create({
          name: 'Ana',
          phone: '3103055424',
          location: 'Suba',
          specialties: ['Gas'],
        });
        const luis = await create({
          name: 'Luis',
          phone: '3001234567',
          location: 'Bosa',
          specialties: ['Pintura'],
        });

        const renamed = await t.request('PATCH', `/api/providers/${ana.id}`, {
          body: { name: 'Ana María', specialties: ['Electricidad', 'Plomería'] },
        });
        expect(renamed.status).toBe(200);
        expect(renamed.body.data).toMatchObject({
          id: ana.id,
          name: 'Ana María',
          phone: '573103055424',
          location: 'Suba',
          specialties: ['Electricidad', 'Plomería'],
          active: true,
          createdAt: ana.createdAt,
        });
        expect(renamed.body.data.updatedAt > ana.updatedAt).toBe(true);

        const moved = await t.request('PATCH', `/api/providers/${ana.id}`, {
          body: { phone: '+57 311 000 0001', active: false },
        });
        expect(moved.body.data).toMatchObject({ phone: '573110000001', active: false });

        const taken = await t.request('PATCH', `/api/providers/${ana.id}`, {
          body: { phone: '300 123 4567' },
        });
        expect(taken.status).toBe(409);
        expect(taken.body.error).toMatchObject({
          code: 'provider_phone_taken',
          details: { providerId: luis.id },
        });

        const own = await t.request('PATCH', `/api/providers/${ana.id}`, { body: { phone: '3110000001' } });
        expect(own.status).toBe(200);

        const bad = await t.request('PATCH', `/api/providers/${ana.id}`, { body: { phone: '12' } });
        expect(bad.status).toBe(400);
        expect(bad.body.error).toMatchObject({ code: 'invalid_phone_number', details: { field: 'phone' } });

        const blank = await t.request('PATCH', `/api/providers/${ana.id}`, { body: { location: '  ' } });
        expect(blank.body.error).toMatchObject({ code: 'validation_error', details: { field: 'location' } });

        const empty = await t.request('PATCH', `/api/providers/${ana.id}`, { body: {} });
        expect(empty.status).toBe(400);
        expect(empty.body.error.details.field).toBe('body');

        const extra = await t.request('PATCH', `/api/providers/${ana.id}`, { body: { id: 'x' } });
        expect(extra.body.error).toMatchObject({ code: 'validation_error', details: { field: 'id' } });

        const missing = await t.request('PATCH', `/api/providers/${newId()}`, { body: { name: 'x' } });
        expect(missing.status).toBe(404);
        expect(missing.body.error.code).toBe('not_found');

        const final = (await t.request('GET', `/api/providers/${ana.id}`)).body.data;
        expect(final).toMatchObject({ name: 'Ana María', phone: '573110000001', active: false });
      });

      it('DELETE answers the provider, then 404; its tickets keep their history without it', async () => {
        const ana = await create({
          name: 'Ana',
          phone: '3103055424',
          location: 'Suba',
          specialties: ['Gas'],
        });
        const ticketId = newId();
        await t.database.db
          .insertInto('tickets')
          .values({
            id: ticketId,
            number: `T-2026-${ticketId.slice(-5)}`,
            title: null,
            description: 'fuga',
            location: 'Suba',
            location_key: 'suba',
            specialty: 'Gas',
            specialty_key: 'gas',
            address: null,
            reporter_name: null,
            reporter_phone: null,
            status: 'notified',
            provider_id: ana.id,
            match_source: 'local_specialty',
            created_at: 1,
            updated_at: 1,
          })
          .execute();

        const res = await t.request('DELETE', `/api/providers/${ana.id}`);
        expect(res.status).toBe(200);
        expect(res.body.data.id).toBe(ana.id);
        expect((await t.request('GET', `/api/providers/${ana.id}`)).status).toBe(404);
        expect((await t.request('DELETE', `/api/providers/${ana.id}`)).status).toBe(404);
        const ticket = await t.database.db
          .selectFrom('tickets')
          .select('provider_id')
          .where('id', '=', ticketId)
          .executeTakeFirst();
        expect(ticket).toEqual({ provider_id: null });
        const keys = await t.database.db.selectFrom('provider_specialties').selectAll().execute();
        expect(keys).toEqual([]);
        // The phone is free again.
        await create({ name: 'Ana 2', phone: '3103055424', location: 'Suba', specialties: ['Gas'] });
      });

      it('requires the API key', async () => {
        const res = await t.request('GET', '/api/providers', {
          headers: { 'x-api-key': 'wrong-wrong-wrong-wrong' },
        });
        expect(res.status).toBe(401);
        expect(res.body.error.code).toBe('unauthorized');
      });
    });

    describe('list', () => {
      beforeEach(async () => {
        await create({ name: 'A', phone: '3000000001', location: 'Usaquén', specialties: ['Plomería'] });
        await create({ name: 'B', phone: '3000000002', location: 'usaquen ', specialties: ['Electricidad'] });
        await create({
          name: 'C',
          phone: '3000000003',
          location: 'Chapinero',
          specialties: ['plomeria', 'Gas'],
        });
        await create({
          name: 'D',
          phone: '3000000004',
          location: 'Chapinero',
          specialties: ['Gas'],
          active: false,
        });
        await create({ name: 'E', phone: '3000000005', location: 'Suba', specialties: ['Pintura'] });
      });
      const names = async (query: string) => {
        const res = await t.request('GET', `/api/providers${query}`);
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        return res.body.data.items.map((p: { name: string }) => p.name);
      };

      it('lists newest first and filters by location and specialty without regard to case or accents', async () => {
        expect(await names('')).toEqual(['E', 'D', 'C', 'B', 'A']);
        expect(await names('?location=USAQUEN')).toEqual(['B', 'A']);
        expect(await names(`?location=${encodeURIComponent(' usaquén ')}`)).toEqual(['B', 'A']);
        expect(await names(`?specialty=${encodeURIComponent('PLOMERÍA')}`)).toEqual(['C', 'A']);
        expect(await names('?location=chapinero&specialty=gas')).toEqual(['D', 'C']);
        expect(await names('?active=false')).toEqual(['D']);
        expect(await names('?active=true&location=chapinero')).toEqual(['C']);
        expect(await names(`?phone=${encodeURIComponent('+57 300 000 0003')}`)).toEqual(['C']);
        expect(await names('?source=directory')).toEqual([]);
      });

      it('pages with a cursor and never repeats or skips', async () => {
        const seen: string[] = [];
        let cursor: string | null = null;
        let pages = 0;
        do {
          const query: string = `?limit=2${cursor === null ? '' : `&cursor=${cursor}`}`;
          const res = await t.request('GET', `/api/providers${query}`);
          expect(res.body.data.items.length).toBeLessThanOrEqual(2);
          seen.push(...res.body.data.items.map((p: { name: string }) => p.name));
          cursor = res.body.data.nextCursor;
          pages += 1;
        } while (cursor !== null);
        expect(seen).toEqual(['E', 'D', 'C', 'B', 'A']);
        expect(pages).toBe(3);
      });

      it.each([
        ['?limit=0', 'limit'],
        ['?limit=201', 'limit'],
        ['?cursor=bm9wZQ', 'cursor'],
        ['?active=maybe', 'active'],
        ['?color=red', 'color'],
      ])('refuses %s with 400 naming %s', async (query, field) => {
        const res = await t.request('GET', `/api/providers${query}`);
        expect(res.status).toBe(400);
        expect(res.body.error).toMatchObject({ code: 'validation_error', details: { field } });
      });

      it('refuses an invalid phone filter', async () => {
        const res = await t.request('GET', '/api/providers?phone=12');
        expect(res.status).toBe(400);
        expect(res.body.error.code).toBe('invalid_phone_number');
      });

      it('answers 404 for an unknown id', async () => {
        const res = await t.request('GET', `/api/providers/${newId()}`);
        expect(res.status).toBe(404);
        expect(res.body.error.code).toBe('not_found');
      });
    });

    describe('CSV import', () => {
      it('creates, then updates by phone, and reports counts', async () => {
        const first = await importCsv(
          csv(
            HEADER,
            'Ana,310 305 5424,Chapinero,Plomería;Gas,sí',
            'Luis,3001234567,Usaquén,Pintura|Cerrajería,',
          ),
        );
        expect(first.status).toBe(200);
        expect(first.body).toEqual({
          success: true,
          data: { total: 2, created: 2, updated: 0, refused: [], dryRun: false },
        });
        const luis = (await t.request('GET', '/api/providers?phone=3001234567')).body.data.items[0];
        expect(luis).toMatchObject({
          name: 'Luis',
          location: 'Usaquén',
          specialties: ['Pintura', 'Cerrajería'],
          active: true,
        });

        const second = await importCsv(
          csv(HEADER, 'Luis Gómez,+57 300 123 4567,Suba,Gas,no', 'Eva,3110000001,Bosa,Gas,1'),
        );
        expect(second.body.data).toEqual({ total: 2, created: 1, updated: 1, refused: [], dryRun: false });
        const updated = (await t.request('GET', `/api/providers/${luis.id}`)).body.data;
        expect(updated).toMatchObject({
          name: 'Luis Gómez',
          location: 'Suba',
          specialties: ['Gas'],
          active: false,
          createdAt: luis.createdAt,
        });
        expect(await countProviders()).toBe(3);
        expect((await t.request('GET', '/api/providers?specialty=cerrajeria')).body.data.items).toEqual([]);
        expect(
          (await t.request('GET', '/api/providers?specialty=gas&location=suba')).body.data.items,
        ).toHaveLength(1);
      });

      it('keeps an existing provider active state when the column is empty', async () => {
        const off = await create({
          name: 'Off',
          phone: '3000000009',
          location: 'Suba',
          specialties: ['Gas'],
          active: false,
        });
        await importCsv(csv('name,phone,location,specialties', 'Off renamed,3000000009,Suba,Gas'));
        expect((await t.request('GET', `/api/providers/${off.id}`)).body.data).toMatchObject({
          name: 'Off renamed',
          active: false,
        });
      });

      it('refuses bad rows with their row number and reason, and writes the good ones', async () => {
        const res = await importCsv(
          csv(
            HEADER,
            'Ana,3103055424,Chapinero,Plomería,',
            ',3001234567,Suba,Gas,',
            'Luis,123,Suba,Gas,',
            'Copia,+573103055424,Bosa,Gas,',
            'Eva,3110000001,Bosa,,',
            'Iván,3110000002,Bosa,Gas,quizás',
            'Max,3110000003,Bosa,Gas,0',
          ),
        );
        expect(res.status).toBe(200);
        expect(res.body.data).toEqual({
          total: 7,
          created: 2,
          updated: 0,
          refused: [
            { row: 3, field: 'name', reason: 'name must not be empty' },
            { row: 4, field: 'phone', reason: expect.stringContaining('Invalid phone number') },
            { row: 5, field: 'phone', reason: 'phone is the same as on row 2' },
            { row: 6, field: 'specialties', reason: 'specialties must list at least one specialty' },
            { row: 7, field: 'active', reason: 'active must be true/false, 1/0 or sí/no' },
          ],
          dryRun: false,
        });
        expect(
          (await t.request('GET', '/api/providers')).body.data.items
            .map((p: { name: string }) => p.name)
            .sort(),
        ).toEqual(['Ana', 'Max']);
      });

      it.each([
        [
          'an unclosed quote',
          csv(
            HEADER,
            'Ana,3103055424,Chapinero,Gas,',
            '"Luis,3001234567,Suba,Gas,',
            'Eva,3110000001,Bosa,Gas,',
          ),
          3,
        ],
        ['a stray quote', csv(HEADER, 'Ana,3103055424,Chapinero,Gas,', 'Lu"is,3001234567,Suba,Gas,'), 3],
        ['a missing column', csv('name,phone,location', 'Ana,3103055424,Chapinero'), 1],
        ['an empty file', '', 1],
      ])('refuses a file with %s as invalid_csv, writing nothing', async (_name, text, line) => {
        await create({ name: 'Before', phone: '3000000001', location: 'Suba', specialties: ['Gas'] });
        const res = await importCsv(text);
        expect(res.status).toBe(400);
        expect(res.body.success).toBe(false);
        expect(res.body.error).toMatchObject({ code: 'invalid_csv', details: { line } });
        expect(await countProviders()).toBe(1);
      });

      it('writes nothing on a dry run but says what would happen', async () => {
        await create({ name: 'Known', phone: '3000000001', location: 'Suba', specialties: ['Gas'] });
        const res = await importCsv(
          csv(HEADER, 'Known,3000000001,Suba,Gas,', 'New,3000000002,Suba,Gas,'),
          '?dryRun=true',
        );
        expect(res.body.data).toEqual({ total: 2, created: 1, updated: 1, refused: [], dryRun: true });
        expect(await countProviders()).toBe(1);
      });

      it('reads text/plain, semicolon files and Windows-1252 bytes', async () => {
        const latin1 = Buffer.from(
          csv('nombre;telefono;ubicacion;especialidades', 'José;3103055424;Usaquén;Plomería'),
          'latin1',
        );
        const res = await importCsv(latin1, '', 'text/plain');
        expect(res.body.data).toMatchObject({ created: 1, refused: [] });
        const [jose] = (await t.request('GET', '/api/providers?location=usaquen')).body.data.items;
        expect(jose).toMatchObject({ name: 'José', location: 'Usaquén', specialties: ['Plomería'] });
      });

      it('imports a large file in one go', async () => {
        const rows = Array.from(
          { length: 1500 },
          (_, i) => `P${i},3${String(100000000 + i)},Zona ${i % 7},Gas;Plomería,`,
        );
        const res = await importCsv(csv(HEADER, ...rows));
        expect(res.body.data).toMatchObject({ total: 1500, created: 1500, updated: 0, refused: [] });
        expect(await countProviders()).toBe(1500);
        const again = await importCsv(csv(HEADER, ...rows));
        expect(again.body.data).toMatchObject({ created: 0, updated: 1500 });
        const keys = await t.database.db
          .selectFrom('provider_specialties')
          .select((eb) => eb.fn.countAll().as('n'))
          .executeTakeFirstOrThrow();
        expect(Number(keys.n)).toBe(3000);
      });

      it('refuses JSON with 415 and a body over the limit with 413', async () => {
        const json = await t.request('POST', '/api/providers/import', { body: { csv: 'x' } });
        expect(json.status).toBe(415);
        expect(json.body.error.code).toBe('unsupported_media_type');
        const big = await importCsv(
          csv(HEADER, ...Array.from({ length: 12_000 }, () => 'Ana,3103055424,Chapinero,Gas,')),
        );
        expect(big.status).toBe(413);
        expect(big.body.error.code).toBe('payload_too_large');
      });

      it('keeps JSON bodies of the other routes under the normal limit', async () => {
        const res = await t.request('POST', '/api/providers', {
          body: { name: 'x'.repeat(70_000), phone: '3103055424', location: 'Suba', specialties: ['Gas'] },
        });
        expect(res.status).toBe(413);
      });

      it('keyhomekey import-providers prints the report and exits 0, 65, 1 or 66', async () => {
        const dir = mkdtempSync(path.join(tmpdir(), 'khk-cli-'));
        const run = async (name: string, content: string | null) => {
          const file = path.join(dir, name);
          if (content !== null) writeFileSync(file, content);
          let out = '';
          let err = '';
          const code = await runImportProviders({
            file,
            database: t.database,
            defaultCountry: 'CO',
            clock: t.clock,
            stdout: (s) => (out += s),
            stderr: (s) => (err += s),
          });
          return { code, out, err };
        };
        try {
          const ok = await run('ok.csv', csv(HEADER, 'Ana,3103055424,Chapinero,Gas,'));
          expect(ok.code).toBe(0);
          expect(ok.out).toContain('created: 1');

          const partial = await run(
            'partial.csv',
            csv(HEADER, 'Ana,3103055424,Chapinero,Gas,', 'Luis,12,Suba,Gas,'),
          );
          expect(partial.code).toBe(65);
          expect(partial.out).toContain('updated: 1');
          expect(partial.out).toMatch(/row 3 \(phone\): Invalid phone number/);

          const broken = await run('broken.csv', csv(HEADER, '"Eva,3110000001,Bosa,Gas,'));
          expect(broken.code).toBe(1);
          expect(broken.err).toContain('line 2');
          expect(broken.err).toContain('Nothing was imported');

          expect((await run('missing.csv', null)).code).toBe(66);
          expect(await countProviders()).toBe(1);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      });
    });

    describe('matching', () => {
      const deps = (directory: ProviderDirectory | null = null): MatchDeps => ({
        store: t.store,
        directory,
        logger: t.logs.logger,
        defaultCountry: 'CO',
      });
      const match = (input: MatchInput, directory: ProviderDirectory | null = null) =>
        t.database.db.transaction().execute((trx) => matchProvider(deps(directory), trx, input));

      it('matches location and specialty without regard to case, accents or spaces, in cascade order', async () => {
        const plomero = await create({
          name: 'Plomero',
          phone: '3000000001',
          location: 'Usaquén',
          specialties: ['Plomería'],
        });
        const pintor = await create({
          name: 'Pintor',
          phone: '3000000002',
          location: 'Chapinero ',
          specialties: ['Pintura'],
        });

        expect(await match({ location: ' usaquen', specialty: 'PLOMERIA' })).toMatchObject({
          source: 'local_specialty',
          provider: { id: plomero.id },
        });
        expect(await match({ location: 'chapinero', specialty: 'Plomería' })).toMatchObject({
          source: 'local_location',
          provider: { id: pintor.id },
        });
        expect(await match({ location: 'Suba', specialty: 'Plomería' })).toEqual({
          provider: null,
          source: 'center',
        });

        // Deactivated providers are not offered.
        await t.request('PATCH', `/api/providers/${pintor.id}`, { body: { active: false } });
        expect((await match({ location: 'CHAPINERO', specialty: 'Pintura' })).source).toBe('center');

        const logged = t.logs.events('provider.matched').slice(-4);
        expect(logged.map((l) => l.source)).toEqual([
          'local_specialty',
          'local_location',
          'center',
          'center',
        ]);
        expect(logged[0]).toMatchObject({ providerId: plomero.id, to: '57300***0001' });
        expect(JSON.stringify(t.logs.lines)).not.toContain('573000000001');
      });

      it('offers the least recently assigned first and records the assignment', async () => {
        const ids = [];
        for (const name of ['A', 'B', 'C']) {
          ids.push(
            (
              await create({
                name,
                phone: `300000000${ids.length + 1}`,
                location: 'Suba',
                specialties: ['Gas'],
              })
            ).id,
          );
        }
        const picked = [];
        for (let i = 0; i < 5; i += 1)
          picked.push((await match({ location: 'suba', specialty: 'gas' })).provider?.name);
        expect(picked).toEqual(['A', 'B', 'C', 'A', 'B']);
        const c = (await t.request('GET', `/api/providers/${ids[2]}`)).body.data;
        expect(c.lastAssignedAt).toEqual(expect.any(String));
        expect(
          (await match({ location: 'suba', specialty: 'gas', excludeIds: [ids[2]!] })).provider?.name,
        ).toBe('A');
      });

      it('spreads concurrent matches over different providers', async () => {
        for (let i = 1; i <= 4; i += 1) {
          await create({ name: `P${i}`, phone: `300000000${i}`, location: 'Bosa', specialties: ['Gas'] });
        }
        const results = await Promise.all(
          Array.from({ length: 4 }, () => match({ location: 'Bosa', specialty: 'Gas' })),
        );
        expect(new Set(results.map((r) => r.provider?.name)).size).toBe(4);
      });

      describe('with the HTTP directory', () => {
        let directory: FakeDirectory;
        beforeAll(async () => {
          directory = await startFakeDirectory();
        });
        afterAll(async () => directory.close());

        const http = (pathname: string, timeoutMs = 1000) =>
          createHttpProviderDirectory({
            url: `${directory.url}${pathname}?key=abc`,
            timeoutMs,
            logger: t.logs.logger,
            defaultCountry: 'CO',
          });

        it('adopts the first directory entry when nothing local matches, and finds it again by phone', async () => {
          await create({
            name: 'Otro sitio',
            phone: '3000000001',
            location: 'Suba',
            specialties: ['Plomería'],
          });
          const first = await match({ location: 'Usaquén', specialty: 'Plomería' }, http('/ok'));
          expect(first).toMatchObject({
            source: 'directory',
            provider: {
              name: 'Retel Plomería',
              phone: '573005550101',
              location: 'Usaquén',
              specialties: ['Plomería'],
              source: 'directory',
              active: true,
            },
          });
          const asked = directory.requests.at(-1)!;
          expect(asked.pathname).toBe('/ok');
          expect(Object.fromEntries(asked.searchParams)).toEqual({
            key: 'abc',
            location: 'Usaquén',
            specialty: 'Plomería',
          });

          const second = await match({ location: 'usaquen', specialty: 'plomeria' }, http('/ok'));
          expect(second.provider?.name).toBe('Numeric');
          const third = await match({ location: 'usaquen', specialty: 'plomeria' }, http('/ok'));
          expect(third.provider?.id).toBe(first.provider?.id);
          const adopted = (await t.request('GET', '/api/providers?source=directory')).body.data.items;
          expect(adopted).toHaveLength(2);
          expect(adopted.find((p: { name: string }) => p.name === 'Numeric')).toMatchObject({
            location: 'Bosa',
            phone: '573005550104',
          });
        });

        it('lets a caller ask the directory before its transaction', async () => {
          const input = { location: 'Kennedy', specialty: 'Gas' };
          const before = directory.requests.length;
          const entries = await lookupDirectoryIfNeeded(deps(http('/ok')), t.database.db, input);
          expect(directory.requests.length).toBe(before + 1);
          const result = await t.database.db
            .transaction()
            .execute((trx) => matchProvider(deps(http('/ok')), trx, input, { directoryEntries: entries }));
          expect(result.source).toBe('directory');
          expect(directory.requests.length).toBe(before + 1);
        });

        it('drops entries without a name or a valid phone, logging them masked', async () => {
          const entries = await http('/ok').find({ location: 'Suba', specialty: 'Gas' });
          expect(entries).toEqual([
            { name: 'Retel Plomería', phone: '573005550101', location: null, specialties: ['Plomería'] },
            { name: 'Numeric', phone: '573005550104', location: 'Bosa', specialties: [] },
          ]);
          const dropped = t.logs.events('provider_directory.entry_dropped').slice(-3);
          expect(dropped.map((d) => d.reason)).toEqual(['invalid_phone', 'missing_name', 'not_an_object']);
          expect(dropped[0]?.phone).toBe('12***');
        });

        it.each([
          ['/slow', 'timeout'],
          ['/slow-body', 'timeout'],
          ['/500', 'http_status'],
          ['/garbage', 'invalid_json'],
          ['/shape', 'wrong_shape'],
          ['/huge', 'too_large'],
        ])('answers [] for %s and logs provider_directory.failed (%s)', async (pathname, reason) => {
          const entries = await http(pathname, 300).find({ location: 'Suba', specialty: 'Gas' });
          expect(entries).toEqual([]);
          // The logged reason tells a timeout from a slow answer (which would also be []).
          expect(t.logs.events('provider_directory.failed').at(-1)).toMatchObject({ level: 40, reason });
        });

        it('answers [] when the directory cannot be reached, and matching goes on to the center', async () => {
          const unreachable = createHttpProviderDirectory({
            url: 'http://127.0.0.1:9/none',
            timeoutMs: 500,
            logger: t.logs.logger,
            defaultCountry: 'CO',
          });
          expect(await match({ location: 'Fontibón', specialty: 'Gas' }, unreachable)).toEqual({
            provider: null,
            source: 'center',
          });
          expect(t.logs.events('provider_directory.failed').at(-1)).toMatchObject({ reason: 'network' });
        });

        it('falls back to the center when the directory has nobody', async () => {
          expect(await match({ location: 'Fontibón', specialty: 'Gas' }, http('/empty'))).toEqual({
            provider: null,
            source: 'center',
          });
        });
      });
    });
  });
});

describe('provider directory without a database', () => {
  let directory: FakeDirectory;
  let logs: LogSink;
  beforeAll(async () => {
    directory = await startFakeDirectory();
  });
  afterAll(async () => directory.close());
  beforeEach(() => {
    logs = logSink();
  });
  afterEach(() => undefined);

  it('never logs a full phone number', async () => {
    const entries = await createHttpProviderDirectory({
      url: `${directory.url}/ok`,
      timeoutMs: 1000,
      logger: logs.logger,
      defaultCountry: 'CO',
    }).find({ location: 'Suba', specialty: 'Gas' });
    expect(entries).toHaveLength(2);
    const text = JSON.stringify(logs.lines);
    expect(text).not.toContain('573005550101');
    expect(text).not.toContain('12345');
  });
});
