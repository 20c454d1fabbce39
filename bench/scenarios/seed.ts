/**
 * (g) The seed's own design — `POST /api/whatsapp/notify` calls the Graph API inside the request and answers
 * with its result, no outbox (bench/seed-serve.ts) — against the service (outbox; with `Prefer:
 * respond-async`, and waiting for Meta by default), under the same load, with 200 ms Graph latency and
 * with 5 % Graph errors on top. Then, for each, a load of unique messages during which the server is
 * SIGKILLed: a message is lost when its request was answered 2xx, answered 5xx or left without an answer
 * and the message never reached the sandbox (the service is restarted on its database first, as after a
 * crash; the seed has nothing to restart from).
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { SANDBOX_PHONE_NUMBER_ID } from '../../src/app.js';
import { startServerChild, type ServerChild } from '../lib/children.js';
import {
  awaitQuiet,
  BENCH_API_KEY,
  startBenchSandbox,
  startBenchServer,
  type BenchContext,
  type BenchSandbox,
  type Figure,
  type ScenarioReport,
} from '../lib/context.js';
import { runLoad, type LoadResult } from '../lib/load.js';
import { loadMeter } from '../lib/system-load.js';
import { fmt, fmtInt, pollUntil, sleep } from '../lib/util.js';

export const id = 'seed';
export const title =
  "(g) The seed's design (Graph call inside the request, no outbox) vs the outbox: 200 ms Graph latency, 5 % Graph errors, a kill mid-load";

const CONNECTIONS = 50;
const LATENCY_MS = 200;
const BODY = JSON.stringify({ to: '310 305 5424', message: 'Nuevo ticket #1234: fuga de agua en el baño.' });

type TargetName = 'seed' | 'async' | 'wait';

const TARGETS: { name: TargetName; label: string; headers: Record<string, string> }[] = [
  { name: 'seed', label: 'seed design (Graph call in the request)', headers: {} },
  { name: 'async', label: 'outbox, Prefer: respond-async', headers: { prefer: 'respond-async' } },
  { name: 'wait', label: 'outbox, default (waits for Meta up to NOTIFY_WAIT_MS)', headers: {} },
];

interface Target {
  url: string;
  child: ServerChild;
  /** Kill -9; for the service, restart on its database and let the outbox drain; then stop. */
  crashAndRecover(): Promise<void>;
  dispose(): Promise<void>;
}

async function startTarget(
  ctx: BenchContext,
  name: TargetName,
  sandbox: BenchSandbox,
  tag: string,
): Promise<Target> {
  if (name === 'seed') {
    const child = await startServerChild({
      script: ctx.build.seedScript,
      env: {
        NODE_ENV: 'production',
        SEED_GRAPH_URL: sandbox.url,
        SEED_TOKEN: sandbox.token,
        SEED_PHONE_NUMBER_ID: SANDBOX_PHONE_NUMBER_ID,
        SEED_API_KEY: BENCH_API_KEY,
      },
      cwd: ctx.workDir,
      logFile: path.join(ctx.workDir, `seed-${tag}.log`),
    });
    return {
      url: child.url,
      child,
      crashAndRecover: () => child.kill9(),
      dispose: () => child.kill9(),
    };
  }
  // Cap lifted so the comparison is about the design, not Meta's 80/s (which the seed does not respect);
  // a short lease so the restarted process takes over the killed one's in-flight sends quickly.
  const env = {
    WHATSAPP_RETRY_BASE_MS: '200',
    DISPATCH_LEASE_MS: '5000',
    WHATSAPP_REQUEST_TIMEOUT_MS: '2000',
  };
  const server = await startBenchServer(ctx, {
    name: `outbox-${name}-${tag}`,
    dialect: 'sqlite',
    sandbox,
    maxMps: 0,
    startDispatcher: true,
    env,
  });
  return {
    url: server.child.url,
    child: server.child,
    crashAndRecover: async () => {
      await server.child.kill9();
      const restarted = await startBenchServer(ctx, {
        name: `outbox-${name}-${tag}-restarted`,
        dialect: 'sqlite',
        sandbox,
        maxMps: 0,
        startDispatcher: true,
        env,
        dataDir: server.dataDir,
      });
      await pollUntil(
        'the restarted service drained its outbox',
        async () => {
          const counts = await restarted.probe().countByStatus();
          const pending = (counts.queued ?? 0) + (counts.sending ?? 0) + (counts.retrying ?? 0);
          return pending === 0 ? true : undefined;
        },
        { timeoutMs: 120_000, intervalMs: 200 },
      );
      await restarted.dispose();
    },
    dispose: () => server.dispose(),
  };
}

