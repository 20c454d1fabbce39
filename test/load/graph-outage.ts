/**
 * Graph API outage (issue #7, part 5): the Graph API (the sandbox) becomes unreachable — its listening
 * socket closed and its connections reset, so every call fails with ECONNREFUSED — for `outageMs`, then
 * listens again on the same port with its memory intact. Messages must wait and go out once it is back,
 * within the attempt budget (WHATSAPP_MAX_ATTEMPTS). Refused connections never reach the sandbox, so
 * attempts per message come from the outbox's own count.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { startSandbox } from '../../src/sandbox/start-sandbox.js';
import {
  countBy,
  distribution,
  enqueueNotifications,
  isAcceptableEnd,
  loadAverage,
  LOAD_PHONE_NUMBER_ID,
  makeWorkDir,
  pendingOf,
  prepareDatabase,
  readOutcomes,
  serverEnv,
  settle,
  sleep,
  splitDuplicates,
  statusCounts,
  unansweredAttempts,
  waitFor,
  waitForOutboxSettled,
  type Distribution,
  type DuplicateSplit,
} from './harness.js';
import { freePort, startServerProcess, stopAllLoadProcesses } from './processes.js';

export interface GraphOutageOptions {
  messages: number;
  outageMs: number;
  maxMps: number;
  retryBaseMs: number;
  maxAttempts: number;
  requestTimeoutMs: number;
  leaseMs: number;
  /** The outage starts once the sandbox has accepted this share of the messages. */
  startAtShare?: number;
  recipients?: number;
  log?: (line: string) => void;
}

export interface GraphOutageReport {
  options: Omit<GraphOutageOptions, 'log'>;
  machine: string;
  enqueueSeconds: number;
  acceptedBeforeOutage: number;
  /** Not yet sent when the outage began (queued, sending or retrying). */
  waitingAtOutageStart: number;
  /** Measured length of the outage. */
  outageSeconds: number;
  /** From the Graph API's return to its first accept (NaN: none, nothing was left), and until nothing is left to send. */
  firstAcceptAfterSeconds: number;
  recoverySeconds: number;
  statuses: Record<string, number>;
  failedBy: Record<string, number>;
  badEnds: number;
  badEndIds: string[];
  attemptsPerMessage: Distribution;
  /** Messages with at least one retry on their timeline (their send hit the outage). */
  retriedMessages: number;
  duplicates: DuplicateSplit;
}

