import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/shared/error-codes.js';
import { signWebhookBody } from '../../src/whatsapp/webhook-signature.js';
import { assertNoSecretsInLogs } from '../helpers/log-secrets.js';
import {
  DIALECTS,
  isPostgresAvailable,
  startTestApp,
  TEST_API_KEY,
  type TestApp,
} from '../helpers/test-app.js';
import { anyJson, anyText, fuzzParameters, fuzzRuns, objectWith } from './arbitraries.js';
import { metaShaped } from './webhook-arbitraries.js';

const hasPostgres = await isPostgresAvailable();
const APP_SECRET = 'fuzz-app-secret-0123456789abcdef';

interface FuzzRequest {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  url: string;
  headers: Record<string, string>;
  payload?: string | Buffer;
}

/** Percent-encodes every byte (lone surrogates become U+FFFD, as a client would send them). */
const encode = (value: string): string =>
  [...Buffer.from(value, 'utf8')].map((byte) => `%${byte.toString(16).padStart(2, '0')}`).join('');

/** A path segment: a real-looking id, anything encoded, or raw bytes including broken escapes (`%E0%A4%A`). */
const segment = fc.oneof(
  fc.uuid(),
  anyText(40).map(encode),
  fc.string({ unit: fc.constantFrom(...'abc019-_.~%:@!$&()*+,;=EF'), minLength: 1, maxLength: 20 }),
);

const queryString = (keys: readonly string[]): fc.Arbitrary<string> =>
  fc
    .array(
      fc.tuple(
        fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...keys) }, { weight: 1, arbitrary: anyText(8) }),
        fc.oneof(anyText(30), fc.integer().map(String), fc.constantFrom('', '-1', '0', '1e9', 'NaN', 'true')),
        fc.boolean(),
      ),
      { maxLength: 5 },
    )
    .map((pairs) =>
      pairs.length === 0
        ? ''
        : `?${pairs.map(([k, v, isEncoded]) => (isEncoded ? `${encode(k)}=${encode(v)}` : `${k}=${v}`)).join('&')}`,
    );

/** A JSON body: an object with the route's fields holding anything, or any JSON value, or broken JSON. */
const jsonBody = (keys: readonly string[]): fc.Arbitrary<{ payload: string; contentType: string }> =>
  fc
    .oneof(
      { weight: 5, arbitrary: objectWith(keys).map((value) => JSON.stringify(value)) },
      { weight: 2, arbitrary: anyJson.map((value) => JSON.stringify(value) ?? 'null') },
      { weight: 1, arbitrary: anyText(200) },
    )
    .chain((payload) =>
      fc
        .oneof(
          { weight: 6, arbitrary: fc.constant('application/json') },
          {
            weight: 1,
            arbitrary: fc.constantFrom(
              'application/json; charset=utf-16',
              'text/plain',
              'application/x-www-form-urlencoded',
              'multipart/form-data; boundary=x',
              'application/json; charset=latin1',
              '',
            ),
          },
        )
        .map((contentType) => ({ payload, contentType })),
    );

interface Part {
  name: string;
  filename: string | null;
  type: string;
  data: Uint8Array;
}

const anyPart = (fields: readonly string[]): fc.Arbitrary<Part> =>
  fc.record({
    name: fc.oneof(fc.constantFrom(...fields), anyText(10)),
    filename: fc.option(anyText(30)),
    type: fc.constantFrom('image/png', 'application/pdf', 'text/plain', 'application/octet-stream'),
    data: fc.oneof(
      fc.uint8Array({ maxLength: 300 }),
      anyText(100).map((text) => Buffer.from(text)),
    ),
  });

/** A text field of any content (the required ones, so the body gets past validation to the database). */
const textPart = (name: string): fc.Arbitrary<Part> =>
  anyText(40).map((value) => ({ name, filename: null, type: 'text/plain', data: Buffer.from(value) }));

