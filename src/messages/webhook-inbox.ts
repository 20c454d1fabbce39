import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { DatabaseSchema } from '../db/schema.js';
import type { Clock } from '../shared/clock.js';
import { newId } from '../shared/ids.js';
import { parseWebhookPayload } from '../whatsapp/webhook-events.js';
import { applyStatus, reconcileUnmatched, type StatusDeps } from './apply-status.js';
import type { MessageMetrics } from './message-metrics.js';
import { recordInbound, type InboundDeps } from './record-inbound.js';

export interface WebhookInboxDeps {
  db: Kysely<DatabaseSchema>;
  clock: Clock;
  logger: Logger;
  status: StatusDeps;
  inbound: InboundDeps;
  metrics?: MessageMetrics;
}

const LEASE_MS = 60_000;
const MAX_ATTEMPTS = 10;

/**
 * Meta's webhook deliveries: stored durably before we answer 200, then processed in the background (at
 * once in this process, and by a sweep that picks up anything a crashed process left behind).
 */
export class WebhookInbox {
  private sweepTimer: NodeJS.Timeout | null = null;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly deps: WebhookInboxDeps) {}

  /** Durably stores a verified raw body; the caller may answer 200 once this resolves. */
  async accept(rawBody: string): Promise<string> {
    const id = newId();
    await this.deps.db
      .insertInto('webhook_deliveries')
      .values({
        id,
        received_at: this.deps.clock.now(),
        body: rawBody,
        processed_at: null,
        attempts: 0,
        lease_expires_at: null,
        last_error: null,
      })
      .execute();
    this.track(this.processById(id));
    return id;
  }

  start(sweepEveryMs = 5000): void {
    this.sweepTimer = setInterval(() => this.track(this.sweep()), sweepEveryMs);
    this.sweepTimer.unref();
    this.track(this.sweep());
  }

  async stop(): Promise<void> {
    if (this.sweepTimer !== null) clearInterval(this.sweepTimer);
    await Promise.allSettled([...this.inFlight]);
  }

  /** Resolves when everything received so far has been processed (tests, graceful stop). */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private track(work: Promise<void>): void {
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
  }

  private async sweep(): Promise<void> {
    try {
      const pending = await this.deps.db
        .selectFrom('webhook_deliveries')
        .select('id')
        .where('processed_at', 'is', null)
        .where('attempts', '<', MAX_ATTEMPTS)
        .where((eb) =>
          eb.or([eb('lease_expires_at', 'is', null), eb('lease_expires_at', '<', this.deps.clock.now())]),
        )
        .orderBy('received_at')
        .limit(100)
        .execute();
      for (const row of pending) await this.processById(row.id);
      await reconcileUnmatched(this.deps.status);
    } catch (error) {
      this.deps.logger.error({ event: 'webhook.sweep_failed', err: error }, 'webhook sweep failed');
    }
  }

  private async processById(id: string): Promise<void> {
    const now = this.deps.clock.now();
    // Claim it, so another process's sweep leaves it alone while we work.
    const claimed = await this.deps.db
      .updateTable('webhook_deliveries')
      .set((eb) => ({ lease_expires_at: now + LEASE_MS, attempts: eb('attempts', '+', 1) }))
      .where('id', '=', id)
      .where('processed_at', 'is', null)
      .where((eb) => eb.or([eb('lease_expires_at', 'is', null), eb('lease_expires_at', '<', now)]))
      .returning('body')
      .executeTakeFirst()
      .catch((error: unknown) => {
        this.deps.logger.error(
          { event: 'webhook.claim_failed', deliveryId: id, err: error },
          'could not claim webhook',
        );
        return undefined;
      });
    if (claimed === undefined) return;
    try {
      await this.process(id, claimed.body);
      await this.deps.db
        .updateTable('webhook_deliveries')
        .set({ processed_at: this.deps.clock.now(), lease_expires_at: null })
        .where('id', '=', id)
        .execute();
    } catch (error) {
      this.deps.logger.error(
        { event: 'webhook.process_failed', deliveryId: id, err: error },
        'webhook processing failed; will retry',
      );
      await this.deps.db
        .updateTable('webhook_deliveries')
        .set({
          lease_expires_at: null,
          last_error: error instanceof Error ? error.message.slice(0, 500) : 'unknown',
        })
        .where('id', '=', id)
        .execute()
        .catch(() => undefined);
    }
  }

  private async process(id: string, body: string): Promise<void> {
    const parsed = parseWebhookPayload(JSON.parse(withoutNul(body)) as unknown);
    if (parsed.ignored.length > 0) {
      this.deps.logger.warn(
        { event: 'webhook.items_ignored', deliveryId: id, ignored: parsed.ignored.slice(0, 20) },
        'webhook items ignored',
      );
    }
    for (const event of parsed.events) {
      this.deps.metrics?.onWebhookEvent(event.type);
      if (event.type === 'status') await applyStatus(this.deps.status, event);
      else if (event.type === 'inbound') await recordInbound(this.deps.inbound, event);
      else
        this.deps.logger.error(
          { event: 'whatsapp.account_error', errors: event.errors },
          'Meta reported an account-level error',
        );
    }
  }
}

/** A `\u0000` escape that is not itself escaped (`\\u0000` is a backslash and the text "u0000"). */
const NUL_ESCAPE = /(?<!\\)((?:\\\\)*)\\u0000/g;

/**
 * PostgreSQL text cannot hold U+0000, so a delivery whose strings carry one (escaped: raw control characters
 * are not JSON) failed on every attempt (found by fuzzing). Such a NUL becomes U+FFFD before parsing.
 */
export function withoutNul(json: string): string {
  return json.includes('\\u0000') ? json.replace(NUL_ESCAPE, '$1\\ufffd') : json;
}
