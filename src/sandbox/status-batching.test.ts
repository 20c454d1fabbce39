import { createHmac } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { WireSendMessageResponse, WireStatus } from '../whatsapp/wire-types.js';
import { buildSandbox, type SandboxWebhookOptions } from './build-sandbox.js';
import { startSandbox, type RunningSandbox } from './start-sandbox.js';
import { postMessage, textMessage } from './test-support.js';
import { startWebhookReceiver, type ReceivedWebhook, type WebhookReceiver } from './webhook-receiver.js';

const TOKEN = 'test-token';
const SECRET = 'app-secret-for-tests';
const FAST = { sent: 5, delivered: 15, read: 25 };
const RECIPIENTS = ['573104567801', '573104567802', '573104567803', '573104567804', '573104567805'];

let receiver: WebhookReceiver;
const running: RunningSandbox[] = [];

beforeEach(async () => {
  receiver = await startWebhookReceiver();
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((sandbox) => sandbox.close()));
  await receiver.close();
});

async function start(webhook: Partial<SandboxWebhookOptions>): Promise<RunningSandbox> {
  const sandbox = await startSandbox({
    tokens: [TOKEN],
    webhook: { url: receiver.url, appSecret: SECRET, statusDelaysMs: FAST, ...webhook },
  });
  running.push(sandbox);
  return sandbox;
}

/** Sends one message to each recipient (all at once) and waits for every webhook to settle. */
async function sendToAll(sandbox: RunningSandbox): Promise<Map<string, string>> {
  const answers = await Promise.all(
    RECIPIENTS.map((to) => postMessage(sandbox.url, textMessage(to, 'hola'), { token: TOKEN })),
  );
  await sandbox.state.webhooksIdle();
  const wamids = new Map<string, string>();
  answers.forEach((answer, index) => {
    expect(answer.status).toBe(200);
    wamids.set((answer.body as WireSendMessageResponse).messages[0]!.id, RECIPIENTS[index]!);
  });
  return wamids;
}

const statusesOf = (webhook: ReceivedWebhook): WireStatus[] =>
  webhook.body.entry.flatMap((entry) => entry.changes.flatMap((change) => change.value.statuses ?? []));

describe('batched status webhooks (statusBatch)', () => {
  it('puts several messages’ statuses in one signed POST, every status once, each message’s in order', async () => {
    const sandbox = await start({ statusBatch: { maxStatuses: 100, maxWaitMs: 40 }, concurrency: 2 });
    const wamids = await sendToAll(sandbox);

    const statuses = receiver.received.flatMap(statusesOf);
    expect(statuses).toHaveLength(3 * RECIPIENTS.length);
    // Fewer POSTs than statuses: 15 statuses in 2 lanes, each batch waiting 40 ms for the 20 ms of them.
    expect(receiver.received.length).toBeLessThan(statuses.length / 2);
    expect(receiver.received.some((webhook) => statusesOf(webhook).length > 1)).toBe(true);
    for (const webhook of receiver.received) {
      const sha256 = createHmac('sha256', SECRET).update(webhook.raw).digest('hex');
      expect(webhook.headers['x-hub-signature-256']).toBe(`sha256=${sha256}`);
      expect(webhook.body.entry).toHaveLength(1);
      expect(webhook.body.entry[0]!.changes.map((change) => change.field)).toEqual(['messages']);
    }
    for (const [wamid, recipient] of wamids) {
      const own = statuses.filter((status) => status.id === wamid);
      expect(own.map((status) => status.status)).toEqual(['sent', 'delivered', 'read']);
      expect(own.every((status) => status.recipient_id === recipient)).toBe(true);
    }
    expect(sandbox.state.stats().webhooks).toMatchObject({
      eventsDelivered: 15,
      posts: receiver.received.length,
      outcomes: { delivered: receiver.received.length, pending: 0, overflow: 0, failed: 0 },
    });
    // The delivery log names every recipient and status a batch carried.
    const logged = sandbox.state.webhookDeliveries();
    expect(logged.flatMap((delivery) => delivery.events)).toHaveLength(15);
    expect(new Set(logged.flatMap((delivery) => delivery.waId.split(',')))).toEqual(new Set(RECIPIENTS));
  });

  it('sends a full batch at once: never more than maxStatuses in a POST', async () => {
    const sandbox = await start({ statusBatch: { maxStatuses: 2, maxWaitMs: 10_000 }, concurrency: 1 });
    // With a 10 s wait only full batches could leave in time; the last odd status waits for its timer.
    const answers = await Promise.all(
      RECIPIENTS.slice(0, 2).map((to) => postMessage(sandbox.url, textMessage(to, 'hola'), { token: TOKEN })),
    );
    expect(answers.map((answer) => answer.status)).toEqual([200, 200]);
    await receiver.waitFor(3, 5000);
    expect(receiver.received.map((webhook) => statusesOf(webhook).length)).toEqual([2, 2, 2]);
  });

  it('without statusBatch sends one status per POST (Meta’s default)', async () => {
    const sandbox = await start({});
    await sendToAll(sandbox);
    expect(receiver.received.map((webhook) => statusesOf(webhook).length)).toEqual(
      Array.from({ length: 15 }, () => 1),
    );
  });

  it('refuses a batch size outside 2..1000', () => {
    for (const maxStatuses of [1, 1001, 2.5]) {
      expect(() =>
        buildSandbox({
          tokens: [TOKEN],
          webhook: {
            url: 'http://127.0.0.1:9/hook',
            appSecret: SECRET,
            statusBatch: { maxStatuses, maxWaitMs: 10 },
          },
        }),
      ).toThrow(/maxStatuses must be an integer between 2 and 1000/);
    }
  });
});
