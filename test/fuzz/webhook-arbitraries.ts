import fc from 'fast-check';
import { anyText, objectWith } from './arbitraries.js';

/** Values that look like Meta's in places and are wrong in others, so the parser is exercised deep down. */
const loose = fc.oneof(anyText(20), fc.jsonValue({ maxDepth: 2 }), fc.integer(), fc.constant(null));
const status = fc.oneof(
  loose,
  objectWith(['id', 'status', 'timestamp', 'recipient_id', 'biz_opaque_callback_data', 'errors', 'pricing']),
  fc.record({
    id: fc.oneof(fc.constant('wamid.HBgM'), anyText(20)),
    status: fc.oneof(fc.constantFrom('sent', 'delivered', 'read', 'failed', 'deleted'), loose),
    timestamp: fc.oneof(fc.integer({ min: 0, max: 2_000_000_000 }).map(String), loose),
    errors: fc.oneof(fc.array(objectWith(['code', 'title', 'message', 'error_data'])), loose),
    pricing: fc.oneof(objectWith(['category', 'billable', 'pricing_model']), loose),
  }),
);
const message = fc.oneof(
  loose,
  objectWith(['from', 'id', 'timestamp', 'type', 'text', 'interactive', 'button', 'image', 'context']),
  fc.record({
    from: fc.oneof(fc.constant('573103055424'), anyText(20)),
    id: anyText(20),
    timestamp: fc.oneof(fc.integer({ min: 0, max: 2_000_000_000 }).map(String), loose),
    type: fc.oneof(
      fc.constantFrom(
        'text',
        'interactive',
        'button',
        'image',
        'document',
        'audio',
        'video',
        'sticker',
        'unsupported',
      ),
      loose,
    ),
    text: fc.oneof(objectWith(['body']), loose),
    interactive: fc.oneof(objectWith(['type', 'button_reply', 'list_reply']), loose),
    button: fc.oneof(objectWith(['payload', 'text']), loose),
    image: fc.oneof(objectWith(['id', 'mime_type', 'sha256', 'caption']), loose),
    context: fc.oneof(objectWith(['id', 'from']), loose),
  }),
);
const value = fc.record({
  messaging_product: fc.oneof(fc.constant('whatsapp'), loose),
  metadata: fc.oneof(objectWith(['phone_number_id', 'display_phone_number']), loose),
  statuses: fc.oneof(fc.array(status, { maxLength: 4 }), loose),
  messages: fc.oneof(fc.array(message, { maxLength: 4 }), loose),
  contacts: fc.oneof(fc.array(objectWith(['wa_id', 'profile', 'user_id'])), loose),
  errors: fc.oneof(fc.array(objectWith(['code', 'title', 'message', 'error_data'])), loose),
});
export const metaShaped: fc.Arbitrary<unknown> = fc.record({
  object: fc.oneof(fc.constant('whatsapp_business_account'), loose),
  entry: fc.oneof(
    fc.array(
      fc.record({
        id: loose,
        changes: fc.oneof(
          fc.array(fc.record({ field: fc.oneof(fc.constant('messages'), loose), value }), { maxLength: 3 }),
          loose,
        ),
      }),
      { maxLength: 3 },
    ),
    loose,
  ),
});
