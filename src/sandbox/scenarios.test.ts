import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { WireGraphErrorResponse } from '../whatsapp/wire-types.js';
import { SandboxControlClient } from './sandbox-client.js';
import type { FaultName } from './scenarios.js';
import { startSandbox, type RunningSandbox } from './start-sandbox.js';
import { postMessage, readAnswer, textMessage, type RawAnswer } from './test-support.js';

const TOKEN = 'test-token';
const PROVIDER = '573104567890';
const OTHER = '573001112233';

let sandbox: RunningSandbox;
let control: SandboxControlClient;

beforeEach(async () => {
  sandbox = await startSandbox({ tokens: [TOKEN] });
  control = new SandboxControlClient(sandbox.url);
});

afterEach(async () => {
  await sandbox.close();
});

const send = (to: string, callbackData?: string): Promise<RawAnswer> =>
  postMessage(sandbox.url, textMessage(to, 'hola', callbackData), { token: TOKEN });

const codeOf = (answer: RawAnswer): number | undefined => (answer.body as WireGraphErrorResponse).error?.code;

describe('each named fault', () => {
  it.each<[FaultName, number, number]>([
    ['server_error', 500, 131000],
    ['service_unavailable', 503, 131016],
    ['throughput', 429, 130429],
    ['pair_rate', 429, 131056],
    ['reengagement', 400, 131047],
    ['not_allowed', 400, 131030],
    ['token_expired', 401, 190],
    ['undeliverable', 400, 131026],
  ])('%s answers HTTP %i with Graph code %i and stores nothing', async (fault, status, code) => {
    await control.addScenario({ fault, to: PROVIDER });
    const answer = await send(PROVIDER);
    expect(answer.status).toBe(status);
    expect((answer.body as WireGraphErrorResponse).error).toMatchObject({
      code,
      type: 'OAuthException',
      message: expect.stringMatching(/^\(#\d+\) .+/) as string,
      error_data: { messaging_product: 'whatsapp' },
    });
    expect(sandbox.state.messagesFor(PROVIDER)).toEqual([]);
    expect((await control.stats()).rejectedByCode).toEqual({ [String(code)]: 1 });
  });

  it.each<[FaultName, number]>([
    ['undeliverable_async', 131026],
    ['reengagement_async', 131047],
  ])('%s accepts the send (200 + wamid), then reports it failed with %i', async (fault, code) => {
    await control.addScenario({ fault, next: 1 });
    const answer = await send(PROVIDER, 'async:1');
    expect(answer.status).toBe(200);
    expect(sandbox.state.messagesFor(PROVIDER)[0]).toMatchObject({
      callbackData: 'async:1',
      status: 'failed',
      errors: [{ code }],
    });
    expect((await send(PROVIDER)).status).toBe(200);
    expect(sandbox.state.messagesFor(PROVIDER)[1]).not.toHaveProperty('status');
    expect(await control.stats()).toMatchObject({ accepted: 2, rejected: 0 });
  });

  it('throughput sends Retry-After: 1; pair_rate and throughput carry the subcodes Meta still sends', async () => {
    await control.addScenario({ fault: 'throughput', next: 1 });
    await control.addScenario({ fault: 'pair_rate', next: 1 });
    const throughput = await send(PROVIDER);
    expect(throughput.headers.get('retry-after')).toBe('1');
    expect((throughput.body as WireGraphErrorResponse).error.error_subcode).toBe(2494055);
    const pair = await send(PROVIDER);
    expect((pair.body as WireGraphErrorResponse).error.error_subcode).toBe(2494071);
  });

  it('html_502 answers a non-JSON HTML page', async () => {
    await control.addScenario({ fault: 'html_502', next: 1 });
    const answer = await send(PROVIDER);
    expect(answer.status).toBe(502);
    expect(answer.headers.get('content-type')).toMatch(/^text\/html/);
    expect(answer.body).toMatch(/<html>.*502 Bad Gateway/);
    expect((await control.stats()).rejectedByCode).toEqual({ html_502: 1 });
  });

  // Margins are wide on purpose: the machine may be loaded; what matters is stored-before-answered.
  it('slow accepts the message at once and answers success after delayMs', { timeout: 15_000 }, async () => {
    await control.addScenario({ fault: 'slow', delayMs: 3000, next: 1 });
    const started = Date.now();
    const answering = send(PROVIDER, 'slow:1');
    const stored = await sandbox.state.waitForMessage((message) => message.callbackData === 'slow:1', 5000);
    const answer = await answering;
    expect(Date.parse(stored.receivedAt) - started).toBeLessThan(2000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2990);
    expect(answer.status).toBe(200);
  });

  it('hang holds the request open until the sandbox closes, and close still finishes', async () => {
    await control.addScenario({ fault: 'hang' });
    const outcome = send(PROVIDER).then(
      () => 'answered',
      () => 'connection closed',
    );
    await expect.poll(() => sandbox.state.stats().hung, { timeout: 2000 }).toBe(1);
    // Without the release the close would wait for the client forever (the test would time out).
    await sandbox.close();
    expect(await outcome).toBe('connection closed');
    expect(sandbox.state.messagesFor(PROVIDER)).toEqual([]);
  });

  it('hang lets a client give up by itself', async () => {
    await control.addScenario({ fault: 'hang', next: 1 });
    const giveUp = postMessage(sandbox.url, textMessage(PROVIDER), {
      token: TOKEN,
      signal: AbortSignal.timeout(200),
    });
    await expect(giveUp).rejects.toThrow();
    expect((await send(PROVIDER)).status).toBe(200);
  });
});

describe('choosing requests', () => {
  it('a per-recipient scenario without next hits every send to that number only, until deleted', async () => {
    const scenario = await control.addScenario({ fault: 'reengagement', to: '+57 310 456 7890' });
    expect(scenario).toMatchObject({ to: PROVIDER, remaining: null, probability: 1 });
    expect(codeOf(await send(PROVIDER))).toBe(131047);
    expect(codeOf(await send(PROVIDER))).toBe(131047);
    expect((await send(OTHER)).status).toBe(200);
    expect((await control.scenarios())[0]).toMatchObject({ id: scenario.id, applied: 2 });

    await control.removeScenario(scenario.id);
    expect((await send(PROVIDER)).status).toBe(200);
  });

  it('next: N hits the next N sends to anyone, then is gone', async () => {
    await control.addScenario({ fault: 'server_error', next: 2 });
    expect(codeOf(await send(PROVIDER))).toBe(131000);
    expect(codeOf(await send(OTHER))).toBe(131000);
    expect((await send(PROVIDER)).status).toBe(200);
    expect(await control.scenarios()).toEqual([]);
  });

  it('per-recipient with next consumes only that number’s sends', async () => {
    await control.addScenario({ fault: 'pair_rate', to: PROVIDER, next: 1 });
    expect((await send(OTHER)).status).toBe(200);
    expect(codeOf(await send(PROVIDER))).toBe(131056);
    expect((await send(PROVIDER)).status).toBe(200);
  });

  it('a per-recipient scenario wins over one for any recipient', async () => {
    await control.addScenario({ fault: 'server_error' });
    await control.addScenario({ fault: 'not_allowed', to: PROVIDER });
    expect(codeOf(await send(PROVIDER))).toBe(131030);
    expect(codeOf(await send(OTHER))).toBe(131000);
  });

  it('probability 1.0 always hits, 0.0 never does (and never consumes next)', async () => {
    const never = await control.addScenario({ fault: 'server_error', probability: 0, next: 1 });
    for (let index = 0; index < 20; index += 1) expect((await send(PROVIDER)).status).toBe(200);
    expect((await control.scenarios())[0]).toMatchObject({ id: never.id, applied: 0, remaining: 1 });

    await control.clearScenarios();
    await control.addScenario({ fault: 'service_unavailable', probability: 1 });
    for (let index = 0; index < 20; index += 1) expect(codeOf(await send(PROVIDER))).toBe(131016);
  });

  it('a fractional probability follows the injected random source', async () => {
    const draws = [0.1, 0.9, 0.19, 0.2];
    const seeded = await startSandbox({ tokens: [TOKEN], random: () => draws.shift() ?? 1 });
    try {
      seeded.state.addScenario({ fault: 'server_error', probability: 0.2 });
      const statuses = [];
      for (let index = 0; index < 4; index += 1) {
        statuses.push((await postMessage(seeded.url, textMessage(PROVIDER), { token: TOKEN })).status);
      }
      expect(statuses).toEqual([500, 200, 500, 200]);
    } finally {
      await seeded.close();
    }
  });
});

describe('control API', () => {
  it('lists, deletes one and clears all scenarios', async () => {
    const first = await control.addScenario({ fault: 'slow', delayMs: 10 });
    await control.addScenario({ fault: 'hang', to: OTHER });
    expect((await control.scenarios()).map((scenario) => scenario.fault)).toEqual(['slow', 'hang']);
    expect(await control.removeScenario(first.id)).toEqual({ deleted: first.id });
    expect(await control.clearScenarios()).toEqual({ cleared: 1 });
    const missing = await fetch(`${sandbox.url}/sandbox/scenarios/${first.id}`, { method: 'DELETE' });
    expect(missing.status).toBe(404);
  });

  it.each([
    [{ fault: 'meteor' }, /fault must be one of/],
    [{ fault: 'slow', to: '12' }, /to must be/],
    [{ fault: 'slow', next: 0 }, /next must be/],
    [{ fault: 'slow', probability: 1.5 }, /probability must be/],
    [{ fault: 'slow', delayMs: -1 }, /delayMs must be/],
  ])('refuses an invalid scenario %j with 400', async (input, message) => {
    const answer = await readAnswer(
      await fetch(`${sandbox.url}/sandbox/scenarios`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(input),
      }),
    );
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({
      error: { code: 'invalid_scenario', message: expect.stringMatching(message) as string },
    });
  });

  it('offers the same control in-process on the state', async () => {
    expect(() => sandbox.state.addScenario({ fault: 'slow', next: -1 })).toThrow(TypeError);
    const scenario = sandbox.state.addScenario({ fault: 'token_expired', next: 1 });
    expect(codeOf(await send(PROVIDER))).toBe(190);
    expect(sandbox.state.scenarios()).toEqual([]);
    expect(sandbox.state.removeScenario(scenario.id)).toBe(false);
  });
});