interface Loss {
  requests: number;
  answered2xx: number;
  answered5xx: number;
  unanswered: number;
  lost2xx: number;
  lost5xx: number;
  lostUnanswered: number;
}

/** Unique messages from CONNECTIONS workers for `ms`, then kill -9 of the server mid-load. */
async function killMidLoad(
  target: Target,
  headers: Record<string, string>,
  ms: number,
  sandbox: BenchSandbox,
): Promise<Loss> {
  const tag = randomBytes(4).toString('hex');
  const reached = new Set<string>();
  const unsubscribe = sandbox.running.state.onMessage((message) => {
    const body = message.request.text?.body;
    if (body?.startsWith(`loss-${tag}-`) === true) reached.add(body);
  });
  const outcomes: ('pending' | '2xx' | '4xx' | '5xx')[] = [];
  let isStopped = false;
  const worker = async (): Promise<void> => {
    while (!isStopped) {
      const index = outcomes.length;
      outcomes.push('pending');
      try {
        const response = await fetch(`${target.url}/api/whatsapp/notify`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-api-key': BENCH_API_KEY, ...headers },
          body: JSON.stringify({ to: '310 305 5424', message: `loss-${tag}-${index}` }),
          signal: AbortSignal.timeout(30_000),
        });
        await response.arrayBuffer();
        outcomes[index] = response.status < 300 ? '2xx' : response.status < 500 ? '4xx' : '5xx';
      } catch {
        return; // the server is gone: this request stays unanswered
      }
    }
  };
  const workers = Array.from({ length: CONNECTIONS }, worker);
  await sleep(ms);
  // SIGKILL first (sent synchronously), then stop the workers: requests in flight now die with the process.
  const recovered = target.crashAndRecover();
  isStopped = true;
  await Promise.all(workers);
  await recovered;
  // Requests the dead process left at the sandbox finish there (200 ms latency): let them land.
  await sleep(3 * LATENCY_MS + 500);
  unsubscribe();
  const loss: Loss = {
    requests: 0,
    answered2xx: 0,
    answered5xx: 0,
    unanswered: 0,
    lost2xx: 0,
    lost5xx: 0,
    lostUnanswered: 0,
  };
  outcomes.forEach((outcome, index) => {
    if (outcome === '4xx') return;
    loss.requests += 1;
    const isLost = !reached.has(`loss-${tag}-${index}`);
    if (outcome === '2xx') {
      loss.answered2xx += 1;
      if (isLost) loss.lost2xx += 1;
    } else if (outcome === '5xx') {
      loss.answered5xx += 1;
      if (isLost) loss.lost5xx += 1;
    } else {
      loss.unanswered += 1;
      if (isLost) loss.lostUnanswered += 1;
    }
  });
  return loss;
}

