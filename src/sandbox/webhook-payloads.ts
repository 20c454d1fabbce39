import type {
  WireInboundMessage,
  WireStatus,
  WireWebhookError,
  WireWebhookPayload,
  WireWebhookValue,
} from '../whatsapp/wire-types.js';

/** Who the webhooks say they come from: the WABA (`entry[].id`) and the business number's display form. */
export interface WebhookIdentity {
  wabaId: string;
  displayPhoneNumber: string;
}

/** Used when the options give no WABA id or display number. */
export const DEFAULT_IDENTITY: WebhookIdentity = {
  wabaId: '100000000000000',
  displayPhoneNumber: '15550000000',
};

const ERROR_CODES_HREF = 'https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/';

/** Asynchronous errors as `statuses[].errors[]` carries them (shared/whatsapp-cloud-api.md §2.2, §6.8 C). */
export const ASYNC_ERRORS = {
  reengagement: {
    code: 131047,
    title: 'Re-engagement message',
    message: 'Re-engagement message',
    error_data: {
      details:
        'Message failed to send because more than 24 hours have passed since the customer last replied to this number.',
    },
    href: ERROR_CODES_HREF,
  },
  undeliverable: {
    code: 131026,
    title: 'Message undeliverable',
    message: 'Message undeliverable',
    error_data: { details: 'Message Undeliverable.' },
    href: ERROR_CODES_HREF,
  },
} as const satisfies Record<string, WireWebhookError>;

export type AsyncErrorName = keyof typeof ASYNC_ERRORS;

/** One `statuses` change; Meta sends one status per POST unless it batches. */
export function statusPayload(
  identity: WebhookIdentity,
  phoneNumberId: string,
  statuses: WireStatus[],
): WireWebhookPayload {
  return envelope(identity, { ...valueHead(identity, phoneNumberId), statuses });
}

/**
 * Several statuses in one POST, as Meta may batch them ("aggregated and sent in a batch with a maximum of
 * 1000 updates", Graph API webhooks): one change per business number, its statuses in order.
 */
export function statusBatchPayload(
  identity: WebhookIdentity,
  groups: readonly { phoneNumberId: string; statuses: WireStatus[] }[],
): WireWebhookPayload {
  return {
    object: 'whatsapp_business_account',
    entry: [
      {
        id: identity.wabaId,
        changes: groups.map(({ phoneNumberId, statuses }) => ({
          value: { ...valueHead(identity, phoneNumberId), statuses },
          field: 'messages',
        })),
      },
    ],
  };
}

/** One inbound message with its sender's contact card (§6.8 D, E). */
export function inboundPayload(
  identity: WebhookIdentity,
  phoneNumberId: string,
  contact: { name: string; waId: string },
  message: WireInboundMessage,
): WireWebhookPayload {
  return envelope(identity, {
    ...valueHead(identity, phoneNumberId),
    contacts: [{ profile: { name: contact.name }, wa_id: contact.waId }],
    messages: [message],
  });
}

function valueHead(
  identity: WebhookIdentity,
  phoneNumberId: string,
): Pick<WireWebhookValue, 'messaging_product' | 'metadata'> {
  return {
    messaging_product: 'whatsapp',
    metadata: { display_phone_number: identity.displayPhoneNumber, phone_number_id: phoneNumberId },
  };
}

// Key order follows Meta's captured payloads: `value` before `field`.
function envelope(identity: WebhookIdentity, value: WireWebhookValue): WireWebhookPayload {
  return {
    object: 'whatsapp_business_account',
    entry: [{ id: identity.wabaId, changes: [{ value, field: 'messages' }] }],
  };
}

/** Unix seconds as a string, the way every webhook `timestamp` is written. */
export function unixSeconds(ms: number): string {
  return String(Math.floor(ms / 1000));
}
