import { describe, expect, it } from 'vitest';
import { planStatuses, type StatusPlanInput } from './status-plan.js';
import { ASYNC_ERRORS } from './webhook-payloads.js';

const base: StatusPlanInput = {
  wamid: 'wamid.X',
  waId: '573104567890',
  type: 'text',
  callbackData: 'ticket:1',
  acceptedAt: Date.parse('2026-03-10T12:00:00Z'),
  delays: { sent: 20, delivered: 1500, read: 3000 },
  readReceipts: true,
  windowOpen: false,
  enforceWindow: false,
  forcedFailure: null,
  templateCategory: 'utility',
};

describe('planStatuses', () => {
  it('plans sent, delivered, read at their delays, with timestamps in unix seconds as strings', () => {
    const plan = planStatuses(base);
    expect(plan.map((planned) => [planned.afterMs, planned.status.status, planned.status.timestamp])).toEqual(
      [
        [20, 'sent', '1773144000'],
        [1500, 'delivered', '1773144001'],
        [3000, 'read', '1773144003'],
      ],
    );
    expect(plan[2]!.status).not.toHaveProperty('pricing');
  });

  it.each<[string, Partial<StatusPlanInput>, object]>([
    ['free-form', {}, { billable: false, type: 'free_customer_service', category: 'service' }],
    [
      'a utility template outside the window',
      { type: 'template' },
      { billable: true, type: 'regular', category: 'utility' },
    ],
    [
      'a utility template inside the window',
      { type: 'template', windowOpen: true },
      { billable: false, type: 'free_customer_service', category: 'utility' },
    ],
    [
      'a marketing template inside the window',
      { type: 'template', windowOpen: true, templateCategory: 'marketing' },
      { billable: true, type: 'regular', category: 'marketing' },
    ],
  ])('prices %s', (_label, patch, pricing) => {
    const [sent, delivered] = planStatuses({ ...base, ...patch });
    expect(sent!.status.pricing).toEqual({ pricing_model: 'PMP', ...pricing });
    expect(delivered!.status.pricing).toEqual(sent!.status.pricing);
  });

  it('fails free-form outside the window only when enforced; templates and open windows pass', () => {
    expect(planStatuses({ ...base, enforceWindow: true }).map((p) => p.status.status)).toEqual(['failed']);
    expect(planStatuses({ ...base, enforceWindow: true, type: 'template' })).toHaveLength(3);
    expect(planStatuses({ ...base, enforceWindow: true, windowOpen: true })).toHaveLength(3);
    const [failed] = planStatuses({ ...base, enforceWindow: true });
    expect(failed!.status.errors).toEqual([ASYNC_ERRORS.reengagement]);
    expect(failed!.status.errors![0]).not.toBe(ASYNC_ERRORS.reengagement);
  });

  it('a forced failure wins, and no read without read receipts', () => {
    const [failed] = planStatuses({ ...base, forcedFailure: ASYNC_ERRORS.undeliverable, windowOpen: true });
    expect(failed!.status).toMatchObject({ status: 'failed', errors: [{ code: 131026 }] });
    expect(planStatuses({ ...base, readReceipts: false }).map((p) => p.status.status)).toEqual([
      'sent',
      'delivered',
    ]);
  });
});
