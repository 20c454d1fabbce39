import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createCloudApiClient, parseRetryAfter, type CloudApiClientOptions } from './cloud-api-client.js';
import { classifyFailure } from './graph-error.js';
import type {
  SendFailure,
  SendRequest,
  SendResult,
  UploadResult,
  WhatsAppClient,
} from './whatsapp-client.js';

const TOKEN = 'EAAG-secret-token-value-1234567890';
const PHONE_NUMBER_ID = '106540352242922';
const WAMID = 'wamid.HBgMNTczMTA0NTY3ODkwFQIAERgSM0VCMEExQjJDM0Q0RTVGNkE3AA==';

interface ReceivedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

type Handler = (request: ReceivedRequest, response: ServerResponse) => void;

interface GraphServer {
  baseUrl: string;
  received: ReceivedRequest[];
  close(): Promise<void>;
}

const openServers: GraphServer[] = [];

afterEach(async () => {
  await Promise.all(openServers.splice(0).map((server) => server.close()));
});

/** A real HTTP server on an ephemeral port standing in for graph.facebook.com. */
async function startGraphServer(handler: Handler): Promise<GraphServer> {
  const received: ReceivedRequest[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const entry = {
        method: request.method ?? '',
        url: request.url ?? '',
        headers: request.headers,
        body: Buffer.concat(chunks),
      };
      received.push(entry);
      handler(entry, response);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const graphServer: GraphServer = {
    baseUrl: `http://127.0.0.1:${port}`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  openServers.push(graphServer);
  return graphServer;
}

function replyJson(status: number, body: unknown, headers: Record<string, string> = {}): Handler {
  return (_request, response) => {
    response.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', ...headers });
    response.end(JSON.stringify(body));
  };
}

const sendSuccess = replyJson(200, {
  messaging_product: 'whatsapp',
  contacts: [{ input: '573104567890', wa_id: '573104567890' }],
  messages: [{ id: WAMID, message_status: 'accepted' }],
});

function graphError(code: number, message: string, details: string): unknown {
  return {
    error: {
      message,
      type: 'OAuthException',
      code,
      error_data: { messaging_product: 'whatsapp', details },
      fbtrace_id: 'A5Ld_C-mecwFT9GzebFGU0m',
    },
  };
}

function clientFor(baseUrl: string, overrides: Partial<CloudApiClientOptions> = {}): WhatsAppClient {
  return createCloudApiClient({
    baseUrl,
    apiVersion: 'v24.0',
    phoneNumberId: PHONE_NUMBER_ID,
    token: TOKEN,
    timeoutMs: 2000,
    ...overrides,
  });
}

const textRequest: SendRequest = {
  to: '573104567890',
  message: { kind: 'text', body: 'Ticket T-2026-00042 asignado a usted.' },
  callbackData: 'msg:42',
};

/** Unwraps a failure and checks the one invariant every failure must keep: the token never leaks. */
function expectFailure(result: SendResult | UploadResult): SendFailure {
  if (result.ok) throw new Error(`expected a failure, got ${JSON.stringify(result)}`);
  expect(JSON.stringify(result.failure)).not.toContain(TOKEN);
  expect(JSON.stringify(result.failure)).not.toContain('secret-token');
  return result.failure;
}

function jsonBodyOf(request: ReceivedRequest | undefined): unknown {
  if (!request) throw new Error('the server received no request');
  return JSON.parse(request.body.toString('utf8')) as unknown;
}

async function closedPortUrl(): Promise<string> {
  const server = await startGraphServer(() => undefined);
  await server.close();
  return server.baseUrl;
}

describe('createCloudApiClient sendMessage', () => {
  it('POSTs a text message to /{version}/{phone-number-id}/messages with the Bearer token', async () => {
    const server = await startGraphServer(sendSuccess);

    const result = await clientFor(server.baseUrl).sendMessage(textRequest);

    expect(result).toEqual({ ok: true, wamid: WAMID, waId: '573104567890' });
    const [request] = server.received;
    expect(request?.method).toBe('POST');
    expect(request?.url).toBe(`/v24.0/${PHONE_NUMBER_ID}/messages`);
    expect(request?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(request?.headers['content-type']).toBe('application/json');
    expect(jsonBodyOf(request)).toEqual({
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      to: '573104567890',
      type: 'text',
      text: { body: 'Ticket T-2026-00042 asignado a usted.' },
      biz_opaque_callback_data: 'msg:42',
    });
  });

  it('tolerates a trailing slash in baseUrl and omits absent optional fields', async () => {
    const server = await startGraphServer(sendSuccess);

    await clientFor(`${server.baseUrl}/`).sendMessage({
      to: '573104567890',
      message: { kind: 'text', body: 'https://keyhomekey.co/t/42', previewUrl: true },
    });

    expect(server.received[0]?.url).toBe(`/v24.0/${PHONE_NUMBER_ID}/messages`);
    const body = jsonBodyOf(server.received[0]);
    expect(body).toEqual({
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      to: '573104567890',
      type: 'text',
      text: { body: 'https://keyhomekey.co/t/42', preview_url: true },
    });
  });

  it('sends a template with components as given and a deterministic language policy', async () => {
    const server = await startGraphServer(sendSuccess);
    const components = [
      { type: 'header' as const, parameters: [{ type: 'text' as const, text: 'T-2026-00042' }] },
      {
        type: 'body' as const,
        parameters: [
          { type: 'text' as const, text: 'Edificio Calle 93 #11-27, Bogotá' },
          { type: 'text' as const, text: 'Fuga de agua en baño 2' },
        ],
      },
      {
        type: 'button' as const,
        sub_type: 'quick_reply' as const,
        index: '0',
        parameters: [{ type: 'payload' as const, payload: 'accept:T-2026-00042' }],
      },
    ];

    await clientFor(server.baseUrl).sendMessage({
      to: '573104567890',
      message: { kind: 'template', name: 'nuevo_ticket_mantenimiento', language: 'es', components },
      callbackData: 'ticket:T-2026-00042',
    });

    expect(jsonBodyOf(server.received[0])).toEqual({
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      to: '573104567890',
      type: 'template',
      biz_opaque_callback_data: 'ticket:T-2026-00042',
      template: {
        name: 'nuevo_ticket_mantenimiento',
        language: { code: 'es', policy: 'deterministic' },
        components,
      },
    });
  });

  it('sends interactive reply buttons in Meta shape', async () => {
    const server = await startGraphServer(sendSuccess);

    await clientFor(server.baseUrl).sendMessage({
      to: '573104567890',
      message: {
        kind: 'interactive',
        header: 'Ticket T-2026-00042',
        body: 'Fuga de agua en baño 2. ¿Acepta el servicio?',
        footer: 'Mantenimiento',
        buttons: [
          { id: 'accept:T-2026-00042', title: 'Aceptar' },
          { id: 'reject:T-2026-00042', title: 'Rechazar' },
        ],
      },
    });

    expect(jsonBodyOf(server.received[0])).toEqual({
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      to: '573104567890',
      type: 'interactive',
      interactive: {
        type: 'button',
        header: { type: 'text', text: 'Ticket T-2026-00042' },
        body: { text: 'Fuga de agua en baño 2. ¿Acepta el servicio?' },
        footer: { text: 'Mantenimiento' },
        action: {
          buttons: [
            { type: 'reply', reply: { id: 'accept:T-2026-00042', title: 'Aceptar' } },
            { type: 'reply', reply: { id: 'reject:T-2026-00042', title: 'Rechazar' } },
          ],
        },
      },
    });
  });

  it('sends images by media id and by link', async () => {
    const server = await startGraphServer(sendSuccess);
    const client = clientFor(server.baseUrl);

    await client.sendMessage({
      to: '573104567890',
      message: { kind: 'image', mediaId: '1479537139650973', caption: 'Foto del daño reportado' },
    });
    await client.sendMessage({
      to: '573104567890',
      message: { kind: 'image', link: 'https://files.example.com/dano.jpg' },
    });

    expect(jsonBodyOf(server.received[0])).toMatchObject({
      type: 'image',
      image: { id: '1479537139650973', caption: 'Foto del daño reportado' },
    });
    expect(jsonBodyOf(server.received[1])).toMatchObject({
      type: 'image',
      image: { link: 'https://files.example.com/dano.jpg' },
    });
    expect(jsonBodyOf(server.received[1])).not.toHaveProperty('image.id');
  });

  it('sends documents by link with filename and by media id', async () => {
    const server = await startGraphServer(sendSuccess);
    const client = clientFor(server.baseUrl);

    await client.sendMessage({
      to: '573104567890',
      message: {
        kind: 'document',
        link: 'https://files.example.com/orden-T-2026-00042.pdf',
        caption: 'Orden de trabajo',
        filename: 'orden-T-2026-00042.pdf',
      },
    });
    await client.sendMessage({ to: '573104567890', message: { kind: 'document', mediaId: '998877' } });

    expect(jsonBodyOf(server.received[0])).toMatchObject({
      type: 'document',
      document: {
        link: 'https://files.example.com/orden-T-2026-00042.pdf',
        caption: 'Orden de trabajo',
        filename: 'orden-T-2026-00042.pdf',
      },
    });
    expect(jsonBodyOf(server.received[1])).toMatchObject({ type: 'document', document: { id: '998877' } });
  });

  it('returns waId null when Meta answers without contacts (BSUID sends)', async () => {
    const server = await startGraphServer(
      replyJson(200, { messaging_product: 'whatsapp', messages: [{ id: WAMID }] }),
    );

    const result = await clientFor(server.baseUrl).sendMessage(textRequest);

    expect(result).toEqual({ ok: true, wamid: WAMID, waId: null });
  });

  it('uses the injected fetch when given', async () => {
    const server = await startGraphServer(sendSuccess);
    const calledUrls: string[] = [];
    const recordingFetch: typeof fetch = (input, init) => {
      calledUrls.push(input instanceof Request ? input.url : input.toString());
      return fetch(input, init);
    };

    await clientFor(server.baseUrl, { fetch: recordingFetch }).sendMessage(textRequest);

    expect(calledUrls).toEqual([`${server.baseUrl}/v24.0/${PHONE_NUMBER_ID}/messages`]);
  });
});

describe('createCloudApiClient failures', () => {
  it('maps a Graph error body (131030, HTTP 400) to graph_error', async () => {
    const body = graphError(
      131030,
      '(#131030) Recipient phone number not in allowed list',
      'Recipient phone number not in allowed list: Add recipient phone number to recipient list and try again.',
    );
    const server = await startGraphServer(replyJson(400, body));

    const failure = expectFailure(await clientFor(server.baseUrl).sendMessage(textRequest));

    expect(failure).toEqual({
      kind: 'graph_error',
      httpStatus: 400,
      whatsappCode: 131030,
      message: '(#131030) Recipient phone number not in allowed list',
      details:
        'Recipient phone number not in allowed list: Add recipient phone number to recipient list and try again.',
      fbtraceId: 'A5Ld_C-mecwFT9GzebFGU0m',
      retryAfterMs: null,
      isAmbiguous: false,
    });
    expect(classifyFailure(failure)).toBe('request');
  });

  it('reads Retry-After seconds on a 130429 throughput error (HTTP 429)', async () => {
    const body = graphError(
      130429,
      '(#130429) Rate limit hit',
      'Cloud API message throughput has been reached.',
    );
    const server = await startGraphServer(replyJson(429, body, { 'retry-after': '3' }));

    const failure = expectFailure(await clientFor(server.baseUrl).sendMessage(textRequest));

    expect(failure).toMatchObject({
      kind: 'graph_error',
      httpStatus: 429,
      whatsappCode: 130429,
      retryAfterMs: 3000,
    });
    expect(classifyFailure(failure)).toBe('throughput');
  });

  it('reads Retry-After given as an HTTP date', async () => {
    const retryAt = new Date(Date.now() + 30_000).toUTCString();
    const server = await startGraphServer(
      replyJson(503, graphError(2, '(#2) Service unavailable', ''), { 'retry-after': retryAt }),
    );

    const failure = expectFailure(await clientFor(server.baseUrl).sendMessage(textRequest));

    expect(failure.retryAfterMs).toBeGreaterThan(25_000);
    expect(failure.retryAfterMs).toBeLessThanOrEqual(30_000);
  });

  it('maps an HTML 502 from the edge to an ambiguous, transient http_error', async () => {
    const server = await startGraphServer((_request, response) => {
      response.writeHead(502, { 'content-type': 'text/html' });
      response.end('<html><body><h1>502 Bad Gateway</h1></body></html>');
    });

    const failure = expectFailure(await clientFor(server.baseUrl).sendMessage(textRequest));

    expect(failure).toMatchObject({
      kind: 'http_error',
      httpStatus: 502,
      whatsappCode: null,
      isAmbiguous: true,
    });
    expect(failure.message).toContain('502');
    expect(classifyFailure(failure)).toBe('transient');
  });

  it('maps a non-Graph JSON 404 to a non-retryable http_error', async () => {
    const server = await startGraphServer(replyJson(404, { detail: 'not found' }));

    const failure = expectFailure(await clientFor(server.baseUrl).sendMessage(textRequest));

    expect(failure).toMatchObject({ kind: 'http_error', httpStatus: 404, isAmbiguous: false });
    expect(classifyFailure(failure)).toBe('request');
  });

  it('maps a 200 that is not JSON, or has no messages[0].id, to an ambiguous invalid_response', async () => {
    const html = await startGraphServer((_request, response) => response.end('OK'));
    const noId = await startGraphServer(replyJson(200, { messaging_product: 'whatsapp', messages: [{}] }));

    const notJson = expectFailure(await clientFor(html.baseUrl).sendMessage(textRequest));
    const missingId = expectFailure(await clientFor(noId.baseUrl).sendMessage(textRequest));

    expect(notJson).toMatchObject({ kind: 'invalid_response', httpStatus: 200, isAmbiguous: true });
    expect(missingId).toMatchObject({ kind: 'invalid_response', httpStatus: 200, isAmbiguous: true });
    expect(missingId.message).toContain('messages[0].id');
  });

  it('times out a server that never answers', async () => {
    const server = await startGraphServer(() => undefined);

    const failure = expectFailure(
      await clientFor(server.baseUrl, { timeoutMs: 200 }).sendMessage(textRequest),
    );

    expect(failure).toMatchObject({ kind: 'timeout', httpStatus: null, isAmbiguous: true });
    expect(classifyFailure(failure)).toBe('transient');
  });

  it('times out a server that sends headers and then stalls the body', async () => {
    const server = await startGraphServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.write('{"messaging_product":');
    });

    const failure = expectFailure(
      await clientFor(server.baseUrl, { timeoutMs: 200 }).sendMessage(textRequest),
    );

    expect(failure).toMatchObject({ kind: 'timeout', httpStatus: 200, isAmbiguous: true });
  });

  it('reports a refused connection as an unambiguous network failure', async () => {
    const baseUrl = await closedPortUrl();

    const failure = expectFailure(await clientFor(baseUrl).sendMessage(textRequest));

    expect(failure).toMatchObject({ kind: 'network', httpStatus: null, isAmbiguous: false });
    expect(failure.message).toContain('ECONNREFUSED');
    expect(classifyFailure(failure)).toBe('transient');
  });

  it('reports a connection dropped after the request was sent as an ambiguous network failure', async () => {
    const server = await startGraphServer((_request, response) => response.socket?.destroy());

    const failure = expectFailure(await clientFor(server.baseUrl).sendMessage(textRequest));

    expect(server.received[0]?.body.length).toBeGreaterThan(0);
    expect(failure).toMatchObject({ kind: 'network', isAmbiguous: true });
  });

  it('never lets the token into a failure, even when the server echoes the Authorization header', async () => {
    const server = await startGraphServer((request, response) => {
      const echoed = `bad header ${request.headers.authorization ?? ''}`;
      response.writeHead(401, { 'content-type': 'application/json' });
      response.end(JSON.stringify(graphError(190, echoed, echoed)));
    });

    const failure = expectFailure(await clientFor(server.baseUrl).sendMessage(textRequest));

    expect(failure.message).toBe('bad header Bearer [redacted]');
    expect(failure.details).toBe('bad header Bearer [redacted]');
    expect(classifyFailure(failure)).toBe('auth');
  });
});

/** Keeps the event loop busy for `ms` (a starved process between a send's call and its write). */
function blockEventLoop(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // spin
  }
}

