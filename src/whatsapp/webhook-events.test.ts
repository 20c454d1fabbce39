import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  isStatusUpgrade,
  parseWebhookPayload,
  STATUS_RANK,
  type DeliveryStatus,
  type InboundEvent,
  type OutboundMessageStatus,
  type StatusEvent,
  type WebhookEvent,
} from './webhook-events.js';

const FIXTURES = new URL('../../test/fixtures/whatsapp/', import.meta.url);

function rawFixture(name: string): string {
  return readFileSync(new URL(name, FIXTURES), 'utf8');
}

/** Compact JSON escaped as Meta escapes it: every character above U+007E as \uXXXX, and `/` as `\/`. */
function metaSerialise(value: unknown): string {
  return JSON.stringify(value)
    .replace(/[\u007f-\uffff]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`)
    .replaceAll('/', '\\/');
}

/** What the webhook route does with the raw bytes once the signature checks out. */
function parseFixture(name: string) {
  return parseWebhookPayload(JSON.parse(rawFixture(name)));
}

const PHONE_NUMBER_ID = '106540352242922';
const SECOND_PHONE_NUMBER_ID = '113344556677889';
const CARLOS = '573104567890';
const TICKET_42_TEMPLATE = 'wamid.HBgMNTczMTA0NTY3ODkwFQIAERgSM0VCMEExQjJDM0Q0RTVGNkE3AA==';
const TICKET_44_TEMPLATE = 'wamid.HBgMNTczMDAxMTEyMjMzFQIAERgSM0VCMDVENkU3RjgwOTFBMkIzAA==';
const TICKET_45_TEMPLATE = 'wamid.HBgMNTczMTUxMjM0NTY3FQIAERgSM0VCMEM0RDVFNkY3MDgxOTJBAA==';
const ERROR_CODES_HREF = 'https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/';

function statusEvent(fields: Partial<StatusEvent> & Pick<StatusEvent, 'wamid' | 'status' | 'timestamp'>) {
  return {
    type: 'status',
    phoneNumberId: PHONE_NUMBER_ID,
    recipientId: CARLOS,
    recipientUserId: null,
    callbackData: null,
    pricingCategory: null,
    errors: [],
    ...fields,
  } satisfies StatusEvent;
}

function inboundEvent(fields: Partial<InboundEvent> & Pick<InboundEvent, 'wamid' | 'timestamp' | 'content'>) {
  return {
    type: 'inbound',
    phoneNumberId: PHONE_NUMBER_ID,
    from: CARLOS,
    fromUserId: null,
    profileName: 'Carlos Pérez',
    contextWamid: null,
    errors: [],
    ...fields,
  } satisfies InboundEvent;
}

/** A body with one entry and the given changes (each a `value` without metadata, plus its field). */
function webhook(...changes: { value: Record<string, unknown>; field?: unknown }[]): unknown {
  return {
    object: 'whatsapp_business_account',
    entry: [
      {
        id: '102290129340398',
        changes: changes.map(({ value, field = 'messages' }) => ({
          value: {
            messaging_product: 'whatsapp',
            metadata: { display_phone_number: '573005550199', phone_number_id: PHONE_NUMBER_ID },
            ...value,
          },
          field,
        })),
      },
    ],
  };
}

function rawStatus(fields: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: TICKET_42_TEMPLATE,
    status: 'delivered',
    timestamp: '1773151540',
    recipient_id: CARLOS,
    ...fields,
  };
}

function rawMessage(fields: Record<string, unknown>): Record<string, unknown> {
  return {
    from: CARLOS,
    id: 'wamid.HBgMNTczMTA0NTY3ODkwFQIAEhgUM0FDMUYyRTNENEM1QjZBNzk4MDEA',
    timestamp: '1773151753',
    ...fields,
  };
}

const CARLOS_CONTACT = { profile: { name: 'Carlos Pérez' }, wa_id: CARLOS };

describe('fixtures (raw bodies as Meta sends them)', () => {
  const names = readdirSync(FIXTURES).filter((name) => name.endsWith('.json'));

  it('has the documented set, each listed in the README', () => {
    expect(names.sort()).toEqual([
      'inbound-image.json',
      'inbound-interactive-button-reply.json',
      'inbound-template-button.json',
      'inbound-text.json',
      'status-delivered.json',
      'status-failed-131026.json',
      'status-failed-131047.json',
      'status-read.json',
      'status-sent.json',
      'status-unknown-wamid.json',
      'statuses-batched.json',
    ]);
    const readme = rawFixture('README.md');
    for (const name of names) expect(readme).toContain(`\`${name}\``);
  });

  it.each(names)('%s is one compact line escaped like Meta, and parses with nothing ignored', (name) => {
    const raw = rawFixture(name);
    expect(raw).toMatch(/^[\x20-\x7e]*$/);
    expect(raw).not.toMatch(/(?<!\\)\//);
    // Byte for byte what Meta's serialiser produces: no reformatting, no trailing newline.
    expect(raw).toBe(metaSerialise(JSON.parse(raw)));
    expect(parseFixture(name).ignored).toEqual([]);
  });

  it('status-sent.json', () => {
    expect(parseFixture('status-sent.json').events).toEqual([
      statusEvent({
        wamid: TICKET_42_TEMPLATE,
        status: 'sent',
        timestamp: 1773151502000,
        callbackData: 'ticket:T-2026-00042',
        pricingCategory: 'utility',
      }),
    ]);
  });

  it('status-delivered.json', () => {
    expect(parseFixture('status-delivered.json').events).toEqual([
      statusEvent({
        wamid: TICKET_42_TEMPLATE,
        status: 'delivered',
        timestamp: 1773151540000,
        callbackData: 'ticket:T-2026-00042',
        pricingCategory: 'utility',
      }),
    ]);
  });

  it('status-read.json', () => {
    expect(parseFixture('status-read.json').events).toEqual([
      statusEvent({
        wamid: TICKET_42_TEMPLATE,
        status: 'read',
        timestamp: 1773151661000,
        callbackData: 'ticket:T-2026-00042',
      }),
    ]);
  });

  it('status-failed-131047.json', () => {
    expect(parseFixture('status-failed-131047.json').events).toEqual([
      statusEvent({
        wamid: 'wamid.HBgMNTczMTA0NTY3ODkwFQIAERgSNEYxRDJDM0I0QTU5Njg3NzY2AA==',
        status: 'failed',
        timestamp: 1773243000000,
        errors: [
          {
            code: 131047,
            title: 'Re-engagement message',
            message: 'Re-engagement message',
            details:
              'Message failed to send because more than 24 hours have passed since the customer last replied to this number.',
          },
        ],
      }),
    ]);
    // The escaped href decodes to the plain URL (the parser does not expose it, the JSON does).
    expect(JSON.stringify(JSON.parse(rawFixture('status-failed-131047.json')))).toContain(ERROR_CODES_HREF);
  });

  it('status-failed-131026.json', () => {
    expect(parseFixture('status-failed-131026.json').events).toEqual([
      statusEvent({
        wamid: 'wamid.HBgMNTczMjA5ODc2NTQzFQIAERgSM0VCMDdDMUQ5RTJGNEE1QjZDAA==',
        status: 'failed',
        timestamp: 1773160000000,
        recipientId: '573209876543',
        callbackData: 'ticket:T-2026-00043',
        errors: [
          {
            code: 131026,
            title: 'Message undeliverable',
            message: 'Message undeliverable',
            details: 'Message Undeliverable.',
          },
        ],
      }),
    ]);
  });

  it('status-unknown-wamid.json parses like any status (matching wamids is the store’s job)', () => {
    expect(parseFixture('status-unknown-wamid.json').events).toEqual([
      statusEvent({
        wamid: 'wamid.HBgMNTczMTU3NjU0MzIxFQIAERgSM0VCMEZGRUVERENDQkJBQTk5AA==',
        status: 'delivered',
        timestamp: 1773152000000,
        recipientId: '573157654321',
        pricingCategory: 'service',
      }),
    ]);
  });

  it('inbound-text.json (escaped é/ñ decode)', () => {
    expect(parseFixture('inbound-text.json').events).toEqual([
      inboundEvent({
        wamid: 'wamid.HBgMNTczMTA0NTY3ODkwFQIAEhgUM0FDMUYyRTNENEM1QjZBNzk4MDEA',
        timestamp: 1773151753000,
        content: { kind: 'text', body: 'Voy en camino, llego mañana a las 8' },
      }),
    ]);
  });

  it('inbound-interactive-button-reply.json', () => {
    expect(parseFixture('inbound-interactive-button-reply.json').events).toEqual([
      inboundEvent({
        wamid: 'wamid.HBgMNTczMTA0NTY3ODkwFQIAEhgUM0E5RjhFN0Q2QzVCNEEzOTI4MTcA',
        timestamp: 1773151770000,
        contextWamid: 'wamid.HBgMNTczMTA0NTY3ODkwFQIAERgSNUI2QzdEOEU5RkEwQjFDMkQzAA==',
        content: { kind: 'button_reply', id: 'accept:T-2026-00042', title: 'Aceptar' },
      }),
    ]);
  });

  it('inbound-template-button.json (context points at the template from status-sent.json)', () => {
    expect(parseFixture('inbound-template-button.json').events).toEqual([
      inboundEvent({
        wamid: 'wamid.HBgMNTczMTA0NTY3ODkwFQIAEhgUM0EwQjFDMkQzRTRGNUE2QjdDOEQA',
        timestamp: 1773151790000,
        contextWamid: TICKET_42_TEMPLATE,
        content: { kind: 'template_button', payload: 'accept:T-2026-00042', text: 'Aceptar' },
      }),
    ]);
  });

  it('inbound-image.json (escaped caption and `\\/` in sha256/mime type)', () => {
    expect(parseFixture('inbound-image.json').events).toEqual([
      inboundEvent({
        wamid: 'wamid.HBgMNTczMTA0NTY3ODkwFQIAEhgUM0E3RTZENUM0QjNBMjkxODBGMUUA',
        timestamp: 1773151900000,
        content: {
          kind: 'media',
          mediaType: 'image',
          mediaId: '1479537139650973',
          mimeType: 'image/jpeg',
          caption: 'Así está la fuga debajo del lavaplatos',
          filename: null,
        },
      }),
    ]);
  });

  it('statuses-batched.json: every status of every change of every entry, in order', () => {
    const sent42 = {
      wamid: TICKET_42_TEMPLATE,
      callbackData: 'ticket:T-2026-00042',
      pricingCategory: 'utility',
    } as const;
    const ticket44 = {
      wamid: TICKET_44_TEMPLATE,
      recipientId: '573001112233',
      callbackData: 'ticket:T-2026-00044',
    };
    expect(parseFixture('statuses-batched.json').events).toEqual([
      // entry[0].changes[0]
      statusEvent({ ...sent42, status: 'sent', timestamp: 1773151502000 }),
      statusEvent({ ...ticket44, status: 'sent', timestamp: 1773151503000, pricingCategory: 'utility' }),
      // entry[0].changes[1]: `read` arrives before `delivered` for ticket 44
      statusEvent({ ...ticket44, status: 'read', timestamp: 1773151620000 }),
      statusEvent({ ...sent42, status: 'delivered', timestamp: 1773151540000 }),
      // entry[1].changes[0]: the late `delivered` for 44, and a duplicate `delivered` for 42
      statusEvent({ ...ticket44, status: 'delivered', timestamp: 1773151560000, pricingCategory: 'utility' }),
      statusEvent({ ...sent42, status: 'delivered', timestamp: 1773151540000 }),
      // entry[1].changes[1]: our second business number
      statusEvent({
        wamid: TICKET_45_TEMPLATE,
        status: 'sent',
        timestamp: 1773151700000,
        phoneNumberId: SECOND_PHONE_NUMBER_ID,
        recipientId: '573151234567',
        callbackData: 'ticket:T-2026-00045',
        pricingCategory: 'utility',
      }),
    ]);
  });

  it('statuses-batched.json applied with isStatusUpgrade ends at the highest status of each message', () => {
    const stored = new Map<string, OutboundMessageStatus>([
      [TICKET_42_TEMPLATE, 'sending'],
      [TICKET_44_TEMPLATE, 'sent'],
      [TICKET_45_TEMPLATE, 'retrying'],
    ]);
    let applied = 0;
    for (const event of parseFixture('statuses-batched.json').events) {
      if (event.type !== 'status') continue;
      const current = stored.get(event.wamid)!;
      if (isStatusUpgrade(current, event.status)) {
        stored.set(event.wamid, event.status);
        applied++;
      }
    }
    expect(Object.fromEntries(stored)).toEqual({
      [TICKET_42_TEMPLATE]: 'delivered',
      [TICKET_44_TEMPLATE]: 'read',
      [TICKET_45_TEMPLATE]: 'sent',
    });
    // 42: sent, delivered (duplicate skipped); 44: read (its own `sent` repeats, late delivered skipped); 45: sent.
    expect(applied).toBe(4);
  });
});

