import type { WireInboundMessage } from '../whatsapp/wire-types.js';
import type { InboxMessage, InboxReply } from './inbox.js';
import { exceedsLength, isRecord } from './validate-helpers.js';

/**
 * What the person does on the phone: write a text, or tap a button of a business message. Exactly
 * one of `text`, `buttonId` and `button`.
 */
export interface ReplyBody {
  text?: string;
  /** The id of a reply button (interactive message) or the payload of a template quick-reply button. */
  buttonId?: string;
  /** A button by position (0-based) and/or label. */
  button?: { index?: number; title?: string };
  /**
   * The business message answered: the one whose button is tapped, or the one a text quotes.
   * Without it a tap goes to the newest message with buttons (with `buttonId`: the newest having
   * that id) and a text quotes nothing.
   */
  wamid?: string;
  /** Profile name in `contacts[]`; default: the last one this number used, else "Sandbox User". */
  name?: string;
  /** The business number written to; default: the one of the message answered, else the newest one used. */
  phoneNumberId?: string;
}

export const DEFAULT_PROFILE_NAME = 'Sandbox User';
const MAX_TEXT = 4096;
const MAX_NAME = 256;

export type ReplyParse = { ok: true; body: ReplyBody } | { ok: false; message: string };

/** Checks a reply coming from JSON (the control API) or from a test. */
export function parseReplyBody(raw: unknown): ReplyParse {
  if (!isRecord(raw)) return { ok: false, message: 'body must be a JSON object' };
  const { text, buttonId, button, wamid, name, phoneNumberId } = raw;
  const actions = [text, buttonId, button].filter((value) => value !== undefined).length;
  if (actions !== 1) return { ok: false, message: 'give exactly one of text, buttonId or button' };
  const body: ReplyBody = {};
  if (text !== undefined) {
    if (typeof text !== 'string' || text.trim() === '' || exceedsLength(text, MAX_TEXT)) {
      return { ok: false, message: `text must be a non-blank string of at most ${MAX_TEXT} characters` };
    }
    body.text = text;
  }
  if (buttonId !== undefined) {
    if (typeof buttonId !== 'string' || buttonId === '') {
      return { ok: false, message: 'buttonId must be a non-empty string' };
    }
    body.buttonId = buttonId;
  }
  if (button !== undefined) {
    const parsed = parseButton(button);
    if (typeof parsed === 'string') return { ok: false, message: parsed };
    body.button = parsed;
  }
  if (wamid !== undefined) {
    if (typeof wamid !== 'string' || wamid === '') return { ok: false, message: 'wamid must be a string' };
    body.wamid = wamid;
  }
  if (name !== undefined) {
    if (typeof name !== 'string' || name.trim() === '' || exceedsLength(name, MAX_NAME)) {
      return { ok: false, message: `name must be a non-blank string of at most ${MAX_NAME} characters` };
    }
    body.name = name;
  }
  if (phoneNumberId !== undefined) {
    if (typeof phoneNumberId !== 'string' || !/^\d{1,32}$/.test(phoneNumberId)) {
      return { ok: false, message: 'phoneNumberId must be a string of digits' };
    }
    body.phoneNumberId = phoneNumberId;
  }
  return { ok: true, body };
}

function parseButton(raw: unknown): NonNullable<ReplyBody['button']> | string {
  const usage = 'button must be an object with index (integer >= 0) and/or title (non-empty string)';
  if (!isRecord(raw)) return usage;
  const { index, title } = raw;
  if (index === undefined && title === undefined) return usage;
  const button: NonNullable<ReplyBody['button']> = {};
  if (index !== undefined) {
    if (!Number.isInteger(index) || (index as number) < 0) return usage;
    button.index = index as number;
  }
  if (title !== undefined) {
    if (typeof title !== 'string' || title === '') return usage;
    button.title = title;
  }
  return button;
}

/** A button the person can tap on a business message. */
export interface TappableButton {
  /** `interactive` answers as `button_reply`; `template` as a `button` message. */
  kind: 'interactive' | 'template';
  index: number;
  /** Reply button id, or the template button's payload. */
  id: string;
  title: string;
}

/** What the sandbox knows about a template beyond the send request: its quick-reply labels. */
export type QuickReplyLabels = (template: {
  name: string;
  language: string;
}) => readonly string[] | undefined;

/**
 * The buttons of a business message: the reply buttons of an interactive `button` message, or a
 * template's quick replies. For a template, a button's payload is the `payload` parameter the send
 * gave its component (Meta's payload falls back to the label) and its title is the configured label
 * (falling back to the payload, as the sandbox cannot see labels defined at template creation).
 */