describe('createCloudApiClient startBy (the throughput slot)', () => {
  it('sends a request that starts before its deadline', async () => {
    const server = await startGraphServer(sendSuccess);
    const result = await clientFor(server.baseUrl).sendMessage({
      ...textRequest,
      startBy: performance.now() + 5000,
    });
    expect(result).toMatchObject({ ok: true, wamid: WAMID });
    expect(server.received).toHaveLength(1);
  });

  it('writes nothing when the request reaches its connection after the deadline: a late_start, never ambiguous', async () => {
    const server = await startGraphServer(sendSuccess);
    // A new host needs a new connection, so the request is written only once it is connected, on a later
    // turn of the event loop; the loop is held past the deadline meanwhile, as a starved process would be.
    const sending = clientFor(server.baseUrl).sendMessage({ ...textRequest, startBy: performance.now() + 5 });
    blockEventLoop(30);
    const failure = expectFailure(await sending);
    expect(failure).toMatchObject({ kind: 'late_start', isAmbiguous: false, httpStatus: null });
    expect(failure.message).toMatch(/^not sent: it would have started \d+\.\d ms after its throughput slot$/);
    expect(classifyFailure(failure)).toBe('transient');
    // Give a request that was written anyway the time to arrive: none was.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(server.received).toHaveLength(0);
    // The pool is still usable: the next send in time goes out.
    const next = await clientFor(server.baseUrl).sendMessage({
      ...textRequest,
      startBy: performance.now() + 5000,
    });
    expect(next.ok).toBe(true);
    expect(server.received).toHaveLength(1);
  });

  it('checks the deadline before calling an injected fetch (which cannot tell when it writes)', async () => {
    const calls: string[] = [];
    const client = createCloudApiClient({
      baseUrl: 'http://graph.test',
      apiVersion: 'v24.0',
      phoneNumberId: PHONE_NUMBER_ID,
      token: TOKEN,
      timeoutMs: 2000,
      fetch: (input) => {
        calls.push(input instanceof Request ? input.url : input.toString());
        return Promise.resolve(
          new Response(JSON.stringify({ messages: [{ id: WAMID }] }), {
            headers: { 'content-type': 'application/json' },
          }),
        );
      },
    });
    const late = expectFailure(await client.sendMessage({ ...textRequest, startBy: performance.now() - 1 }));
    expect(late.kind).toBe('late_start');
    expect(calls).toHaveLength(0);
    expect((await client.sendMessage({ ...textRequest, startBy: performance.now() + 5000 })).ok).toBe(true);
    expect(calls).toHaveLength(1);
  });
});