describe('duplicates and out-of-order statuses', () => {
  it('parses a duplicate and an out-of-order pair as they came', () => {
    const parsed = parseWebhookPayload(
      webhook({
        value: {
          statuses: [
            rawStatus({ status: 'read', timestamp: '1773151661' }),
            rawStatus({ status: 'delivered', timestamp: '1773151540' }),
            rawStatus({ status: 'delivered', timestamp: '1773151540' }),
          ],
        },
      }),
    );
    expect(parsed.ignored).toEqual([]);
    expect(parsed.events.map((event) => (event.type === 'status' ? event.status : event.type))).toEqual([
      'read',
      'delivered',
      'delivered',
    ]);
    expect(parsed.events[1]).toEqual(parsed.events[2]);
  });
});

describe('STATUS_RANK and isStatusUpgrade', () => {
  it('ranks sent < delivered < read', () => {
    expect(STATUS_RANK.sent).toBeLessThan(STATUS_RANK.delivered);
    expect(STATUS_RANK.delivered).toBeLessThan(STATUS_RANK.read);
    expect(Object.isFrozen(STATUS_RANK)).toBe(true);
  });

  const cases: [OutboundMessageStatus, DeliveryStatus, boolean][] = [
    // still ours: any Meta status is news
    ['queued', 'sent', true],
    ['sending', 'sent', true],
    ['retrying', 'sent', true],
    ['sending', 'delivered', true],
    ['sending', 'read', true],
    ['sending', 'failed', true],
    ['retrying', 'failed', true],
    // forward
    ['sent', 'delivered', true],
    ['sent', 'read', true],
    ['delivered', 'read', true],
    // duplicates
    ['sent', 'sent', false],
    ['delivered', 'delivered', false],
    ['read', 'read', false],
    ['failed', 'failed', false],
    // out of order: never downgrade
    ['read', 'delivered', false],
    ['read', 'sent', false],
    ['delivered', 'sent', false],
    // failed: applies until the message reached the device, and nothing follows it
    ['sent', 'failed', true],
    ['delivered', 'failed', false],
    ['read', 'failed', false],
    ['failed', 'sent', false],
    ['failed', 'delivered', false],
    ['failed', 'read', false],
  ];
  it.each(cases)('%s → %s: %s', (current, next, upgrade) => {
    expect(isStatusUpgrade(current, next)).toBe(upgrade);
  });
});

