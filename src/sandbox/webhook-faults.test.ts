import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { WireSendMessageResponse, WireStatus } from '../whatsapp/wire-types.js';
import { SandboxControlClient } from './sandbox-client.js';
import { startSandbox, type RunningSandbox } from './start-sandbox.js';
import { postMessage, readAnswer, textMessage } from './test-support.js';
import { parseWebhookFaultInput, WebhookFaultBook } from './webhook-faults.js';
import { startWebhookReceiver, type ReceivedWebhook, type WebhookReceiver } from './webhook-receiver.js';

const TOKEN = 'test-token';
const PROVIDER = '573104567890';
const OTHER = '573001112233';

let receiver: WebhookReceiver;
let sandbox: RunningSandbox;
let control: SandboxControlClient;

beforeEach(async () => {
  receiver = await startWebhookReceiver();
  sandbox = await startSandbox({
    tokens: [TOKEN],
    webhook: {
      url: receiver.url,
      appSecret: 'secret',
      statusDelaysMs: { sent: 5, delivered: 20, read: 35 },
      concurrency: 1,
    },
  });
  control = new SandboxControlClient(sandbox.url);
});

afterEach(async () => {
  await sandbox.close();
  await receiver.close();
});

async function send(to = PROVIDER): Promise<string> {
  const answer = await postMessage(sandbox.url, textMessage(to), { token: TOKEN });
  return (answer.body as WireSendMessageResponse).messages[0]!.id;
}

const statusesOf = (webhook: ReceivedWebhook): WireStatus[] =>
  webhook.body.entry.flatMap((entry) => entry.changes.flatMap((change) => change.value.statuses ?? []));

/** One string per POST, e.g. `sent` or `sent+delivered+read` for a batch. */
const posts = (): string[] =>
  receiver.received.map((webhook) =>
    statusesOf(webhook)
      .map((status) => status.status)
      .join('+'),
  );