/** Multipart bodies: well-formed parts with odd names, filenames and bytes, or garbage after a boundary. */
const multipartBody = (
  fields: readonly string[],
  required: readonly string[] = [],
): fc.Arbitrary<{ payload: Buffer; contentType: string }> =>
  fc
    .tuple(fc.tuple(...required.map(textPart)), fc.array(anyPart(fields), { maxLength: 4 }), fc.boolean())
    .map(([first, rest, isTruncated]) => {
      const boundary = 'fuzzboundary';
      const chunks: Buffer[] = [];
      for (const part of [...first, ...rest]) {
        const disposition =
          part.filename === null
            ? `form-data; name="${part.name}"`
            : `form-data; name="${part.name}"; filename="${part.filename}"`;
        chunks.push(
          Buffer.from(
            `--${boundary}\r\nContent-Disposition: ${disposition}\r\nContent-Type: ${part.type}\r\n\r\n`,
          ),
          Buffer.from(part.data),
          Buffer.from('\r\n'),
        );
      }
      if (!isTruncated) chunks.push(Buffer.from(`--${boundary}--\r\n`));
      return { payload: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
    });

const jsonRequest = (
  method: FuzzRequest['method'],
  path: fc.Arbitrary<string>,
  keys: readonly string[],
): fc.Arbitrary<FuzzRequest> =>
  fc.tuple(path, jsonBody(keys)).map(([url, body]) => ({
    method,
    url,
    headers: body.contentType === '' ? {} : { 'content-type': body.contentType },
    payload: body.payload,
  }));

const NOTIFY_KEYS = ['to', 'message', 'template', 'mediaUrl', 'mediaId', 'mediaType', 'caption', 'filename'];
const TICKET_KEYS = ['description', 'location', 'specialty', 'title', 'address', 'reporter'];
const PROVIDER_KEYS = ['name', 'phone', 'location', 'specialties', 'active'];

/** Numbers that pass validation, and near misses: the rest of the body then reaches the database. */
const phone = fc.oneof(
  fc.constantFrom('3103055424', '+57 300 555 1234', '573005556789', '+1 415 555 2671', '+34 612 345 678'),
  fc.stringMatching(/^3[0-2][0-9]{8}$/),
  anyText(20),
);

/** Bodies that are valid in shape with text of any kind inside (unicode, NUL, RTL marks, 4 KB+). */
const wellShaped: fc.Arbitrary<FuzzRequest>[] = [
  fc
    .record({ to: phone, message: fc.oneof(anyText(200), fc.string({ minLength: 4000, maxLength: 4200 })) })
    .map((body) => ({
      method: 'POST' as const,
      url: '/api/whatsapp/notify',
      headers: { 'content-type': 'application/json', prefer: 'respond-async' },
      payload: JSON.stringify(body),
    })),
  fc
    .record(
      {
        description: anyText(300),
        location: anyText(40),
        specialty: anyText(40),
        title: anyText(80),
        address: anyText(80),
        reporter: fc.record({ name: anyText(40), phone }, { requiredKeys: [] }),
      },
      { requiredKeys: ['description', 'location', 'specialty'] },
    )
    .map((body) => ({
      method: 'POST' as const,
      url: '/api/tickets',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify(body),
    })),
  fc
    .record({
      name: anyText(60),
      phone,
      location: anyText(40),
      specialties: fc.array(anyText(30), { maxLength: 5 }),
      active: fc.boolean(),
    })
    .map((body) => ({
      method: 'POST' as const,
      url: '/api/providers',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify(body),
    })),
];

/** Every JSON route of the API with bodies, params and query strings of any shape. */
const apiRequest: fc.Arbitrary<FuzzRequest> = fc.oneof(
  ...wellShaped,
  jsonRequest('POST', fc.constant('/api/whatsapp/notify'), NOTIFY_KEYS).chain((request) =>
    fc.record({ 'idempotency-key': fc.option(anyText(300)), prefer: fc.option(anyText(20)) }).map((extra) => {
      const headers = { ...request.headers };
      for (const [name, value] of Object.entries(extra)) {
        // Header values are bytes on the wire: keep what a client could send.
        if (value !== null && /^[\t\x20-\x7e\x80-\xff]*$/.test(value)) headers[name] = value;
      }
      return { ...request, headers };
    }),
  ),
  queryString(['status', 'to', 'ticketId', 'limit', 'cursor', 'direction']).map((query) => ({
    method: 'GET' as const,
    url: `/api/messages${query}`,
    headers: {},
  })),
  segment.map((id) => ({ method: 'GET' as const, url: `/api/messages/${id}`, headers: {} })),
  jsonRequest('POST', fc.constant('/api/tickets'), TICKET_KEYS),
  fc
    .oneof(
      multipartBody(['media', ...TICKET_KEYS]),
      multipartBody(
        ['media', 'title', 'address', 'reporter.phone'],
        ['description', 'location', 'specialty'],
      ),
    )
    .map((body) => ({
      method: 'POST' as const,
      url: '/api/tickets',
      headers: { 'content-type': body.contentType },
      payload: body.payload,
    })),
  queryString(['status', 'provider', 'location', 'limit', 'cursor']).map((query) => ({
    method: 'GET' as const,
    url: `/api/tickets${query}`,
    headers: {},
  })),
  segment.map((id) => ({ method: 'GET' as const, url: `/api/tickets/${id}`, headers: {} })),
  fc.tuple(segment, segment).map(([id, mediaId]) => ({
    method: 'GET' as const,
    url: `/api/tickets/${id}/media/${mediaId}`,
    headers: {},
  })),
  jsonRequest(
    'POST',
    segment.map((id) => `/api/tickets/${id}/reassign`),
    ['providerId'],
  ),
  jsonRequest('POST', fc.constant('/api/providers'), PROVIDER_KEYS),
  jsonRequest(
    'PATCH',
    segment.map((id) => `/api/providers/${id}`),
    PROVIDER_KEYS,
  ),
  segment.map((id) => ({ method: 'GET' as const, url: `/api/providers/${id}`, headers: {} })),
  segment.map((id) => ({ method: 'DELETE' as const, url: `/api/providers/${id}`, headers: {} })),
  queryString(['location', 'specialty', 'active', 'limit', 'cursor']).map((query) => ({
    method: 'GET' as const,
    url: `/api/providers${query}`,
    headers: {},
  })),
  fc
    .tuple(
      queryString(['dryRun']),
      fc.oneof(
        anyText(300),
        fc
          .array(fc.array(anyText(20), { maxLength: 5 }), { maxLength: 6 })
          .map((rows) => ['name,phone,location,specialties', ...rows.map((r) => r.join(','))].join('\n')),
      ),
      fc.constantFrom('text/csv', 'text/plain', 'application/csv', 'application/json'),
    )
    .map(([query, csv, contentType]) => ({
      method: 'POST' as const,
      url: `/api/providers/import${query}`,
      headers: { 'content-type': contentType },
      payload: csv,
    })),
  multipartBody(['file']).map((body) => ({
    method: 'POST' as const,
    url: '/api/whatsapp/media',
    headers: { 'content-type': body.contentType },
    payload: body.payload,
  })),
  segment.map((n) => ({ method: 'GET' as const, url: `/api/sandbox/inbox/${n}`, headers: {} })),
  segment.map((n) => ({ method: 'GET' as const, url: `/api/sandbox/inbox/${n}/conversation`, headers: {} })),
  jsonRequest(
    'POST',
    fc.oneof(fc.constant('573005557000'), segment).map((n) => `/api/sandbox/inbox/${n}/reply`),
    ['text', 'buttonId', 'button', 'wamid', 'name'],
  ),
  jsonRequest('POST', fc.constant('/api/sandbox/scenarios'), [
    'fault',
    'to',
    'next',
    'probability',
    'delayMs',
  ]),
);

/** Webhook deliveries: validly signed bodies of any content, and forged or missing signatures. */
const webhookRequest: fc.Arbitrary<FuzzRequest & { isSigned: boolean; isJson: boolean }> = fc
  .tuple(
    fc.oneof(
      { weight: 3, arbitrary: anyJson.map((value) => JSON.stringify(value) ?? 'null') },
      { weight: 3, arbitrary: metaShaped.map((value) => JSON.stringify(value)) },
      { weight: 1, arbitrary: anyText(200) },
    ),
    fc.constantFrom('valid', 'valid', 'valid', 'forged', 'missing', 'garbage'),
    fc.constantFrom('application/json', 'text/plain', 'application/octet-stream'),
  )
  .map(([body, signature, contentType]) => {
    const headers: Record<string, string> = { 'content-type': contentType };
    if (signature === 'valid') headers['x-hub-signature-256'] = signWebhookBody(body, APP_SECRET);
    if (signature === 'forged')
      headers['x-hub-signature-256'] = signWebhookBody(body, 'not-the-secret-at-all');
    if (signature === 'garbage') headers['x-hub-signature-256'] = 'sha256=zz';
    let isJson = true;
    try {
      JSON.parse(body);
    } catch {
      isJson = false;
    }
    return {
      method: 'POST' as const,
      url: '/api/whatsapp/webhook',
      headers,
      payload: body,
      isSigned: signature === 'valid',
      isJson,
    };
  });

const handshakeRequest: fc.Arbitrary<FuzzRequest> = queryString([
  'hub.mode',
  'hub.verify_token',
  'hub.challenge',
]).map((query) => ({ method: 'GET', url: `/api/whatsapp/webhook${query}`, headers: {} }));

describe.each(DIALECTS)('HTTP routes under fuzzing on %s', (dialect) => {
  let t: TestApp;
  const skip = dialect === 'postgres' && !hasPostgres;
  // PostgreSQL round trips cost more: fewer runs there, same properties.
  const runs = (base: number) => fuzzRuns(dialect === 'postgres' ? Math.ceil(base / 2) : base);

  beforeAll(async () => {
    if (skip) return;
    t = await startTestApp({
      dialect,
      env: {
        WHATSAPP_APP_SECRET: APP_SECRET,
        WHATSAPP_VERIFY_TOKEN: 'fuzz-verify-token',
        WHATSAPP_DEFAULT_TO: '573103055424',
        // Answer at once: the property is about the HTTP answer, not about waiting for the sandbox.
        NOTIFY_WAIT_MS: '0',
        // Every injected request comes from one address; long runs exceed the webhook's per-address limit.
        WEBHOOK_RATE_LIMIT_MAX: '0',
        LOG_LEVEL: 'warn',
      },
    });
  });
  afterAll(async () => {
    if (t === undefined) return;
    await t.app.webhookInbox.idle();
    // Nothing failed unexpectedly in the background either (stored webhooks, sends).
    const failures = t.logs.filter((line) =>
      /"event":"(http\.unexpected_error|webhook\.process_failed|dispatcher\.process_failed)"/.test(line),
    );
    expect(failures.slice(0, 3)).toEqual([]);
    assertNoSecretsInLogs(t.logs, { secrets: [TEST_API_KEY, APP_SECRET, 'fuzz-verify-token'] });
    await t.close();
  });

  const send = async (request: FuzzRequest, withKey = true) => {
    const res = await t.app.http.inject({
      method: request.method,
      url: request.url,
      headers: withKey ? { 'x-api-key': TEST_API_KEY, ...request.headers } : request.headers,
      ...(request.payload === undefined ? {} : { payload: request.payload }),
    });
    return res;
  };

  /** Never a 5xx; every refusal is the JSON envelope with a known code. */
  const expectWellFormed = (res: Awaited<ReturnType<typeof send>>, request: FuzzRequest) => {
    const where = `${request.method} ${request.url.slice(0, 200)} → ${res.statusCode} ${res.body.slice(0, 300)}`;
    expect(res.statusCode, where).toBeLessThan(500);
    if (res.statusCode >= 400) {
      expect(res.headers['content-type'], where).toMatch(/^application\/json/);
      const body = JSON.parse(res.body) as { success: unknown; error: { code: unknown; message: unknown } };
      expect(body.success, where).toBe(false);
      expect(Object.keys(ERROR_CODES), where).toContain(body.error.code);
      expect(typeof body.error.message, where).toBe('string');
      expect(res.body, where).not.toMatch(/\n\s+at |node_modules|\.ts:\d+/);
    }
  };

  describe.skipIf(skip)('', () => {
    it('answers every API request below 500, refusals in the envelope', async () => {
      await fc.assert(
        fc.asyncProperty(apiRequest, async (request) => {
          expectWellFormed(await send(request), request);
        }),
        fuzzParameters(runs(600)),
      );
    });

    it('refuses every API request without the key with 401 (404 for no route, 400 for an undecodable URL)', async () => {
      await fc.assert(
        fc.asyncProperty(apiRequest, async (request) => {
          const res = await send(request, false);
          expectWellFormed(res, request);
          // A URL that cannot even be decoded is refused before routing (nothing is read either way).
          if (res.statusCode === 400) expect(JSON.parse(res.body).error.code).toBe('invalid_url');
          else expect([401, 404]).toContain(res.statusCode);
        }),
        fuzzParameters(runs(100)),
      );
    });

    it('takes any validly signed JSON delivery, and refuses unsigned or non-JSON ones in the envelope', async () => {
      await fc.assert(
        fc.asyncProperty(webhookRequest, async (request) => {
          const res = await send(request, false);
          expectWellFormed(res, request);
          const size = Buffer.byteLength(request.payload ?? '');
          if (!request.isSigned) expect(res.statusCode).toBe(401);
          else if (size > 1024 * 1024) expect(res.statusCode).toBe(413);
          else if (!request.isJson) expect(res.statusCode).toBe(400);
          else expect(res.statusCode, res.body).toBe(200);
        }),
        fuzzParameters(runs(300)),
      );
      // Whatever was stored is processed in the background without taking the process down.
      await t.app.webhookInbox.idle();
    });

    it('answers the handshake only to the right token, with any query', async () => {
      await fc.assert(
        fc.asyncProperty(handshakeRequest, async (request) => {
          const res = await send(request, false);
          expect(res.statusCode, request.url).toBeLessThan(500);
          if (res.statusCode !== 200) expectWellFormed(res, request);
        }),
        fuzzParameters(runs(100)),
      );
    });

    it('processes a signed delivery whose strings hold NUL (regression: failed forever on PostgreSQL)', async () => {
      const body = JSON.stringify({
        object: 'whatsapp_business_account',
        entry: [
          {
            id: '1',
            changes: [
              {
                field: 'messages',
                value: {
                  metadata: { phone_number_id: '100000000000001' },
                  statuses: [{ id: 'wamid.\u0000nul', status: 'read', timestamp: '1700000000' }],
                  messages: [
                    {
                      from: '573005557002',
                      id: 'wamid.in\u0000',
                      timestamp: '1700000000',
                      type: 'text',
                      text: { body: 'hola\u0000mundo' },
                    },
                  ],
                },
              },
            ],
          },
        ],
      });
      const res = await send(
        {
          method: 'POST',
          url: '/api/whatsapp/webhook',
          headers: {
            'content-type': 'application/json',
            'x-hub-signature-256': signWebhookBody(body, APP_SECRET),
          },
          payload: body,
        },
        false,
      );
      expect(res.statusCode).toBe(200);
      await t.app.webhookInbox.idle();
      const inbound = await t.request('GET', '/api/messages?direction=inbound&to=573005557002');
      expect(inbound.body.data.items[0].content.content).toEqual({ kind: 'text', body: 'hola\uFFFDmundo' });
    });

    it('refuses NUL in multipart ticket fields with 400 (regression: a 500 on PostgreSQL)', async () => {
      const part = (name: string, value: string) =>
        `--b\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
      const res = await send({
        method: 'POST',
        url: '/api/tickets',
        headers: { 'content-type': 'multipart/form-data; boundary=b' },
        payload: `${part('description', 'fuga\u0000')}${part('location', 'Bogotá')}${part('specialty', 'plomería')}--b--\r\n`,
      });
      expect(res.statusCode).toBe(400);
      expect(JSON.parse(res.body).error).toMatchObject({
        code: 'validation_error',
        details: { field: 'description' },
      });
    });

    it('still serves normal requests afterwards', async () => {
      await t.request('DELETE', '/api/sandbox/scenarios');
      expect((await t.request('GET', '/healthz')).status).toBe(200);
      expect((await t.request('GET', '/readyz')).status).toBe(200);
      const res = await t.request('POST', '/api/whatsapp/notify', {
        body: { to: '3005557001', message: 'después del fuzz' },
        headers: { prefer: 'respond-async' },
      });
      expect(res.status).toBe(202);
      const ticket = await t.request('POST', '/api/tickets', {
        body: { description: 'fuga', location: 'Bogotá', specialty: 'plomería' },
      });
      expect(ticket.status).toBe(201);
    });
  });
});