describe('what is ignored, and where', () => {
  it('ignores webhooks of other objects', () => {
    const body = { object: 'page', entry: [{ id: '1', changes: [{ field: 'messages', value: {} }] }] };
    expect(parseWebhookPayload(body)).toEqual({
      events: [],
      ignored: [
        { path: 'object', reason: 'only "whatsapp_business_account" webhooks are handled, got "page"' },
      ],
    });
  });

  it('ignores changes of other fields, and reads the rest', () => {
    const parsed = parseWebhookPayload(
      webhook(
        { field: 'message_template_status_update', value: { statuses: [rawStatus()] } },
        { value: { statuses: [rawStatus()] } },
      ),
    );
    expect(parsed.events).toHaveLength(1);
    expect(parsed.ignored).toEqual([
      {
        path: 'entry[0].changes[0]',
        reason: 'only the "messages" field is handled, got "message_template_status_update"',
      },
    ]);
  });

  it('drops only the statuses missing something, with their path', () => {
    const parsed = parseWebhookPayload(
      webhook(
        { value: { statuses: [rawStatus()] } },
        {
          value: {
            statuses: [
              rawStatus({ status: 'sent' }),
              rawStatus({ id: undefined }),
              rawStatus({ status: 'played' }),
              rawStatus({ timestamp: '2026-03-10T10:00:00Z' }),
              rawStatus({ timestamp: 1773151540 }),
              42,
              rawStatus({ status: 'read' }),
            ],
          },
        },
      ),
    );
    expect(parsed.events.map((event) => (event as StatusEvent).status)).toEqual([
      'delivered',
      'sent',
      'delivered',
      'read',
    ]);
    expect(parsed.ignored).toEqual([
      {
        path: 'entry[0].changes[1].value.statuses[1]',
        reason: '"id": expected the wamid (a non-empty string), got nothing',
      },
      {
        path: 'entry[0].changes[1].value.statuses[2]',
        reason: '"status" "played" is not one of sent, delivered, read, failed',
      },
      {
        path: 'entry[0].changes[1].value.statuses[3]',
        reason: '"timestamp": expected Unix seconds as a string, got "2026-03-10T10:00:00Z"',
      },
      { path: 'entry[0].changes[1].value.statuses[5]', reason: 'the status: expected an object, got 42' },
    ]);
  });

  it('keeps a status whose error lacks a code, recording that error', () => {
    const parsed = parseWebhookPayload(
      webhook({
        value: {
          statuses: [
            rawStatus({
              status: 'failed',
              errors: [
                { title: 'no code' },
                { code: '131049', message: 'Meta chose not to deliver' },
                { code: 131053, title: 'Media upload error', error_data: 'not an object' },
              ],
            }),
          ],
        },
      }),
    );
    expect(parsed.events).toEqual([
      statusEvent({
        wamid: TICKET_42_TEMPLATE,
        status: 'failed',
        timestamp: 1773151540000,
        errors: [
          {
            code: 131049,
            title: 'Meta chose not to deliver',
            message: 'Meta chose not to deliver',
            details: null,
          },
          { code: 131053, title: 'Media upload error', message: null, details: null },
        ],
      }),
    ]);
    expect(parsed.ignored).toEqual([
      {
        path: 'entry[0].changes[0].value.statuses[0].errors[0]',
        reason: '"code": expected an integer, got nothing',
      },
    ]);
  });

  it('records arrays that are not arrays, and values that carry nothing', () => {
    const parsed = parseWebhookPayload(
      webhook(
        { value: { statuses: 'x' } },
        { value: { messages: {}, statuses: [rawStatus()] } },
        { value: {} },
        { value: { statuses: [rawStatus({ errors: { code: 1 } })] } },
      ),
    );
    expect(parsed.events).toHaveLength(2);
    expect(parsed.ignored).toEqual([
      { path: 'entry[0].changes[0].value.statuses', reason: '"statuses": expected an array, got "x"' },
      { path: 'entry[0].changes[1].value.messages', reason: '"messages": expected an array, got an object' },
      { path: 'entry[0].changes[2].value', reason: 'carries no statuses, messages or errors' },
      {
        path: 'entry[0].changes[3].value.statuses[0].errors',
        reason: '"errors": expected an array, got an object',
      },
    ]);
  });

  it('drops inbound messages it cannot use, with their path and reason', () => {
    const parsed = parseWebhookPayload(
      webhook({
        value: {
          contacts: [CARLOS_CONTACT],
          messages: [
            rawMessage({ type: 'text', text: { body: 'ok' } }),
            rawMessage({ from: undefined, type: 'text', text: { body: 'who?' } }),
            rawMessage({ type: 'text', text: {} }),
            rawMessage({ type: 'image', image: { mime_type: 'image/jpeg' } }),
            rawMessage({ type: 'button', button: { text: 'Aceptar' } }),
            rawMessage({
              type: 'interactive',
              interactive: { type: 'button_reply', button_reply: { id: 'x' } },
            }),
            rawMessage({ type: undefined }),
            rawMessage({ timestamp: '' }),
          ],
        },
      }),
    );
    expect(parsed.events).toHaveLength(1);
    const at = (i: number) => `entry[0].changes[0].value.messages[${i}]`;
    expect(parsed.ignored).toEqual([
      { path: at(1), reason: 'neither "from" nor "from_user_id" says who sent it' },
      { path: at(2), reason: '"text.body": expected a string, got nothing' },
      { path: at(3), reason: '"image.id": expected a non-empty string, got nothing' },
      { path: at(4), reason: '"button.payload": expected a string, got nothing' },
      { path: at(5), reason: '"interactive.button_reply.title": expected a string, got nothing' },
      { path: at(6), reason: '"type": expected a non-empty string, got nothing' },
      { path: at(7), reason: '"timestamp": expected Unix seconds as a string, got ""' },
    ]);
  });

  it('tolerates unknown and extra fields everywhere', () => {
    const plain = parseWebhookPayload(webhook({ value: { statuses: [rawStatus()] } }));
    const decorated = parseWebhookPayload({
      object: 'whatsapp_business_account',
      new_top_level: { anything: [1, 2, 3] },
      entry: [
        {
          id: '102290129340398',
          time: 1773151540,
          changes: [
            {
              field: 'messages',
              value: {
                messaging_product: 'whatsapp',
                metadata: {
                  display_phone_number: '573005550199',
                  phone_number_id: PHONE_NUMBER_ID,
                  extra: true,
                },
                statuses: [
                  rawStatus({
                    recipient_type: 'individual',
                    conversation: { id: 'abc', origin: { type: 'utility' } },
                    pricing: { billable: true, future_field: 'x' },
                    brand_new_field: [null],
                  }),
                ],
              },
            },
          ],
        },
      ],
    });
    expect(decorated).toEqual(plain);
  });

  it('keeps reasons short when the offending value is huge', () => {
    const parsed = parseWebhookPayload(
      webhook({ value: { statuses: [rawStatus({ status: 'x'.repeat(1_000_000) })] } }),
    );
    expect(parsed.ignored).toHaveLength(1);
    expect(parsed.ignored[0]!.reason.length).toBeLessThan(120);
  });
});