export async function runGraphOutage(options: GraphOutageOptions): Promise<GraphOutageReport> {
  const log = options.log ?? (() => undefined);
  const work = makeWorkDir();
  const database = await prepareDatabase('sqlite', work.dir);
  const token = randomBytes(16).toString('hex');
  const appSecret = randomBytes(16).toString('hex');
  const serverPort = await freePort();
  const sandbox = await startSandbox({
    tokens: [token],
    phoneNumberIds: [LOAD_PHONE_NUMBER_ID],
    webhook: {
      url: `http://127.0.0.1:${serverPort}/api/whatsapp/webhook`,
      appSecret,
      maxQueue: Math.max(10_000, options.messages * 4),
    },
  });
  const sandboxPort = Number(new URL(sandbox.url).port);
  const graph = sandbox.app.server;
  let isDown = false;
  try {
    const server = await startServerProcess({
      name: 'server',
      port: serverPort,
      logFile: path.join(work.dir, 'server.log'),
      env: serverEnv({
        sandboxUrl: sandbox.url,
        token,
        appSecret,
        database,
        dispatch: options,
      }),
    });
    const machine = await loadAverage();
    log(
      `graph outage: ${options.messages} messages, outage ${options.outageMs} ms, server pid ${server.pid}`,
    );
    const t0 = performance.now();
    const enqueueing = enqueueNotifications([server.url], options.messages, {
      recipients: options.recipients ?? 1000,
      label: 'outage',
    });
    let enqueueFailed = false;
    enqueueing.catch(() => {
      enqueueFailed = true;
    });

    const startAt = Math.floor(options.messages * (options.startAtShare ?? 0.25));
    const acceptedBeforeOutage = await waitFor(
      'enough accepted before the outage',
      async () => {
        if (enqueueFailed) await enqueueing;
        const { accepted } = sandbox.state.stats();
        return accepted >= startAt ? accepted : false;
      },
      600_000,
      50,
    );
    // Unreachable: stop listening and reset every open connection (in-flight calls fail at once).
    const downAt = performance.now();
    isDown = true;
    const closed = new Promise<void>((resolve) => graph.close(() => resolve()));
    graph.closeAllConnections();
    await closed;
    const counts = await statusCounts(database.db);
    const waitingAtOutageStart = (counts.queued ?? 0) + (counts.sending ?? 0) + (counts.retrying ?? 0);
    log(`  Graph API down after ${acceptedBeforeOutage} accepted; ${waitingAtOutageStart} waiting`);
    const { ids, seconds: enqueueSeconds } = await enqueueing;
    // Timers may fire a fraction of a millisecond early: wait until the outage has really lasted outageMs.
    while (performance.now() - downAt < options.outageMs) {
      await sleep(Math.max(1, options.outageMs - (performance.now() - downAt)));
    }

    const acceptedAtReturn = sandbox.state.stats().accepted;
    await new Promise<void>((resolve, reject) => {
      graph.once('error', reject);
      graph.listen(sandboxPort, '127.0.0.1', () => {
        graph.off('error', reject);
        resolve();
      });
    });
    isDown = false;
    const upAt = performance.now();
    log(`  Graph API back after ${((upAt - downAt) / 1000).toFixed(1)} s`);
    // The first accept after the return — or none, when nothing was left to send (every message failed).
    let lastPendingCheck = 0;
    const firstAcceptAt = await waitFor(
      'a send after the outage, or nothing left to send',
      async (): Promise<number | false> => {
        if (sandbox.state.stats().accepted > acceptedAtReturn) return performance.now();
        if (performance.now() - lastPendingCheck < 500) return false;
        lastPendingCheck = performance.now();
        return pendingOf(await statusCounts(database.db)) === 0 ? Number.NaN : false;
      },
      600_000,
      50,
    );
    const settledAt = await waitForOutboxSettled(
      database.db,
      ids.length,
      120_000 + options.maxAttempts * 60_000,
    ).catch((error: unknown) => {
      throw new Error(`${String(error)}\n--- server log ---\n${server.logTail()}`);
    });
    log(`  all sent or failed ${((settledAt - upAt) / 1000).toFixed(1)} s after the return`);
    await sandbox.state.webhooksIdle(180_000);
    await settle(async () => JSON.stringify(await statusCounts(database.db)), 1500, 60_000);

    const rows = await readOutcomes(database.db);
    const badEnds = rows.filter((row) => !isAcceptableEnd(row) || row.status === 'failed');
    const report: GraphOutageReport = {
      options,
      machine,
      enqueueSeconds,
      acceptedBeforeOutage,
      waitingAtOutageStart,
      outageSeconds: (upAt - downAt) / 1000,
      firstAcceptAfterSeconds: (firstAcceptAt - upAt) / 1000,
      recoverySeconds: (settledAt - upAt) / 1000,
      statuses: countBy(rows, (row) => row.status),
      failedBy: countBy(
        rows.filter((row) => row.status === 'failed'),
        (row) => row.errorCode ?? 'unknown',
      ),
      badEnds: badEnds.length + (ids.length - rows.length),
      badEndIds: badEnds.slice(0, 20).map((row) => `${row.id}:${row.status}:${row.errorCode ?? ''}`),
      attemptsPerMessage: distribution(rows.map((row) => row.attempts)),
      retriedMessages: Number(
        (
          await database.db.db
            .selectFrom('message_events')
            .select((eb) => eb.fn.count<number>('message_id').distinct().as('count'))
            .where('status', '=', 'retrying')
            .executeTakeFirstOrThrow()
        ).count,
      ),
      duplicates: splitDuplicates(
        sandbox.state.duplicates(),
        () => false,
        await unansweredAttempts(database.db),
      ),
    };
    log(`  total ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    await server.stop(10_000);
    return report;
  } finally {
    await stopAllLoadProcesses();
    if (!isDown) await sandbox.close();
    else sandbox.state.closeWebhooks();
    await database.dispose();
    work.dispose();
  }
}

export function describeGraphOutage(report: GraphOutageReport): string[] {
  const o = report.options;
  const a = report.attemptsPerMessage;
  const d = report.duplicates;
  return [
    `- Setup: ${o.messages.toLocaleString('en-US')} messages, one server process (SQLite); WHATSAPP_MAX_MPS=${o.maxMps}, WHATSAPP_RETRY_BASE_MS=${o.retryBaseMs}, WHATSAPP_MAX_ATTEMPTS=${o.maxAttempts}, WHATSAPP_REQUEST_TIMEOUT_MS=${o.requestTimeoutMs}; the Graph API (sandbox) stops listening and resets its connections (ECONNREFUSED) once it has accepted ${report.acceptedBeforeOutage.toLocaleString('en-US')}; ${report.machine} at the start.`,
    `- Outage **${report.outageSeconds.toFixed(1)} s**; ${report.waitingAtOutageStart.toLocaleString('en-US')} messages were waiting when it began.`,
    `- After the return: ${Number.isNaN(report.firstAcceptAfterSeconds) ? 'no accept at all (nothing was left to send)' : `first accept ${report.firstAcceptAfterSeconds.toFixed(1)} s later`}; nothing left to send **${report.recoverySeconds.toFixed(1)} s** later.`,
    `- Final statuses: ${JSON.stringify(report.statuses)}; failed by reason: ${JSON.stringify(report.failedBy)}; lost, stuck or failed: **${report.badEnds}**.`,
    `- Attempts per message (outbox count; refused connections are not counted): max ${a.max} of a budget of ${o.maxAttempts}, p99 ${a.p99}, p50 ${a.p50}, mean ${a.mean.toFixed(2)}; ${report.retriedMessages.toLocaleString('en-US')} messages were retried.`,
    `- Sent twice: **${d.afterLostAnswer}** extra accepts after an answer lost when the connections were reset (allowed), **${d.afterNoAnswer}** after an attempt that got no answer in time though Meta had accepted it (allowed), **${d.unexplained}** other (must be 0)${d.unexplainedIds.length > 0 ? `: ${d.unexplainedIds.slice(0, 5).join(', ')}` : ''}.`,
  ];
}
