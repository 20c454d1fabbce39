import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { WireWebhookPayload } from '../whatsapp/wire-types.js';

/** One POST as the receiver got it: the exact bytes, the headers and the parsed body. */
export interface ReceivedWebhook {
  raw: Buffer;
  headers: IncomingHttpHeaders;
  body: WireWebhookPayload;
}

/** What the receiver answers: an HTTP status, or `hang` (never answer). */
export type ReceiverAnswer = number | 'hang';

export interface WebhookReceiver {
  url: string;
  received: ReceivedWebhook[];
  /** Decides each answer (default 200); gets the request's 0-based index. */
  answer: (index: number, webhook: ReceivedWebhook) => ReceiverAnswer;
  /** Resolves once at least `count` webhooks arrived; rejects after `timeoutMs`. */
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedWebhook[]>;
  close(): Promise<void>;
}

/**
 * A tiny webhook endpoint on a free loopback port that records raw bodies, for tests and local
 * experiments that need to see exactly what the sandbox sends (it verifies nothing itself).
 */
export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const received: ReceivedWebhook[] = [];
  const hanging = new Set<ServerResponse>();
  const waiters = new Set<() => void>();
  const receiver: WebhookReceiver = {
    url: '',
    received,
    answer: () => 200,
    waitFor: (count, timeoutMs = 5000) =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          if (received.length < count) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve([...received]);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`only ${received.length} of ${count} webhooks within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(check);
        check();
      }),
    close: () =>
      new Promise((resolve) => {
        for (const response of hanging) response.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const raw = Buffer.concat(chunks);
      const webhook: ReceivedWebhook = {
        raw,
        headers: request.headers,
        body: JSON.parse(raw.toString('utf8')) as WireWebhookPayload,
      };
      const index = received.push(webhook) - 1;
      const answer = receiver.answer(index, webhook);
      for (const waiter of [...waiters]) waiter();
      if (answer === 'hang') {
        hanging.add(response);
        return;
      }
      response
        .writeHead(answer, { 'content-type': 'text/plain' })
        .end(answer < 300 ? 'EVENT_RECEIVED' : 'nope');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  receiver.url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/webhooks/whatsapp`;
  return receiver;
}