describe('inbound content', () => {
  function contentOf(message: Record<string, unknown>) {
    const parsed = parseWebhookPayload(
      webhook({ value: { contacts: [CARLOS_CONTACT], messages: [rawMessage(message)] } }),
    );
    expect(parsed.ignored).toEqual([]);
    return (parsed.events[0] as InboundEvent).content;
  }

  it('reads list replies', () => {
    expect(
      contentOf({
        type: 'interactive',
        interactive: {
          type: 'list_reply',
          list_reply: { id: 'slot:2', title: 'Mañana', description: '8–10 am' },
        },
      }),
    ).toEqual({ kind: 'list_reply', id: 'slot:2', title: 'Mañana' });
  });

  it.each([
    [
      {
        type: 'document',
        document: { id: '11', mime_type: 'application/pdf', filename: 'factura.pdf', caption: '' },
      },
      {
        mediaType: 'document',
        mediaId: '11',
        mimeType: 'application/pdf',
        caption: '',
        filename: 'factura.pdf',
      },
    ],
    [
      { type: 'audio', audio: { id: '12', mime_type: 'audio/ogg; codecs=opus', voice: true } },
      {
        mediaType: 'audio',
        mediaId: '12',
        mimeType: 'audio/ogg; codecs=opus',
        caption: null,
        filename: null,
      },
    ],
    [
      { type: 'video', video: { id: '13', mime_type: 'video/mp4', caption: 'ruido' } },
      { mediaType: 'video', mediaId: '13', mimeType: 'video/mp4', caption: 'ruido', filename: null },
    ],
    [
      { type: 'sticker', sticker: { id: '14', animated: false } },
      { mediaType: 'sticker', mediaId: '14', mimeType: null, caption: null, filename: null },
    ],
  ])('reads media %#', (message, media) => {
    expect(contentOf(message)).toEqual({ kind: 'media', ...media });
  });

  it.each([
    [{ type: 'reaction', reaction: { message_id: TICKET_42_TEMPLATE, emoji: '\ud83d\udc4d' } }, 'reaction'],
    [{ type: 'location', location: { latitude: 4.7, longitude: -74.05 } }, 'location'],
    [{ type: 'system', system: { body: 'changed number' } }, 'system'],
    [{ type: 'interactive', interactive: { type: 'nfm_reply', nfm_reply: {} } }, 'interactive.nfm_reply'],
    [{ type: 'interactive', interactive: {} }, 'interactive'],
    [{ type: 'brand_new_type' }, 'brand_new_type'],
  ])('reports other types as "other" %#', (message, messageType) => {
    expect(contentOf(message)).toEqual({ kind: 'other', messageType });
  });

  it('keeps errors on inbound messages (unsupported 131051)', () => {
    const parsed = parseWebhookPayload(
      webhook({
        value: {
          contacts: [CARLOS_CONTACT],
          messages: [
            rawMessage({
              type: 'unsupported',
              errors: [
                {
                  code: 131051,
                  title: 'Message type unknown',
                  message: 'Message type unknown',
                  error_data: { details: 'Message type is currently not supported.' },
                },
              ],
            }),
          ],
        },
      }),
    );
    expect(parsed.events).toEqual([
      inboundEvent({
        wamid: 'wamid.HBgMNTczMTA0NTY3ODkwFQIAEhgUM0FDMUYyRTNENEM1QjZBNzk4MDEA',
        timestamp: 1773151753000,
        content: { kind: 'other', messageType: 'unsupported' },
        errors: [
          {
            code: 131051,
            title: 'Message type unknown',
            message: 'Message type unknown',
            details: 'Message type is currently not supported.',
          },
        ],
      }),
    ]);
  });

  it('names each sender from its own contact when one change carries several', () => {
    const parsed = parseWebhookPayload(
      webhook({
        value: {
          contacts: [CARLOS_CONTACT, { profile: { name: 'Ana Gómez' }, wa_id: '573001112233' }],
          messages: [
            rawMessage({ from: '573001112233', type: 'text', text: { body: 'hola' } }),
            rawMessage({ type: 'text', text: { body: 'listo' } }),
            rawMessage({ from: '573009999999', type: 'text', text: { body: '?' } }),
          ],
        },
      }),
    );
    expect(parsed.events.map((event) => (event as InboundEvent).profileName)).toEqual([
      'Ana Gómez',
      'Carlos Pérez',
      null,
    ]);
  });
});

