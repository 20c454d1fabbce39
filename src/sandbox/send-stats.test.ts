import { afterEach, describe, expect, it } from 'vitest';
import type { WireGraphErrorResponse } from '../whatsapp/wire-types.js';
import { SandboxControlClient } from './sandbox-client.js';
import { SendStats } from './send-stats.js';
import { startSandbox, type RunningSandbox, type StartSandboxOptions } from './start-sandbox.js';
import { postMessage, textMessage } from './test-support.js';

const TOKEN = 'test-token';
const PROVIDER = '573104567890';
/** A fixed instant in the middle of a second, so a test's sends never straddle two seconds. */
const T0 = 1_780_000_000_500;

let sandbox: RunningSandbox | undefined;
let now = T0;

afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
  now = T0;
});

async function start(options: Partial<StartSandboxOptions> = {}): Promise<RunningSandbox> {
  sandbox = await startSandbox({ tokens: [TOKEN], clock: () => now, ...options });
  return sandbox;
}

const send = (running: RunningSandbox, callbackData?: string, phoneNumberId?: string) =>
  postMessage(running.url, textMessage(PROVIDER, 'hola', callbackData), {
    token: TOKEN,
    ...(phoneNumberId ? { phoneNumberId } : {}),
  });

describe('throughput cap (maxMps)', () => {
  it('answers 130429 (HTTP 429) beyond the limit within one second, per phone number id', async () => {
    const running = await start({ maxMps: 5 });
    const statuses: number[] = [];
    for (let index = 0; index < 8; index += 1) statuses.push((await send(running)).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429, 429]);

    const refused = await send(running);
    expect((refused.body as WireGraphErrorResponse).error).toMatchObject({
      code: 130429,
      error_subcode: 2494055,
    });
    expect((await send(running, undefined, '999')).status).toBe(200);

    now += 1000;
    expect((await send(running)).status).toBe(200);
    const stats = running.state.stats();
    expect(stats.rejectedByCode).toEqual({ '130429': 4 });
    expect(stats.maxPerSecond).toBe(6);
  });

  it('is unlimited by default', async () => {
    const running = await start();
    const answers = await Promise.all(Array.from({ length: 50 }, () => send(running)));
    expect(answers.every((answer) => answer.status === 200)).toBe(true);
  });
});

describe('stats', () => {
  it('counts accepted messages per second for the last 120 seconds', async () => {
    const running = await start();
    const control = new SandboxControlClient(running.url);
    for (let index = 0; index < 3; index += 1) await send(running);
    now += 1000;
    for (let index = 0; index < 2; index += 1) await send(running);

    const second = Math.floor(T0 / 1000);
    expect(await control.stats()).toMatchObject({
      requests: 5,
      accepted: 5,
      perSecond: [
        { second, count: 3 },
        { second: second + 1, count: 2 },
      ],
      maxPerSecond: 3,
      storedMessages: 5,
    });

    now += 200_000;
    await send(running);
    expect((await control.stats()).perSecond).toEqual([{ second: second + 201, count: 1 }]);
    expect((await control.stats()).maxPerSecond).toBe(3);
  });

  it('detects callback data accepted more than once', async () => {
    const running = await start();
    const control = new SandboxControlClient(running.url);
    await send(running, 'ticket:1:msg:1');
    await send(running, 'ticket:2:msg:1');
    await send(running, 'ticket:1:msg:1');
    await send(running, 'ticket:1:msg:1');
    await send(running);

    await send(running, 'ticket:2:msg:1');
    expect(await control.duplicates()).toEqual({
      duplicateAccepts: 3,
      distinctDuplicates: 2,
      duplicates: [
        { callbackData: 'ticket:1:msg:1', count: 3, answersLost: 0 },
        { callbackData: 'ticket:2:msg:1', count: 2, answersLost: 0 },
      ],
    });
    expect((await control.duplicates(1)).duplicates).toHaveLength(1);
    expect(running.state.acceptedByCallbackData('ticket:1:msg:1')).toBe(3);
    expect(running.state.acceptedByCallbackData('ticket:2:msg:1')).toBe(2);
    expect(running.state.acceptedByCallbackData('never')).toBe(0);
  });

  it('resets counters without touching the inbox; /sandbox/reset clears everything', async () => {
    const running = await start();
    await send(running, 'x');
    await fetch(`${running.url}/sandbox/stats`, { method: 'DELETE' });
    expect(running.state.stats()).toMatchObject({ accepted: 0, perSecond: [], storedMessages: 1 });

    running.state.addScenario({ fault: 'hang' });
    await fetch(`${running.url}/sandbox/reset`, { method: 'POST' });
    expect(running.state.stats().storedMessages).toBe(0);
    expect(running.state.scenarios()).toEqual([]);
  });

  it('keeps counting after the inbox caps drop old messages', async () => {
    const running = await start({ maxMessagesPerNumber: 3, maxMessagesTotal: 10 });
    for (let index = 0; index < 20; index += 1) await send(running, `cb:${index}`);
    expect(running.state.messagesFor(PROVIDER).map((message) => message.callbackData)).toEqual([
      'cb:17',
      'cb:18',
      'cb:19',
    ]);
    expect(running.state.stats()).toMatchObject({ accepted: 20, storedMessages: 3 });
    expect(running.state.inboxSummary()).toEqual([expect.objectContaining({ stored: 3, accepted: 20 })]);
  });
});

describe('counted at receipt', () => {
  it('counts a send in the calendar second it arrived, not the one its handler ran in', async () => {
    now = T0 + 450; // 50 ms before a second ends
    const running = await start({ latencyMs: 100 });
    // The clock crosses into the next second while the request waits (here: the latency, before the
    // handler; under load: the event loop or the body parser).
    const crossing = setTimeout(() => {
      now = T0 + 600;
    }, 20);
    expect((await send(running, 'cb-1')).status).toBe(200);
    clearTimeout(crossing);
    const second = Math.floor((T0 + 450) / 1000);
    expect(running.state.stats().perSecond).toEqual([{ second, count: 1 }]);
    expect(running.state.stats().attemptsPerSecond).toEqual([{ second, attempts: 1, retries: 0 }]);
    expect(running.state.messagesFor(PROVIDER)[0]?.receivedAt).toBe(new Date(T0 + 450).toISOString());
  });
});

describe('latency', () => {
  it('delays every Graph answer by latencyMs but not the control API', { timeout: 15_000 }, async () => {
    const running = await start({ latencyMs: 3000, clock: Date.now });
    const started = Date.now();
    await send(running);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2990);
    const controlStarted = Date.now();
    await fetch(`${running.url}/sandbox/stats`);
    // Well under the latency even on a loaded machine: the control API is not delayed.
    expect(Date.now() - controlStarted).toBeLessThan(2000);
  });
});

describe('SendStats bounds', () => {
  it('forgets the oldest callback data beyond its cap but keeps the duplicate count exact', () => {
    const stats = new SendStats(2);
    stats.recordAccepted(T0, 'a');
    stats.recordAccepted(T0, 'a');
    stats.recordAccepted(T0, 'b');
    stats.recordAccepted(T0, 'c');
    expect(stats.acceptedCountFor('a')).toBe(0);
    expect(stats.duplicates()).toEqual([]);
    expect(stats.snapshot(T0)).toMatchObject({ accepted: 4, duplicateAccepts: 1 });
  });
});
