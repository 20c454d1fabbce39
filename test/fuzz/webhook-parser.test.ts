import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseWebhookPayload } from '../../src/whatsapp/webhook-events.js';
import { anyJson, fuzzParameters, fuzzRuns } from './arbitraries.js';
import { metaShaped } from './webhook-arbitraries.js';

describe('webhook parser (fuzz)', () => {
  it.each([
    ['any JSON value', anyJson],
    ['Meta-shaped bodies with wrong parts', metaShaped],
  ])('never throws on %s and returns only well-formed events', (_name, body: fc.Arbitrary<unknown>) => {
    fc.assert(
      fc.property(body, (input) => {
        // What the route hands it: the value JSON.parse gives for the delivered bytes.
        const parsed = parseWebhookPayload(JSON.parse(JSON.stringify(input) ?? 'null') as unknown);
        expect(Array.isArray(parsed.events)).toBe(true);
        for (const event of parsed.events) {
          expect(['status', 'inbound', 'account_error']).toContain(event.type);
          if (event.type === 'status') {
            expect(typeof event.wamid).toBe('string');
            expect(Number.isSafeInteger(event.timestamp)).toBe(true);
          }
        }
        for (const item of parsed.ignored) expect(typeof item.reason).toBe('string');
      }),
      fuzzParameters(fuzzRuns(1500)),
    );
  });
});