describe('business-scoped user ids (§6.7)', () => {
  const BSUID = 'CO.13491208655302741918';

  it('uses from_user_id as the sender when Meta omits the phone', () => {
    const parsed = parseWebhookPayload(
      webhook({
        value: {
          contacts: [{ profile: { name: 'Carlos P', username: '@carlosp' }, user_id: BSUID }],
          messages: [
            rawMessage({ from: undefined, from_user_id: BSUID, type: 'text', text: { body: 'hola' } }),
          ],
        },
      }),
    );
    expect(parsed.events).toEqual([
      inboundEvent({
        wamid: 'wamid.HBgMNTczMTA0NTY3ODkwFQIAEhgUM0FDMUYyRTNENEM1QjZBNzk4MDEA',
        timestamp: 1773151753000,
        from: BSUID,
        fromUserId: BSUID,
        profileName: 'Carlos P',
        content: { kind: 'text', body: 'hola' },
      }),
    ]);
  });

  it('keeps the phone as the sender when both are present', () => {
    const parsed = parseWebhookPayload(
      webhook({
        value: {
          contacts: [{ ...CARLOS_CONTACT, user_id: BSUID }],
          messages: [rawMessage({ from_user_id: BSUID, type: 'text', text: { body: 'hola' } })],
        },
      }),
    );
    expect(parsed.events[0]).toMatchObject({ from: CARLOS, fromUserId: BSUID, profileName: 'Carlos Pérez' });
  });

  it('reports a status without recipient_id, with its recipient_user_id', () => {
    const parsed = parseWebhookPayload(
      webhook({ value: { statuses: [rawStatus({ recipient_id: undefined, recipient_user_id: BSUID })] } }),
    );
    expect(parsed.events).toEqual([
      statusEvent({
        wamid: TICKET_42_TEMPLATE,
        status: 'delivered',
        timestamp: 1773151540000,
        recipientId: null,
        recipientUserId: BSUID,
      }),
    ]);
  });
});

