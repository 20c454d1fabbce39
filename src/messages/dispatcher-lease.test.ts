import pino, { type Logger } from 'pino';
import { describe, expect, it } from 'vitest';
import type { SendRequest, WhatsAppClient } from '../whatsapp/whatsapp-client.js';
import { Dispatcher, MAX_LATE_STARTS } from './dispatcher.js';
import type { MessageNotifier } from './message-notifier.js';
import type { Completion, MessageRow, Outbox } from './outbox.js';
import type { ThroughputLimiter } from './throughput-limiter.js';

const LEASE_MS = 1000;

function row(index: number, claimedAt: number): MessageRow {
  return {
    id: `m-${index}`,
    direction: 'outbound',
    phone_number_id: '100000000000555',
    recipient: '+573005550000',
    kind: 'text',
    payload: JSON.stringify({ kind: 'text', body: `message ${index}` }),
    status: 'sending',
    attempts: 1,
    wamid: null,
    idempotency_key: null,
    request_hash: null,
    ticket_id: null,
    last_error: null,
    next_attempt_at: claimedAt,
    lease_owner: 'me',
    lease_expires_at: claimedAt + LEASE_MS,
    created_at: claimedAt,
    updated_at: claimedAt,
    fallback_payload: null,
  };
}

/** The outbox's methods the dispatcher calls here (the rest of the class is not needed), recording what it is told. */
function fakeOutbox(options: {
  claims: MessageRow[][];
  completed: Completion[];
  released: string[];
  now: () => number;
}): Outbox {
  return {
    claimDue: () => Promise.resolve(options.claims.shift() ?? []),
    complete: (completion: Completion) => {
      options.completed.push(completion);
      return Promise.resolve(true);
    },
    reclaimExpiredLeases: () => Promise.resolve(0),
    // Renewed once at start (the timer's next turn is after the test): until the claim's own expiry.
    renewLeases: (_owner: string, _ids: readonly string[], leaseMs: number) =>
      Promise.resolve(options.now() + leaseMs),
    releaseClaims: (ids: readonly string[]) => {
      options.released.push(...ids);
      return Promise.resolve(ids.length);
    },
  } as unknown as Outbox;
}

/** Runs a dispatcher over `outbox` for 100 ms, then stops it. */
async function runDispatcher(deps: {
  outbox: Outbox;
  client: WhatsAppClient;
  limiter: ThroughputLimiter;
  logger: Logger;
  now: () => number;
}): Promise<Dispatcher> {
  const dispatcher = new Dispatcher(
    {
      outbox: deps.outbox,
      client: deps.client,
      limiter: deps.limiter,
      notifier: { notify: () => undefined } as unknown as MessageNotifier,
      logger: deps.logger,
      clock: { now: deps.now },
      random: () => 0.5,
      windows: null,
    },
    {
      owner: 'me',
      concurrency: 10,
      leaseMs: LEASE_MS,
      maxAttempts: 10,
      retryBaseMs: 1000,
      pollIntervalMs: 20,
      claimBatch: 10,
    },
  );
  dispatcher.start();
  await new Promise((resolve) => setTimeout(resolve, 100));
  await dispatcher.stop(1000);
  return dispatcher;
}

