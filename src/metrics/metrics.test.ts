import { describe, expect, it } from 'vitest';
import type { OutboxSnapshot } from '../messages/outbox.js';
import { createMetrics } from './metrics.js';

function setup(snapshot: () => Promise<OutboxSnapshot>) {
  const clock = { at: 1_000_000, now: () => clock.at };
  let reads = 0;
  const metrics = createMetrics({
    outboxSnapshot: () => {
      reads++;
      return snapshot();
    },
    clock,
    collectProcessMetrics: false,
  });
  return { metrics, clock, reads: () => reads };
}

const value = (text: string, name: string) => {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.split(' ')[1]);
};

describe('createMetrics', () => {
  it('reads the outbox once per scrape and at most once per second, however many scrapes', async () => {
    const { metrics, clock, reads } = setup(async () => ({ depth: 7, oldestDueAt: 1_000_000 - 2500 }));
    const first = await metrics.http.render();
    expect(value(first.body, 'khk_outbox_depth')).toBe(7);
    expect(value(first.body, 'khk_outbox_oldest_due_age_seconds')).toBe(2.5);
    expect(value(first.body, 'khk_database_up')).toBe(1);
    await Promise.all([metrics.http.render(), metrics.http.render()]);
    expect(reads()).toBe(1);
    clock.at += 1000;
    await metrics.http.render();
    expect(reads()).toBe(2);
  });

  it('reports an unreadable database as NaN and khk_database_up 0 instead of failing the scrape', async () => {
    const { metrics } = setup(() => Promise.reject(new Error('connect ECONNREFUSED')));
    const { body, contentType } = await metrics.http.render();
    expect(contentType).toMatch(/^text\/plain/);
    // prom-client writes `Nan`; Prometheus parses NaN case-insensitively.
    expect(body).toMatch(/^khk_outbox_depth NaN$/im);
    expect(value(body, 'khk_database_up')).toBe(0);
  });

  it('says 0 s of waiting when nothing is due yet', async () => {
    const { metrics } = setup(async () => ({ depth: 3, oldestDueAt: 1_000_000 + 60_000 }));
    expect(value((await metrics.http.render()).body, 'khk_outbox_oldest_due_age_seconds')).toBe(0);
  });

  it('labels sends by outcome and Meta code, and counts retries by our code', async () => {
    const { metrics } = setup(async () => ({ depth: 0, oldestDueAt: null }));
    metrics.messages.onSendResult({ outcome: 'sent', errorCode: null, whatsappCode: null, latencyMs: 120 });
    metrics.messages.onSendResult({
      outcome: 'retrying',
      errorCode: 'whatsapp_throughput_limited',
      whatsappCode: 130429,
      latencyMs: 80,
    });
    metrics.messages.onStatusChange({ status: 'failed', whatsappCode: 131026 });
    metrics.http.onRequest({ method: 'BREW', route: '(unmatched)', statusCode: 404, durationMs: 1 });
    const { body } = await metrics.http.render();
    expect(body).toContain('khk_messages_total{status="sent",whatsapp_code=""} 1');
    expect(body).toContain('khk_messages_total{status="retrying",whatsapp_code="130429"} 1');
    expect(body).toContain('khk_messages_total{status="failed",whatsapp_code="131026"} 1');
    expect(body).toContain('khk_whatsapp_retries_total{error_code="whatsapp_throughput_limited"} 1');
    expect(body).toContain('khk_whatsapp_send_duration_seconds_count{outcome="sent"} 1');
    expect(body).toContain('khk_http_requests_total{method="OTHER",route="(unmatched)",status_code="404"} 1');
  });

  it('keeps two apps apart: each has its own registry', async () => {
    const a = setup(async () => ({ depth: 1, oldestDueAt: null })).metrics;
    const b = setup(async () => ({ depth: 2, oldestDueAt: null })).metrics;
    a.messages.onWebhookEvent('status');
    expect((await a.http.render()).body).toContain('khk_webhook_events_total{type="status"} 1');
    expect((await b.http.render()).body).not.toContain('khk_webhook_events_total{type="status"}');
  });
});
