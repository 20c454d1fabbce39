import type { OutgoingMessage, SendRequest } from './whatsapp-client.js';
import type {
  WireInteractive,
  WireMediaObject,
  WireSendMessageRequest,
  WireTemplate,
  WireTextBody,
} from './wire-types.js';

/** Meta's content limits (shared/whatsapp-cloud-api.md §1.3, §3.7), counted in Unicode code points. */
export const MESSAGE_LIMITS = {
  textBody: 4096,
  caption: 1024,
  interactiveBody: 1024,
  interactiveHeader: 60,
  interactiveFooter: 60,
  maxButtons: 3,
  buttonTitle: 20,
  buttonId: 256,
} as const;

type MessageOfKind<K extends OutgoingMessage['kind']> = Extract<OutgoingMessage, { kind: K }>;
type MediaMessage = MessageOfKind<'image'> | MessageOfKind<'document'>;
type WirePayload = Pick<WireSendMessageRequest, 'text' | 'template' | 'image' | 'document' | 'interactive'>;

/** Builds the exact JSON body of `POST /{version}/{phone-number-id}/messages` (§1.2–1.3). */
export function toWireSendRequest(request: SendRequest): WireSendMessageRequest {
  return {
    messaging_product: 'whatsapp',
    recipient_type: 'individual',
    to: request.to,
    type: request.message.kind,
    ...toWirePayload(request.message),
    ...(request.callbackData === undefined ? {} : { biz_opaque_callback_data: request.callbackData }),
  };
}

function toWirePayload(message: OutgoingMessage): WirePayload {
  switch (message.kind) {
    case 'text':
      return { text: toWireText(message) };
    case 'template':
      return { template: toWireTemplate(message) };
    case 'image':
      return { image: toWireMedia(message) };
    case 'document':
      return { document: toWireMedia(message) };
    case 'interactive':
      return { interactive: toWireInteractive(message) };
  }
}

function toWireText(message: MessageOfKind<'text'>): WireTextBody {
  return {
    body: message.body,
    ...(message.previewUrl === undefined ? {} : { preview_url: message.previewUrl }),
  };
}

function toWireTemplate(message: MessageOfKind<'template'>): WireTemplate {
  return {
    name: message.name,
    language: { code: message.language, policy: 'deterministic' },
    ...(message.components === undefined ? {} : { components: message.components }),
  };
}

// Sends exactly what the caller gave (even both id and link) so Meta, not this adapter, rejects bad input.
function toWireMedia(message: MediaMessage): WireMediaObject {
  return {
    ...(message.mediaId === undefined ? {} : { id: message.mediaId }),
    ...(message.link === undefined ? {} : { link: message.link }),
    ...(message.caption === undefined ? {} : { caption: message.caption }),
    ...(message.kind === 'document' && message.filename !== undefined ? { filename: message.filename } : {}),
  };
}

function toWireInteractive(message: MessageOfKind<'interactive'>): WireInteractive {
  return {
    type: 'button',
    ...(message.header === undefined ? {} : { header: { type: 'text', text: message.header } }),
    body: { text: message.body },
    ...(message.footer === undefined ? {} : { footer: { text: message.footer } }),
    action: {
      buttons: message.buttons.map((button) => ({
        type: 'reply',
        reply: { id: button.id, title: button.title },
      })),
    },
  };
}

/**
 * Checks Meta's cheap-to-verify content rules before a message is enqueued. Returns the first problem as
 * `"<field>: <what is wrong>"`, or null when the message looks sendable.
 */
export function validateOutgoingMessage(message: OutgoingMessage): string | null {
  switch (message.kind) {
    case 'text':
      return checkText('body', message.body, MESSAGE_LIMITS.textBody);
    case 'template':
      return validateTemplate(message);
    case 'image':
    case 'document':
      return validateMedia(message);
    case 'interactive':
      return validateInteractive(message);
  }
}

const TEMPLATE_NAME = /^[a-z0-9_]{1,512}$/;
const TEMPLATE_LANGUAGE = /^[a-z]{2,3}(?:_[A-Za-z]{2,4})?$/;

function validateTemplate(message: MessageOfKind<'template'>): string | null {
  if (!TEMPLATE_NAME.test(message.name)) return 'name: must be lowercase letters, digits and underscores';
  if (!TEMPLATE_LANGUAGE.test(message.language)) return 'language: must be a code like "es" or "es_CO"';
  return null;
}

function validateMedia(message: MediaMessage): string | null {
  const hasId = message.mediaId !== undefined;
  const hasLink = message.link !== undefined;
  if (hasId === hasLink) return 'mediaId/link: exactly one of them is required';
  if (hasId && isBlank(message.mediaId)) return 'mediaId: must not be empty';
  if (hasLink && !isHttpUrl(message.link)) return 'link: must be an http(s) URL';
  if (message.caption !== undefined) {
    const problem = checkLength('caption', message.caption, MESSAGE_LIMITS.caption);
    if (problem) return problem;
  }
  if (message.kind === 'document' && message.filename !== undefined && isBlank(message.filename)) {
    return 'filename: must not be empty';
  }
  return null;
}

function validateInteractive(message: MessageOfKind<'interactive'>): string | null {
  return (
    checkText('body', message.body, MESSAGE_LIMITS.interactiveBody) ??
    checkOptionalText('header', message.header, MESSAGE_LIMITS.interactiveHeader) ??
    checkOptionalText('footer', message.footer, MESSAGE_LIMITS.interactiveFooter) ??
    validateButtons(message.buttons)
  );
}

function validateButtons(buttons: readonly { id: string; title: string }[]): string | null {
  if (buttons.length === 0 || buttons.length > MESSAGE_LIMITS.maxButtons) {
    return `buttons: must have 1 to ${MESSAGE_LIMITS.maxButtons} buttons (got ${buttons.length})`;
  }
  const problem = buttons.map(validateButton).find((found) => found !== null);
  if (problem) return problem;
  if (new Set(buttons.map((button) => button.title)).size !== buttons.length) {
    return 'buttons: titles must be unique';
  }
  if (new Set(buttons.map((button) => button.id)).size !== buttons.length)
    return 'buttons: ids must be unique';
  return null;
}

function validateButton(button: { id: string; title: string }, index: number): string | null {
  const field = `buttons[${index}]`;
  if (button.id !== button.id.trim()) return `${field}.id: must not start or end with spaces`;
  return (
    checkText(`${field}.id`, button.id, MESSAGE_LIMITS.buttonId) ??
    checkText(`${field}.title`, button.title, MESSAGE_LIMITS.buttonTitle)
  );
}

function checkOptionalText(field: string, value: string | undefined, max: number): string | null {
  return value === undefined ? null : checkText(field, value, max);
}

function checkText(field: string, value: string, max: number): string | null {
  if (isBlank(value)) return `${field}: must not be empty`;
  return checkLength(field, value, max);
}

function checkLength(field: string, value: string, max: number): string | null {
  const length = codePointLength(value);
  return length > max ? `${field}: must be at most ${max} characters (got ${length})` : null;
}

function codePointLength(value: string): number {
  return [...value].length;
}

function isBlank(value: string | undefined): boolean {
  return value === undefined || value.trim() === '';
}

function isHttpUrl(value: string | undefined): boolean {
  if (value === undefined || !URL.canParse(value)) return false;
  const { protocol } = new URL(value);
  return protocol === 'https:' || protocol === 'http:';
}