describe('account errors (value.errors)', () => {
  it('reports them as one account_error event per change', () => {
    const parsed = parseWebhookPayload(
      webhook({
        value: {
          errors: [
            {
              code: 130429,
              title: 'Rate limit hit',
              message: '(#130429) Rate limit hit',
              error_data: { details: 'Cloud API message throughput has been reached.' },
              href: ERROR_CODES_HREF,
            },
            { title: 'no code' },
          ],
        },
      }),
    );
    expect(parsed.events).toEqual([
      {
        type: 'account_error',
        phoneNumberId: PHONE_NUMBER_ID,
        errors: [
          {
            code: 130429,
            title: 'Rate limit hit',
            message: '(#130429) Rate limit hit',
            details: 'Cloud API message throughput has been reached.',
          },
        ],
      },
    ] satisfies WebhookEvent[]);
    expect(parsed.ignored).toEqual([
      { path: 'entry[0].changes[0].value.errors[1]', reason: '"code": expected an integer, got nothing' },
    ]);
  });

  it('reads a missing metadata as a null phone number id', () => {
    const parsed = parseWebhookPayload({
      object: 'whatsapp_business_account',
      entry: [{ changes: [{ field: 'messages', value: { errors: [{ code: 131000, title: 'x' }] } }] }],
    });
    expect(parsed.events).toEqual([
      {
        type: 'account_error',
        phoneNumberId: null,
        errors: [{ code: 131000, title: 'x', message: null, details: null }],
      },
    ]);
  });
});