export async function run(ctx: BenchContext): Promise<ScenarioReport> {
  const started = performance.now();
  const figures: Figure[] = [];
  const notes: string[] = [];
  const durationSec = ctx.quick ? 4 : 10;
  const lossMs = ctx.quick ? 2000 : 4000;
  for (const condition of [
    { name: '200 ms latency', errorShare: 0 },
    { name: '200 ms latency + 5 % errors', errorShare: 0.05 },
  ]) {
    ctx.log(`  ${condition.name}`);
    const sandbox = await startBenchSandbox({ latencyMs: LATENCY_MS });
    if (condition.errorShare > 0) {
      sandbox.running.state.addScenario({ fault: 'server_error', probability: condition.errorShare });
    }
    try {
      for (const spec of TARGETS) {
        const tag = `${condition.errorShare > 0 ? 'err' : 'lat'}`;
        const target = await startTarget(ctx, spec.name, sandbox, tag);
        let result: LoadResult;
        let othersCpu: number;
        try {
          const load = {
            url: target.url,
            path: '/api/whatsapp/notify',
            connections: CONNECTIONS,
            headers: { 'x-api-key': BENCH_API_KEY, ...spec.headers },
            body: BODY,
          };
          await runLoad({ ...load, durationSec: 2 });
          await awaitQuiet(ctx);
          const machine = loadMeter();
          result = await runLoad({ ...load, durationSec });
          othersCpu = machine().otherCores;
        } finally {
          await target.dispose();
        }
        const accepted = result.count2xx / Math.max(0.001, result.durationSec);
        figures.push({
          label: `${condition.name} — ${spec.label}: accepted (2xx) req/s, p99`,
          value: `${fmtInt(accepted)} req/s, p99 ${fmtInt(result.latencyP99)} ms (${fmtInt(result.count2xx)} × 2xx, ${fmtInt(result.non2xx)} non-2xx, ${result.errors} errors)`,
          othersCpu,
        });
        ctx.log(
          `    ${spec.name}: ${fmtInt(accepted)} accepted req/s, p99 ${result.latencyP99} ms, non-2xx ${result.non2xx}`,
        );

        const fresh = await startTarget(ctx, spec.name, sandbox, `${tag}-loss`);
        let loss: Loss;
        try {
          loss = await killMidLoad(fresh, spec.headers, lossMs, sandbox);
        } finally {
          await fresh.dispose();
        }
        const lost = loss.lost2xx + loss.lost5xx + loss.lostUnanswered;
        figures.push({
          label: `${condition.name} — ${spec.label}: messages lost, SIGKILL ${fmt(lossMs / 1000, 0)} s into a load`,
          value: `${fmtInt(lost)} of ${fmtInt(loss.requests)} (answered 2xx: ${loss.lost2xx} of ${loss.answered2xx}; answered 5xx: ${loss.lost5xx} of ${loss.answered5xx}; no answer: ${loss.lostUnanswered} of ${loss.unanswered})`,
          ...(spec.name === 'seed'
            ? {}
            : { goal: '0 of the 2xx and 5xx', met: loss.lost2xx + loss.lost5xx === 0 }),
        });
        ctx.log(`    ${spec.name}: lost ${lost} of ${loss.requests}`);
      }
    } finally {
      await sandbox.close();
    }
  }
  notes.push(
    'Accepted req/s = 2xx responses ÷ run time. The seed answers 2xx only once Meta accepted (so at most connections ÷ latency = 250 req/s at 200 ms) and 502 on a Graph error; the outbox answers 202 after its commit (respond-async), or waits for Meta and answers 200 — or 202 when the first attempt fails transiently, the dispatcher retrying.',
    'Messages lost: a request answered 2xx or 5xx, or left without an answer by the kill, whose message never reached the sandbox. The outbox service is restarted on its database after the kill (as a supervisor would) and its outbox drained before counting; the seed has nothing to restart. A message whose request got no answer may or may not have been committed: for the outbox it is sent if it was; for the seed it is lost unless its Graph call had already left.',
    `Cap lifted (WHATSAPP_MAX_MPS=0) and the sandbox uncapped, so the comparison is about the design; the seed would also exceed Meta's 80 messages/s and get 130429 errors, which it turns into 502s.`,
  );
  return {
    id,
    title,
    ran: [
      `autocannon, ${CONNECTIONS} connections, 2 s warm-up, ${durationSec} s measured, against each target in its own child process (compiled with tsc, plain node): bench/seed-serve.ts (Fastify + fetch to the Graph API inside the route), and bench/serve.ts (the service, SQLite, dispatcher running) with and without \`Prefer: respond-async\`.`,
      `The sandbox in the orchestrator process with ${LATENCY_MS} ms latency on every Graph call; second condition: 5 % of sends answered 131000 (HTTP 500) on top.`,
      `Loss: a fresh target, ${CONNECTIONS} workers posting unique messages for ${lossMs / 1000} s, SIGKILL, then (service only) a restart on the same SQLite file until its outbox is empty; the sandbox's accepted messages are matched by text.`,
    ],
    figures,
    notes,
    seconds: (performance.now() - started) / 1000,
  };
}