describe('createCloudApiClient uploadMedia', () => {
  it('POSTs multipart/form-data to /{version}/{phone-number-id}/media and returns the media id', async () => {
    const server = await startGraphServer(replyJson(200, { id: '1479537139650973' }));
    const pdf = new TextEncoder().encode('%PDF-1.7 orden de trabajo');

    const result = await clientFor(server.baseUrl).uploadMedia({
      data: pdf,
      mimeType: 'application/pdf',
      filename: 'orden-T-2026-00042.pdf',
    });

    expect(result).toEqual({ ok: true, mediaId: '1479537139650973' });
    const request = server.received[0]!;
    expect(request.url).toBe(`/v24.0/${PHONE_NUMBER_ID}/media`);
    expect(request.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(request.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
    const form = await new Response(request.body, {
      headers: { 'content-type': request.headers['content-type']! },
    }).formData();
    expect(form.get('messaging_product')).toBe('whatsapp');
    expect(form.get('type')).toBe('application/pdf');
    const file = form.get('file') as File;
    expect(file.name).toBe('orden-T-2026-00042.pdf');
    expect(file.type).toBe('application/pdf');
    expect(new Uint8Array(await file.arrayBuffer())).toEqual(pdf);
  });

  it('returns Graph errors and unreadable answers as failures', async () => {
    const rejecting = await startGraphServer(
      replyJson(400, graphError(131053, '(#131053) Media upload error', 'Unsupported MIME type')),
    );
    const noId = await startGraphServer(replyJson(200, { success: true }));
    const upload = { data: new Uint8Array([1, 2, 3]), mimeType: 'image/gif', filename: 'x.gif' };

    const rejected = expectFailure(await clientFor(rejecting.baseUrl).uploadMedia(upload));
    const unreadable = expectFailure(await clientFor(noId.baseUrl).uploadMedia(upload));

    expect(rejected).toMatchObject({
      kind: 'graph_error',
      whatsappCode: 131053,
      details: 'Unsupported MIME type',
    });
    expect(unreadable).toMatchObject({ kind: 'invalid_response', httpStatus: 200 });
  });
});

describe('createCloudApiClient options', () => {
  const valid: CloudApiClientOptions = {
    baseUrl: 'https://graph.facebook.com',
    apiVersion: 'v24.0',
    phoneNumberId: PHONE_NUMBER_ID,
    token: TOKEN,
    timeoutMs: 10_000,
  };

  it.each([
    ['baseUrl', { baseUrl: 'graph.facebook.com' }],
    ['apiVersion', { apiVersion: '24' }],
    ['phoneNumberId', { phoneNumberId: ' ' }],
    ['token', { token: '' }],
    ['token', { token: `${TOKEN}\n` }],
    ['timeoutMs', { timeoutMs: 0 }],
    ['timeoutMs', { timeoutMs: 250.5 }],
    ['timeoutMs', { timeoutMs: Number.NaN }],
  ])('rejects an unusable %s at creation', (field, override) => {
    expect(() => createCloudApiClient({ ...valid, ...override })).toThrow(field);
    expect(() => createCloudApiClient({ ...valid, ...override })).not.toThrow(TOKEN);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-03-10T12:00:00Z');

  it.each([
    ['0', 0],
    ['120', 120_000],
    [' 5 ', 5000],
    ['Tue, 10 Mar 2026 12:00:30 GMT', 30_000],
    ['Tue, 10 Mar 2026 11:59:00 GMT', 0],
    ['1.5', null],
    ['-3', null],
    ['soon', null],
    ['', null],
  ])('reads %j as %j ms', (value, expected) => {
    expect(parseRetryAfter(value, now)).toBe(expected);
  });

  it('returns null without a header', () => {
    expect(parseRetryAfter(null, now)).toBeNull();
  });
});
