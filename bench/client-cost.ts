/**
 * Diagnostic child (compiled like the server): CPU per Graph send of the service's client
 * (createCloudApiClient, which uses global fetch with AbortSignal.timeout) against a reference
 * client on node:http with a keep-alive agent, both sending the same body to the same sandbox.
 *
 * Environment: BENCH_GRAPH_URL, BENCH_GRAPH_TOKEN, BENCH_PHONE_ID, BENCH_CALLS, BENCH_CONCURRENCY.
 * Reports `{ type: 'client-cost', results }` over IPC, then exits.
 */
import http from 'node:http';
import { createCloudApiClient } from '../src/whatsapp/cloud-api-client.js';
import { toWireSendRequest } from '../src/whatsapp/outgoing-message.js';
import type { SendRequest } from '../src/whatsapp/whatsapp-client.js';

export interface ClientCost {
  client: string;
  calls: number;
  ok: number;
  cpuMicrosPerCall: number;
  callsPerSec: number;
}

const baseUrl = process.env.BENCH_GRAPH_URL ?? '';
const token = process.env.BENCH_GRAPH_TOKEN ?? '';
const phoneNumberId = process.env.BENCH_PHONE_ID ?? '';
const calls = Number(process.env.BENCH_CALLS ?? '5000');
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? '64');
if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(baseUrl))
  throw new Error('BENCH_GRAPH_URL must be http://127.0.0.1:PORT');

const request = (i: number): SendRequest => ({
  to: `57300${String(i % 1000).padStart(7, '0')}`,
  message: { kind: 'text', body: 'Bench message: a new maintenance ticket is waiting for you.' },
  callbackData: `cost-${i}`,
});

type Send = (i: number) => Promise<boolean>;

const fetchClient = createCloudApiClient({
  baseUrl,
  apiVersion: 'v24.0',
  phoneNumberId,
  token,
  timeoutMs: 15_000,
});
const viaFetch: Send = async (i) => (await fetchClient.sendMessage(request(i))).ok;

const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
const url = `${baseUrl}/v24.0/${phoneNumberId}/messages`;
const viaHttp: Send = (i) =>
  new Promise((resolve) => {
    const body = JSON.stringify(toWireSendRequest(request(i)));
    const req = http.request(
      url,
      {
        method: 'POST',
        agent,
        timeout: 15_000,
        headers: {
          authorization: `Bearer ${token}`,
          accept: 'application/json',
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          const parsed = JSON.parse(text) as { messages?: { id?: unknown }[] };
          resolve(res.statusCode === 200 && typeof parsed.messages?.[0]?.id === 'string');
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(false));
    req.end(body);
  });

async function measure(client: string, send: Send): Promise<ClientCost> {
  const run = async (count: number): Promise<number> => {
    let next = 0;
    let ok = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < count) {
          const i = next++;
          if (await send(i)) ok++;
        }
      }),
    );
    return ok;
  };
  await run(Math.min(1000, calls)); // warm-up: JIT and keep-alive connections
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const ok = await run(calls);
  const cpu = process.cpuUsage(cpu0);
  const seconds = (performance.now() - t0) / 1000;
  return {
    client,
    calls,
    ok,
    cpuMicrosPerCall: (cpu.user + cpu.system) / calls,
    callsPerSec: calls / seconds,
  };
}

const results = [
  await measure('createCloudApiClient (global fetch + AbortSignal.timeout)', viaFetch),
  await measure('reference: node:http keep-alive agent', viaHttp),
];
process.send?.({ type: 'client-cost', results }, () => process.exit(0));
