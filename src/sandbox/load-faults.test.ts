import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SandboxControlClient } from './sandbox-client.js';
import { mixScenarios } from './scenarios.js';
import { senderLabel } from './send-stats.js';
import { startSandbox, type RunningSandbox } from './start-sandbox.js';
import { postMessage, textMessage } from './test-support.js';

// What the load tests (test/load) measure at the sandbox: lost answers, retries per second, senders, fault mixes.
const TOKEN = 'test-token';
const OTHER_TOKEN = 'other-token';
const PROVIDER = '573104567890';

let sandbox: RunningSandbox;
let control: SandboxControlClient;

beforeEach(async () => {
  sandbox = await startSandbox({ tokens: [TOKEN, OTHER_TOKEN] });
  control = new SandboxControlClient(sandbox.url);
});

afterEach(async () => {
  await sandbox.close();
});

const send = (callbackData: string, token = TOKEN, signal?: AbortSignal) =>
  postMessage(sandbox.url, textMessage(PROVIDER, 'hola', callbackData), {
    token,
    ...(signal ? { signal } : {}),
  });

describe('lost_answer', () => {
  it('stores the message, never answers, and a retry counts as a duplicate explained by the lost answer', async () => {
    await control.addScenario({ fault: 'lost_answer', next: 1 });
    await expect(send('m-1', TOKEN, AbortSignal.timeout(300))).rejects.toThrow();
    expect(sandbox.state.messagesFor(PROVIDER)).toHaveLength(1);
    expect((await send('m-1')).status).toBe(200);

    const stats = await control.stats();
    expect(stats).toMatchObject({
      accepted: 2,
      lostAnswers: 1,
      duplicateAccepts: 1,
      attempts: 2,
      retries: 1,
    });
    expect((await control.duplicates()).duplicates).toEqual([
      { callbackData: 'm-1', count: 2, answersLost: 1 },
    ]);
  });

  it('a slow answer after the client gave up is a lost answer too', async () => {
    await control.addScenario({ fault: 'slow', delayMs: 400, next: 1 });
    await expect(send('m-2', TOKEN, AbortSignal.timeout(100))).rejects.toThrow();
    await expect.poll(() => sandbox.state.stats().lostAnswers, { timeout: 3000 }).toBe(1);
    expect(sandbox.state.sendStats.countsFor('m-2')).toEqual({ attempts: 1, accepted: 1, answersLost: 1 });
  });
});

describe('attempts, retries and senders', () => {
  it('counts a repeated callback data as a retry, per second, and accepted sends per token label', async () => {
    await control.addScenario({ fault: 'server_error', next: 2 });
    expect((await send('a')).status).toBe(500);
    expect((await send('a')).status).toBe(500);
    expect((await send('a', OTHER_TOKEN)).status).toBe(200);
    expect((await send('b')).status).toBe(200);
    const stats = await control.stats();
    expect(stats).toMatchObject({ attempts: 4, retries: 2, accepted: 2, duplicateAccepts: 0 });
    expect(stats.attemptsPerSecond.reduce((sum, s) => sum + s.retries, 0)).toBe(2);
    expect(stats.maxRetriesPerSecond).toBeGreaterThanOrEqual(1);
    expect(stats.acceptedBySender).toEqual({ [senderLabel(TOKEN)]: 1, [senderLabel(OTHER_TOKEN)]: 1 });
    await control.reset();
    expect(await control.stats()).toMatchObject({ attempts: 0, retries: 0, acceptedBySender: {} });
  });
});

describe('fault mix', () => {
  it('turns shares into conditional probabilities', () => {
    const inputs = mixScenarios({ server_error: 0.2, throughput: 0.05, hang: 0.25 });
    expect(inputs.map((input) => input.fault)).toEqual(['server_error', 'throughput', 'hang']);
    expect(inputs[0]?.probability).toBeCloseTo(0.2);
    expect(inputs[1]?.probability).toBeCloseTo(0.05 / 0.8);
    expect(inputs[2]?.probability).toBeCloseTo(0.25 / 0.75);
    expect(() => mixScenarios({ server_error: 0.7, hang: 0.4 })).toThrow(TypeError);
  });

  it('hits about each share of the sends through the control API', async () => {
    await control.addScenarioMix({ server_error: 0.3, undeliverable: 0.2 });
    const statuses: number[] = [];
    for (let index = 0; index < 400; index += 1) statuses.push((await send(`mix-${index}`)).status);
    const share = (status: number): number => statuses.filter((s) => s === status).length / statuses.length;
    // Binomial, n = 400: these bounds are ~5 standard deviations wide.
    expect(share(500)).toBeGreaterThan(0.18);
    expect(share(500)).toBeLessThan(0.42);
    expect(share(400)).toBeGreaterThan(0.1);
    expect(share(400)).toBeLessThan(0.3);
    await expect(control.addScenarioMix({ nope: 0.1 } as never)).rejects.toThrow(/400/);
  });
});
