import type { OutboundMessageType, WireSendMessageRequest } from '../whatsapp/wire-types.js';
import { graphFailure, type GraphFailure } from './graph-errors.js';
import {
  validateInteractive,
  validateMedia,
  validateTemplate,
  type ContentContext,
} from './validate-content.js';
import { exceedsLength, isRecord } from './validate-helpers.js';

export type { ContentContext } from './validate-content.js';

export type SendValidation =
  | { ok: true; request: WireSendMessageRequest; waId: string; type: OutboundMessageType }
  | { ok: false; failure: GraphFailure };

const SUPPORTED_TYPES: readonly OutboundMessageType[] = [
  'text',
  'template',
  'image',
  'document',
  'interactive',
];
/** Message types Meta knows but the sandbox does not emulate: Meta's own "unsupported" code fits. */
const UNEMULATED_TYPES = ['audio', 'video', 'sticker', 'location', 'contacts', 'reaction'];
const MAX_TEXT_BODY = 4096;
const MAX_CALLBACK_DATA = 512;

/**
 * Checks a send body the way Meta does (shared/whatsapp-cloud-api.md §1.2–1.3, §3.7) and returns the
 * recipient's wa_id. Codes: 100 for a bad envelope or value, 131008 for a missing object or field,
 * 131009 for interactive limits, 131053 for unusable media, 132001 for an unknown template.
 */
export function validateSendRequest(body: unknown, context: ContentContext): SendValidation {
  if (!isRecord(body)) return fail(100, 'The request body must be a JSON object.');
  const envelopeFailure = checkEnvelope(body);
  if (envelopeFailure) return { ok: false, failure: envelopeFailure };

  // Meta treats a missing `type` as text.
  const type = body.type ?? 'text';
  if (typeof type !== 'string') return fail(100, 'Param type must be a string.');
  if (UNEMULATED_TYPES.includes(type)) {
    return fail(131051, `Message type ${type} is not supported by the sandbox.`);
  }
  if (!(SUPPORTED_TYPES as readonly string[]).includes(type)) {
    return fail(100, `Param type must be one of {${SUPPORTED_TYPES.join(', ')}} - got "${type}".`);
  }
  const messageType = type as OutboundMessageType;
  const content = body[messageType];
  if (content === undefined) {
    return fail(131008, `Parameter ${messageType} is required for type ${messageType}.`);
  }
  const contentFailure = checkContent(messageType, content, context);
  if (contentFailure) return { ok: false, failure: contentFailure };

  const to = body.to as string;
  // Safe: every field this cast promises was checked above.
  return {
    ok: true,
    request: body as unknown as WireSendMessageRequest,
    waId: toWaId(to),
    type: messageType,
  };
}

function checkEnvelope(body: Record<string, unknown>): GraphFailure | null {
  const { messaging_product, to, recipient_type, biz_opaque_callback_data, context } = body;
  if (messaging_product === undefined) {
    return graphFailure(100, 'The parameter messaging_product is required.');
  }
  if (messaging_product !== 'whatsapp') {
    return graphFailure(
      100,
      `Param messaging_product must be one of {WHATSAPP} - got ${JSON.stringify(messaging_product)}.`,
    );
  }
  if (to === undefined) return graphFailure(100, 'The parameter to is required.');
  if (typeof to !== 'string' || !/^\d{8,15}$/.test(stripPlus(to))) {
    return graphFailure(
      100,
      'Param to must be a phone number of 8 to 15 digits, with an optional leading +.',
    );
  }
  if (recipient_type !== undefined && recipient_type !== 'individual') {
    return graphFailure(100, 'Param recipient_type must be "individual" in the sandbox.');
  }
  if (biz_opaque_callback_data !== undefined) {
    if (typeof biz_opaque_callback_data !== 'string') {
      return graphFailure(100, 'Param biz_opaque_callback_data must be a string.');
    }
    if (exceedsLength(biz_opaque_callback_data, MAX_CALLBACK_DATA)) {
      return graphFailure(
        100,
        `Param biz_opaque_callback_data must be at most ${MAX_CALLBACK_DATA} characters long.`,
      );
    }
  }
  if (context !== undefined && !(isRecord(context) && typeof context.message_id === 'string')) {
    return graphFailure(100, "Param context['message_id'] must be a string.");
  }
  return null;
}

function checkContent(
  type: OutboundMessageType,
  content: unknown,
  context: ContentContext,
): GraphFailure | null {
  switch (type) {
    case 'text':
      return checkText(content);
    case 'template':
      return validateTemplate(content, context);
    case 'image':
    case 'document':
      return validateMedia(type, content, context);
    case 'interactive':
      return validateInteractive(content);
  }
}

function checkText(text: unknown): GraphFailure | null {
  if (!isRecord(text)) return graphFailure(100, 'Param text must be an object.');
  if (text.body === undefined) return graphFailure(131008, "Parameter text['body'] is required.");
  if (typeof text.body !== 'string') return graphFailure(100, "Param text['body'] must be a string.");
  if (text.body.length === 0) {
    return graphFailure(100, "Param text['body'] must be at least 1 character long.");
  }
  if (exceedsLength(text.body, MAX_TEXT_BODY)) {
    return graphFailure(100, `Param text['body'] must be at most ${MAX_TEXT_BODY} characters long.`);
  }
  if (text.preview_url !== undefined && typeof text.preview_url !== 'boolean') {
    return graphFailure(100, "Param text['preview_url'] must be a boolean.");
  }
  return null;
}

function stripPlus(to: string): string {
  return to.startsWith('+') ? to.slice(1) : to;
}

/** WhatsApp's canonical id: the digits of `to` (no country-specific rewriting in the sandbox). */
function toWaId(to: string): string {
  return stripPlus(to);
}

function fail(code: Parameters<typeof graphFailure>[0], details: string): SendValidation {
  return { ok: false, failure: graphFailure(code, details) };
}