export function buttonsOf(message: InboxMessage, labelsOf: QuickReplyLabels): TappableButton[] {
  const { request } = message;
  if (message.type === 'interactive') {
    if (request.interactive?.type !== 'button') return [];
    return request.interactive.action.buttons.map((button, index) => ({
      kind: 'interactive',
      index,
      id: button.reply.id,
      title: button.reply.title,
    }));
  }
  if (message.type !== 'template' || !request.template) return [];
  const labels = labelsOf({ name: request.template.name, language: request.template.language.code }) ?? [];
  const byIndex = new Map<number, TappableButton>();
  labels.forEach((label, index) => byIndex.set(index, { kind: 'template', index, id: label, title: label }));
  for (const component of request.template.components ?? []) {
    if (component.type !== 'button' || component.sub_type !== 'quick_reply') continue;
    const index = Number(component.index);
    if (!Number.isInteger(index) || index < 0) continue;
    const payload = component.parameters?.find((parameter) => parameter.type === 'payload')?.payload;
    const label = labels[index];
    const id = payload ?? label;
    if (id === undefined) continue;
    byIndex.set(index, { kind: 'template', index, id, title: label ?? id });
  }
  return [...byIndex.values()].sort((a, b) => a.index - b.index);
}

export type ReplyRefusal = { status: 400 | 404; code: string; message: string };

/** The reply's content, its target message and the `messages[]` element minus the envelope fields. */
export interface ComposedReply {
  type: InboxReply['type'];
  text: string;
  target: InboxMessage | null;
  content: Pick<WireInboundMessage, 'text' | 'interactive' | 'button'>;
}

/**
 * Works out what a reply means against the number's stored messages (oldest first): which message
 * it answers and what the webhook will carry. Pure; the state stores and sends the result.
 */
export function composeReply(
  body: ReplyBody,
  messages: readonly InboxMessage[],
  labelsOf: QuickReplyLabels,
): ComposedReply | ReplyRefusal {
  let target: InboxMessage | null = null;
  if (body.wamid !== undefined) {
    target = messages.find((message) => message.wamid === body.wamid) ?? null;
    if (!target) {
      return refusal(404, 'message_not_found', `No stored business message ${body.wamid} to this number`);
    }
  }
  if (body.text !== undefined) {
    return { type: 'text', text: body.text, target, content: { text: { body: body.text } } };
  }

  const tap = findTap(body, target ? [target] : [...messages].reverse(), labelsOf);
  if ('code' in tap) return tap;
  const { message, button } = tap;
  if (button.kind === 'interactive') {
    return {
      type: 'interactive',
      text: button.title,
      target: message,
      content: {
        interactive: { type: 'button_reply', button_reply: { id: button.id, title: button.title } },
      },
    };
  }
  return {
    type: 'button',
    text: button.title,
    target: message,
    content: { button: { payload: button.id, text: button.title } },
  };
}

type Tap = { message: InboxMessage; button: TappableButton };

/**
 * `candidates` newest first. By id: the newest message having a button with that id or payload. By
 * index: the newest message with known buttons. By title: the newest message with a button of that
 * title, else the newest template, whose quick replies the send may not show (Meta then sends the
 * label as the payload).
 */
function findTap(
  body: ReplyBody,
  candidates: InboxMessage[],
  labelsOf: QuickReplyLabels,
): Tap | ReplyRefusal {
  const withButtons = candidates
    .map((message) => ({ message, buttons: buttonsOf(message, labelsOf) }))
    .filter((candidate) => candidate.buttons.length > 0);
  const wanted = body.button ?? {};
  const matches = (button: TappableButton): boolean =>
    body.buttonId !== undefined
      ? button.id === body.buttonId
      : wanted.index !== undefined
        ? button.index === wanted.index
        : button.title === wanted.title;
  const scope =
    body.buttonId === undefined && wanted.index !== undefined ? withButtons.slice(0, 1) : withButtons;
  for (const { message, buttons } of scope) {
    const button = buttons.find(matches);
    if (!button) continue;
    // A title given with an index names a template label the sandbox could not know.
    const title = button.kind === 'template' && wanted.title !== undefined ? wanted.title : button.title;
    return { message, button: { ...button, title } };
  }
  const template = candidates.find((message) => message.type === 'template');
  if (body.buttonId === undefined && wanted.title !== undefined && template) {
    const index = wanted.index ?? buttonsOf(template, labelsOf).length;
    return { message: template, button: { kind: 'template', index, id: wanted.title, title: wanted.title } };
  }
  if (candidates.every((message) => message.type !== 'template') && withButtons.length === 0) {
    return refusal(404, 'no_buttons', 'No interactive or template message to this number to tap a button on');
  }
  const which =
    body.buttonId !== undefined
      ? `id or payload ${JSON.stringify(body.buttonId)}`
      : wanted.index !== undefined
        ? `index ${wanted.index}`
        : `title ${JSON.stringify(wanted.title)}`;
  return refusal(404, 'button_not_found', `No button with ${which} on the messages to this number`);
}

function refusal(status: 400 | 404, code: string, message: string): ReplyRefusal {
  return { status, code, message };
}