describe('Dispatcher: claims and the throughput cap', () => {
  it('never starts a send whose claim is more than half gone while it waited for the cap', async () => {
    let now = 1_780_000_000_000;
    const claims = [Array.from({ length: 10 }, (_, index) => row(index, now))];
    const sent: string[] = [];
    const completed: Completion[] = [];
    const released: string[] = [];
    const outbox = fakeOutbox({ claims, completed, released, now: () => now });
    const client: WhatsAppClient = {
      sendMessage: (request: SendRequest) => {
        sent.push(request.callbackData ?? '');
        return Promise.resolve({ ok: true, wamid: `wamid.${sent.length}`, waId: null });
      },
      uploadMedia: () => Promise.reject(new Error('not used')),
    };
    // A busy process's share of the cap: one slot every 200 ms.
    const limiter: ThroughputLimiter = {
      acquire: () => {
        now += 200;
        return Promise.resolve({ count: 1, startBy: [] });
      },
    };
    const warnings: unknown[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => warnings.push(JSON.parse(line)) });
    await runDispatcher({ outbox, client, limiter, logger, now: () => now });

    // Granted at +200 ms (800 ms of lease left) and +400 ms (600 ms): sent. At +600 ms only 400 ms was
    // left (no renewal since), less than half the lease: that send and the rest of the claim are handed
    // back (due again, attempt refunded), to be sent once by whichever process claims them next.
    expect(sent).toEqual(['m-0', 'm-1']);
    expect(completed.map((completion) => completion.id)).toEqual(['m-0', 'm-1']);
    expect(released).toEqual(['m-2', 'm-3', 'm-4', 'm-5', 'm-6', 'm-7', 'm-8', 'm-9']);
    expect(warnings).toContainEqual(
      expect.objectContaining({ event: 'dispatcher.claim_stale', count: 8, released: 8, leaseLeftMs: 400 }),
    );
  });
});

describe('Dispatcher: sends that miss their throughput slot', () => {
  /** A dispatcher over one claimed message, a client that answers late_start `lateTimes` times, then sends. */
  async function run(lateTimes: number) {
    const now = 1_780_000_000_000;
    const claims = [[row(0, now)]];
    const sends: { startBy: number | undefined }[] = [];
    const completed: Completion[] = [];
    const outbox = fakeOutbox({ claims, completed, released: [], now: () => now });
    const client: WhatsAppClient = {
      sendMessage: (request: SendRequest) => {
        sends.push({ startBy: request.startBy });
        if (sends.length <= lateTimes) {
          return Promise.resolve({
            ok: false,
            failure: {
              kind: 'late_start',
              httpStatus: null,
              whatsappCode: null,
              message: 'not sent: it would have started 12.0 ms after its throughput slot',
              details: null,
              fbtraceId: null,
              retryAfterMs: null,
              isAmbiguous: false,
            },
          });
        }
        return Promise.resolve({ ok: true, wamid: 'wamid.1', waId: null });
      },
      uploadMedia: () => Promise.reject(new Error('not used')),
    };
    // Each grant's deadline is numbered, so the test can tell which slot a send was given.
    let grants = 0;
    const limiter: ThroughputLimiter = {
      acquire: () => Promise.resolve({ count: 1, startBy: [++grants * 1000] }),
    };
    const logger = pino({ level: 'silent' });
    const dispatcher = await runDispatcher({ outbox, client, limiter, logger, now: () => now });
    return { sends, completed, grants, lateStarts: dispatcher.lateStarts };
  }

  it('passes each send its slot deadline and sends once when it starts in time', async () => {
    const { sends, completed, grants } = await run(0);
    expect(sends).toEqual([{ startBy: 1000 }]);
    expect(grants).toBe(1);
    expect(completed).toMatchObject([{ id: 'm-0', outcome: 'sent' }]);
  });

  it('takes a new slot for a send that could not start in its own, without using up an attempt', async () => {
    const { sends, completed, grants, lateStarts } = await run(2);
    // Late twice, each time with a fresh slot's deadline; the third goes out. One outcome, recorded once.
    expect(sends).toEqual([{ startBy: 1000 }, { startBy: 2000 }, { startBy: 3000 }]);
    expect(grants).toBe(3);
    expect(lateStarts).toBe(2);
    expect(completed).toEqual([expect.objectContaining({ id: 'm-0', outcome: 'sent', wamid: 'wamid.1' })]);
  });

  it(`goes without a deadline after ${MAX_LATE_STARTS} late starts: a starved process still makes progress`, async () => {
    const { sends, completed, lateStarts } = await run(MAX_LATE_STARTS);
    expect(sends).toHaveLength(MAX_LATE_STARTS + 1);
    expect(sends.slice(0, MAX_LATE_STARTS).every((send) => send.startBy !== undefined)).toBe(true);
    expect(sends.at(-1)).toEqual({ startBy: undefined });
    expect(lateStarts).toBe(MAX_LATE_STARTS);
    expect(completed).toMatchObject([{ id: 'm-0', outcome: 'sent' }]);
  });
});
