/**
 * The Prometheus side of `/metrics`: the only module that imports prom-client. app.ts builds one
 * registry per app (no global default registry, so two apps in one test process never share counters) and
 * hands the typed recorders below to the modules that report.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { MessageMetrics } from '../messages/message-metrics.js';
import type { OutboxSnapshot } from '../messages/outbox.js';
import type { Clock } from '../shared/clock.js';

/** What the HTTP layer reports: requests by route pattern, webhook deliveries, and the scrape itself. */
export interface HttpMetrics {
  /** `route` is the route pattern (`/api/messages/:id`), never the raw URL. */
  onRequest(request: { method: string; route: string; statusCode: number; durationMs: number }): void;
  onWebhookDelivery(result: 'accepted' | 'signature_invalid' | 'invalid_json' | 'rate_limited'): void;
  render(): Promise<{ contentType: string; body: string }>;
}

export interface AppMetrics {
  readonly registry: Registry;
  readonly messages: MessageMetrics;
  readonly http: HttpMetrics;
}

export interface MetricsOptions {
  /** Queue depth and oldest due time; read at scrape time, at most once per `snapshotCacheMs`. */
  outboxSnapshot: () => Promise<OutboxSnapshot>;
  clock: Clock;
  snapshotCacheMs?: number;
  /** Process metrics (CPU, memory, event loop lag, GC); off in tests that build many apps. */
  collectProcessMetrics?: boolean;
}

const HTTP_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** Graph requests: Meta answers in ~100–500 ms; the tail up to the 15 s request timeout. */
const SEND_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30];
const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function createMetrics(options: MetricsOptions): AppMetrics {
  const registry = new Registry();
  const registers = [registry];
  if (options.collectProcessMetrics !== false) collectDefaultMetrics({ register: registry });

  const messages = new Counter({
    name: 'khk_messages_total',
    help: 'Outbound message status changes: send outcomes (sent, retrying, failed) and webhook statuses (delivered, read, failed), with Meta error code ("" when none).',
    labelNames: ['status', 'whatsapp_code'] as const,
    registers,
  });
  const sendDuration = new Histogram({
    name: 'khk_whatsapp_send_duration_seconds',
    help: 'Duration of each Graph API send request, by recorded outcome.',
    labelNames: ['outcome'] as const,
    buckets: SEND_BUCKETS,
    registers,
  });
  const retries = new Counter({
    name: 'khk_whatsapp_retries_total',
    help: 'Send attempts that failed transiently and were scheduled again, by our error code.',
    labelNames: ['error_code'] as const,
    registers,
  });
  const reclaimed = new Counter({
    name: 'khk_outbox_leases_reclaimed_total',
    help: 'Claimed messages handed back to the queue after their lease expired (a process died mid-send).',
    registers,
  });
  const lateStarts = new Counter({
    name: 'khk_whatsapp_late_starts_total',
    help: 'Sends that could not start within their throughput slot (a starved process, no free connection): not sent, given a new slot.',
    registers,
  });
  const webhookEvents = new Counter({
    name: 'khk_webhook_events_total',
    help: 'Events parsed from stored webhook deliveries, by type.',
    labelNames: ['type'] as const,
    registers,
  });
  const webhookDeliveries = new Counter({
    name: 'khk_webhook_deliveries_total',
    help: 'Webhook POSTs by result (accepted, signature_invalid, invalid_json, rate_limited).',
    labelNames: ['result'] as const,
    registers,
  });
  const signatureFailures = new Counter({
    name: 'khk_webhook_signature_failures_total',
    help: 'Webhook POSTs refused for a missing or wrong X-Hub-Signature-256.',
    registers,
  });
  const httpRequests = new Counter({
    name: 'khk_http_requests_total',
    help: 'HTTP requests by method, route pattern and status code.',
    labelNames: ['method', 'route', 'status_code'] as const,
    registers,
  });
  const httpDuration = new Histogram({
    name: 'khk_http_request_duration_seconds',
    help: 'HTTP request duration by method and route pattern.',
    labelNames: ['method', 'route'] as const,
    buckets: HTTP_BUCKETS,
    registers,
  });

  const snapshot = cachedSnapshot(options);
  new Gauge({
    name: 'khk_outbox_depth',
    help: 'Outbound messages waiting to be sent (queued or retrying); NaN when the database cannot be read.',
    registers,
    async collect() {
      const current = await snapshot();
      this.set(current === null ? Number.NaN : current.depth);
    },
  });
  new Gauge({
    name: 'khk_outbox_oldest_due_age_seconds',
    help: 'How long the oldest due message has waited past its due time (0 when none is due).',
    registers,
    async collect() {
      const current = await snapshot();
      if (current === null) return this.set(Number.NaN);
      const { oldestDueAt } = current;
      this.set(oldestDueAt === null ? 0 : Math.max(0, options.clock.now() - oldestDueAt) / 1000);
    },
  });
  new Gauge({
    name: 'khk_database_up',
    help: '1 when the last outbox snapshot could be read from the database, else 0.',
    registers,
    async collect() {
      this.set((await snapshot()) === null ? 0 : 1);
    },
  });

  return {
    registry,
    messages: {
      onSendResult({ outcome, errorCode, whatsappCode, latencyMs }) {
        messages.inc({ status: outcome, whatsapp_code: codeLabel(whatsappCode) });
        if (latencyMs !== null) sendDuration.observe({ outcome }, latencyMs / 1000);
        if (outcome === 'retrying') retries.inc({ error_code: errorCode ?? 'unknown' });
      },
      onStatusChange({ status, whatsappCode }) {
        messages.inc({ status, whatsapp_code: codeLabel(whatsappCode) });
      },
      onWebhookEvent(type) {
        webhookEvents.inc({ type });
      },
      onLeasesReclaimed(count) {
        reclaimed.inc(count);
      },
      onLateStart() {
        lateStarts.inc();
      },
    },
    http: {
      onRequest({ method, route, statusCode, durationMs }) {
        const methodLabel = HTTP_METHODS.has(method) ? method : 'OTHER';
        httpRequests.inc({ method: methodLabel, route, status_code: String(statusCode) });
        httpDuration.observe({ method: methodLabel, route }, durationMs / 1000);
      },
      onWebhookDelivery(result) {
        webhookDeliveries.inc({ result });
        if (result === 'signature_invalid') signatureFailures.inc();
      },
      async render() {
        return { contentType: registry.contentType, body: await registry.metrics() };
      },
    },
  };
}

function codeLabel(code: number | null): string {
  return code === null ? '' : String(code);
}

/**
 * One snapshot shared by every gauge of a scrape and by scrapes within `snapshotCacheMs`, so a scraper
 * (or several) cannot hammer the database. Null when the database cannot be read.
 */
function cachedSnapshot(options: MetricsOptions): () => Promise<OutboxSnapshot | null> {
  const cacheMs = options.snapshotCacheMs ?? 1000;
  let cached: { at: number; value: Promise<OutboxSnapshot | null> } | null = null;
  return () => {
    const now = options.clock.now();
    if (cached === null || now - cached.at >= cacheMs) {
      cached = { at: now, value: options.outboxSnapshot().catch(() => null) };
    }
    return cached.value;
  };
}