describe('webhook faults', () => {
  it('drop: the next N matching status webhooks never leave, and the log says so', async () => {
    const fault = await control.addWebhookFault({ mode: 'drop', next: 1, status: 'delivered' });
    expect(fault).toMatchObject({ mode: 'drop', status: 'delivered', remaining: 1, probability: 1 });
    await send();
    await sandbox.state.webhooksIdle();
    expect(posts()).toEqual(['sent', 'read']);
    expect(sandbox.state.webhookDeliveries().map((d) => [d.events.join('+'), d.outcome, d.faults])).toEqual([
      ['sent', 'delivered', []],
      ['delivered', 'dropped', ['drop']],
      ['read', 'delivered', []],
    ]);
    // The phone still got it: the inbox copy moves on regardless of the lost webhook.
    expect(sandbox.state.messagesFor(PROVIDER)[0]!.status).toBe('read');
    expect(await control.webhookFaults()).toEqual([]);

    await send();
    await sandbox.state.webhooksIdle();
    expect(posts()).toEqual(['sent', 'read', 'sent', 'delivered', 'read']);
  });

  it('drop without next loses every status webhook until deleted', async () => {
    const fault = await control.addWebhookFault({ mode: 'drop' });
    await send();
    await sandbox.state.webhooksIdle();
    expect(receiver.received).toEqual([]);
    expect(await control.removeWebhookFault(fault.id)).toEqual({ deleted: fault.id });
    await send();
    await sandbox.state.webhooksIdle();
    expect(posts()).toEqual(['sent', 'delivered', 'read']);
  });

  it('duplicate: sends the same bytes twice', async () => {
    await control.addWebhookFault({ mode: 'duplicate', next: 1, status: 'sent' });
    await send();
    await sandbox.state.webhooksIdle();
    expect(posts()).toEqual(['sent', 'sent', 'delivered', 'read']);
    expect(receiver.received[0]!.raw.equals(receiver.received[1]!.raw)).toBe(true);
    expect(receiver.received[1]!.headers['x-hub-signature-256']).toBe(
      receiver.received[0]!.headers['x-hub-signature-256'],
    );
  });

  it('reorder: a message’s statuses leave in reverse order, timestamps still true to the events', async () => {
    await control.addWebhookFault({ mode: 'reorder', next: 1 });
    const wamid = await send();
    await sandbox.state.webhooksIdle();
    expect(posts()).toEqual(['read', 'delivered', 'sent']);
    const statuses = receiver.received.map((webhook) => statusesOf(webhook)[0]!);
    expect(statuses.every((status) => status.id === wamid)).toBe(true);
    const times = statuses.map((status) => Number(status.timestamp));
    expect(times[0]).toBeGreaterThanOrEqual(times[2]!);
    expect(sandbox.state.messagesFor(PROVIDER)[0]!.status).toBe('read');

    // next: 1 counted the message; the following one is in order again.
    await send();
    await sandbox.state.webhooksIdle();
    expect(posts().slice(3)).toEqual(['sent', 'delivered', 'read']);
  });

  it('batch: a message’s statuses arrive together in one POST', async () => {
    await control.addWebhookFault({ mode: 'batch', next: 1 });
    const wamid = await send();
    await sandbox.state.webhooksIdle();
    expect(posts()).toEqual(['sent+delivered+read']);
    expect(statusesOf(receiver.received[0]!).map((status) => status.id)).toEqual([wamid, wamid, wamid]);
  });

  it('batch and reorder together: one POST with the statuses reversed', async () => {
    await control.addWebhookFault({ mode: 'batch', next: 1 });
    await control.addWebhookFault({ mode: 'reorder', next: 1 });
    await send();
    await sandbox.state.webhooksIdle();
    expect(posts()).toEqual(['read+delivered+sent']);
  });

  it('to: only webhooks about that recipient', async () => {
    await control.addWebhookFault({ mode: 'drop', to: '+57 310 456 7890' });
    await send(OTHER);
    await send(PROVIDER);
    await sandbox.state.webhooksIdle();
    expect(receiver.received.every((webhook) => statusesOf(webhook)[0]!.recipient_id === OTHER)).toBe(true);
    expect(receiver.received).toHaveLength(3);
  });

  it('lists, deletes and clears faults; reset clears them too', async () => {
    await control.addWebhookFault({ mode: 'drop', next: 2 });
    await control.addWebhookFault({ mode: 'batch', probability: 0.5 });
    expect((await control.webhookFaults()).map((fault) => fault.mode)).toEqual(['drop', 'batch']);
    expect(await control.clearWebhookFaults()).toEqual({ cleared: 2 });
    const missing = await fetch(`${sandbox.url}/sandbox/webhook-faults/wf_99`, { method: 'DELETE' });
    expect(missing.status).toBe(404);
    sandbox.state.addWebhookFault({ mode: 'duplicate' });
    await control.reset();
    expect(sandbox.state.listWebhookFaults()).toEqual([]);
  });

  it.each([
    [{ mode: 'explode' }, /mode must be one of/],
    [{ mode: 'drop', next: 0 }, /next must be/],
    [{ mode: 'drop', probability: 2 }, /probability must be/],
    [{ mode: 'drop', to: '12' }, /to must be/],
    [{ mode: 'reorder', status: 'read' }, /status applies only/],
    [{ mode: 'drop', status: 'seen' }, /status must be one of/],
  ])('refuses an invalid fault %j with 400', async (input, message) => {
    const answer = await readAnswer(
      await fetch(`${sandbox.url}/sandbox/webhook-faults`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(input),
      }),
    );
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({
      error: { code: 'invalid_webhook_fault', message: expect.stringMatching(message) as string },
    });
    expect(() => sandbox.state.addWebhookFault(input as never)).toThrow(TypeError);
  });
});

describe('WebhookFaultBook', () => {
  it('follows the random source for probabilities; a miss consumes nothing', () => {
    const draws = [0.9, 0.1];
    const book = new WebhookFaultBook(() => draws.shift() ?? 1);
    const parsed = parseWebhookFaultInput({ mode: 'duplicate', probability: 0.5, next: 1 });
    if (!parsed.ok) throw new Error(parsed.message);
    book.add(parsed.input, 0);
    expect(book.takeForWebhook(PROVIDER, ['sent'])).toBe('send');
    expect(book.list()[0]).toMatchObject({ remaining: 1, applied: 0 });
    expect(book.takeForWebhook(PROVIDER, ['sent'])).toBe('duplicate');
    expect(book.list()).toEqual([]);
  });

  it('matches a batched webhook on any status it carries, and decides drop before duplicate', () => {
    const book = new WebhookFaultBook(() => 0);
    book.add({ mode: 'duplicate' }, 0);
    book.add({ mode: 'drop', status: 'read', next: 1 }, 0);
    expect(book.takeForWebhook(PROVIDER, ['sent', 'delivered', 'read'])).toBe('drop');
    expect(book.takeForWebhook(PROVIDER, ['sent', 'delivered', 'read'])).toBe('duplicate');
    expect(book.takeForMessage(PROVIDER)).toEqual({ reorder: false, batch: false });
  });
});