describe('never throws', () => {
  function deeplyNested(levels: number): unknown {
    let value: unknown = [];
    for (let i = 0; i < levels; i++) value = [value];
    return value;
  }

  function deeplyNestedObject(levels: number): unknown {
    let value: unknown = {};
    for (let i = 0; i < levels; i++) value = { entry: value, changes: value, statuses: [value] };
    return value;
  }

  it.each<[string, unknown]>([
    ['null', null],
    ['undefined', undefined],
    ['an empty array', []],
    ['a string', 'x'],
    ['a number', 42],
    ['NaN', Number.NaN],
    ['a boolean', true],
    ['a function', () => 1],
    ['a symbol', Symbol('x')],
    ['a bigint', 10n],
    ['an empty object', {}],
    ['entry as a string', { entry: 'x' }],
    ['no entry', { object: 'whatsapp_business_account' }],
    ['entry as a string, right object', { object: 'whatsapp_business_account', entry: 'x' }],
    [
      'entry of garbage',
      { object: 'whatsapp_business_account', entry: [null, 1, 'x', [], {}, { changes: 'x' }] },
    ],
    [
      'changes of garbage',
      {
        object: 'whatsapp_business_account',
        entry: [{ changes: [null, 1, [], {}, { field: 'messages' }, { field: 'messages', value: [] }] }],
      },
    ],
    ['metadata of the wrong type', webhook({ value: { metadata: 'x', statuses: [null, [], 'x', {}] } })],
    [
      'messages of garbage',
      webhook({ value: { contacts: 'x', messages: [null, [], { type: 'text' }, {}] } }),
    ],
    ['contacts of garbage', webhook({ value: { contacts: [null, 1, { profile: 'x' }], messages: [] } })],
    [
      'a null-prototype body',
      Object.assign(Object.create(null) as object, { object: 'whatsapp_business_account' }),
    ],
    ['a 10,000-level array as the body', deeplyNested(10_000)],
    ['a 10,000-level array as entry', { object: 'whatsapp_business_account', entry: deeplyNested(10_000) }],
    ['a 10,000-level object', { object: 'whatsapp_business_account', entry: [deeplyNestedObject(10_000)] }],
    [
      '10,000-level arrays inside a status',
      webhook({
        value: {
          statuses: [
            rawStatus({
              errors: deeplyNested(10_000),
              pricing: deeplyNested(10_000),
              id: deeplyNested(10_000),
            }),
          ],
        },
      }),
    ],
    [
      'a 10,000-level body from JSON.parse',
      JSON.parse(`{"object":"whatsapp_business_account","entry":${'['.repeat(10_000)}${']'.repeat(10_000)}}`),
    ],
  ])('%s', (_label, body) => {
    const parsed = parseWebhookPayload(body);
    expect(Array.isArray(parsed.events)).toBe(true);
    expect(Array.isArray(parsed.ignored)).toBe(true);
  });

  it('reports what it could not read for non-object bodies', () => {
    expect(parseWebhookPayload(null)).toEqual({
      events: [],
      ignored: [{ path: '$', reason: 'the body: expected a JSON object, got null' }],
    });
    expect(parseWebhookPayload({ object: 'whatsapp_business_account', entry: 'x' }).ignored).toEqual([
      { path: 'entry', reason: '"entry": expected an array, got "x"' },
    ]);
  });

  it('survives a throwing getter and a revoked proxy, keeping what it read first', () => {
    const status = rawStatus();
    const exploding = Object.defineProperty({}, 'id', {
      enumerable: true,
      get() {
        throw new Error('boom');
      },
    });
    const parsed = parseWebhookPayload(webhook({ value: { statuses: [status, exploding, status] } }));
    expect(parsed.events).toHaveLength(1);
    expect(parsed.ignored).toEqual([
      { path: '$', reason: 'reading the body threw; the rest of it was skipped' },
    ]);

    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    expect(parseWebhookPayload(proxy).ignored).toHaveLength(1);
    expect(parseWebhookPayload({ object: 'whatsapp_business_account', entry: [proxy] }).ignored).toHaveLength(
      1,
    );
  });

  it('reads own properties only', () => {
    const inherited = Object.create({
      object: 'whatsapp_business_account',
      entry: [{ changes: [{ field: 'messages', value: { statuses: [rawStatus()] } }] }],
    }) as object;
    expect(parseWebhookPayload(inherited).events).toEqual([]);
    const withProtoKey: unknown = JSON.parse(
      '{"object":"whatsapp_business_account","entry":[{"__proto__":{"changes":[]}}]}',
    );
    expect(parseWebhookPayload(withProtoKey).ignored).toEqual([
      { path: 'entry[0].changes', reason: '"changes": expected an array, got nothing' },
    ]);
  });

  it('parses 100,000 statuses in one change', () => {
    const statuses = Array.from({ length: 100_000 }, (_, i) =>
      rawStatus({ id: `wamid.${i}`, status: i % 2 === 0 ? 'sent' : 'delivered' }),
    );
    const body = JSON.parse(JSON.stringify(webhook({ value: { statuses } }))) as unknown;
    const parsed = parseWebhookPayload(body);
    expect(parsed.events).toHaveLength(100_000);
    expect(parsed.ignored).toEqual([]);
    expect((parsed.events[99_999] as StatusEvent).wamid).toBe('wamid.99999');
  });

  it('records 100,000 garbage statuses', () => {
    const body = webhook({
      value: { statuses: Array.from({ length: 100_000 }, (_, i) => (i % 2 ? null : [i])) },
    });
    const parsed = parseWebhookPayload(body);
    expect(parsed.events).toEqual([]);
    expect(parsed.ignored).toHaveLength(100_000);
    expect(parsed.ignored[99_999]!.path).toBe('entry[0].changes[0].value.statuses[99999]');
  });

  it('walks 1,000 entries × 10 changes', () => {
    const change = { field: 'messages', value: { statuses: [rawStatus()] } };
    const body = {
      object: 'whatsapp_business_account',
      entry: Array.from({ length: 1_000 }, () => ({ changes: Array.from({ length: 10 }, () => change) })),
    };
    expect(parseWebhookPayload(body).events).toHaveLength(10_000);
  });
});
