/**
 * Turns the body of a Meta webhook POST into a flat list of typed events (shared/whatsapp-cloud-api.md §2.2,
 * §6.3–6.8). Call it after the signature check, on the parsed JSON. It never throws: whatever it cannot use
 * lands in `ignored` with a path and a reason, and every other element is still returned.
 *
 * Rules:
 * - Every `entry[]`, `changes[]`, `statuses[]`, `messages[]` and `errors[]` element is read, in order
 *   (per change: statuses, then messages, then account errors). Duplicates and out-of-order statuses are
 *   returned as they came; `isStatusUpgrade` is the rule the caller applies when storing them.
 * - Only `object: "whatsapp_business_account"` and `field: "messages"` are read; anything else is ignored.
 * - Unknown fields are tolerated. A missing or malformed required field drops that one element.
 * - Only own properties are read, and nothing recurses into the input, so deep nesting costs nothing.
 * - BSUIDs (§6.7): an inbound message without `from` uses `from_user_id` as its sender, and `fromUserId`
 *   says which BSUID it was; with neither, the message is ignored. A status keeps `recipientId` for the
 *   phone only (it may be null: statuses are matched on the wamid) and reports `recipientUserId` apart.
 */

export type DeliveryStatus = 'sent' | 'delivered' | 'read' | 'failed';

/** Statuses of our outbound messages (structurally the same as `MessageStatus` in src/messages). */
export type OutboundMessageStatus = 'queued' | 'sending' | 'retrying' | DeliveryStatus;

export type MediaType = 'image' | 'document' | 'audio' | 'video' | 'sticker';

/** One element of `errors[]` (statuses, messages or the whole change). */
export interface WebhookError {
  code: number;
  /** Meta's title; when Meta sent none, its `message`, else "". */
  title: string;
  message: string | null;
  /** `error_data.details`. */
  details: string | null;
}

export interface StatusEvent {
  type: 'status';
  /** `metadata.phone_number_id`: which of our numbers sent the message. */
  phoneNumberId: string | null;
  wamid: string;
  status: DeliveryStatus;
  /** Milliseconds since the epoch. */
  timestamp: number;
  /** The recipient's phone (`recipient_id`); Meta omits it for users known only by BSUID. */
  recipientId: string | null;
  /** The recipient's BSUID (`recipient_user_id`), when Meta sent one. */
  recipientUserId: string | null;
  /** `biz_opaque_callback_data` echoed from the send. */
  callbackData: string | null;
  pricingCategory: string | null;
  errors: WebhookError[];
}

export type InboundContent =
  | { kind: 'text'; body: string }
  | { kind: 'button_reply'; id: string; title: string }
  | { kind: 'list_reply'; id: string; title: string }
  | { kind: 'template_button'; payload: string; text: string }
  | {
      kind: 'media';
      mediaType: MediaType;
      mediaId: string;
      mimeType: string | null;
      caption: string | null;
      filename: string | null;
    }
  /** reaction, location, contacts, order, system, unsupported…; `interactive.<subtype>` for other replies. */
  | { kind: 'other'; messageType: string };

export interface InboundEvent {
  type: 'inbound';
  /** `metadata.phone_number_id`: which of our numbers received it. */
  phoneNumberId: string | null;
  wamid: string;
  /** The sender's phone (`from`), or their BSUID when Meta omitted the phone. */
  from: string;
  /** The sender's BSUID (`from_user_id`), when Meta sent one. */
  fromUserId: string | null;
  /** `contacts[].profile.name` of the sender. */
  profileName: string | null;
  /** Milliseconds since the epoch. */
  timestamp: number;
  /** `context.id`: the wamid of our message this one replies to (button taps carry it). */
  contextWamid: string | null;
  content: InboundContent;
  /** `messages[].errors[]`, e.g. 131051 on `unsupported`, 131052 when Meta could not fetch the media. */
  errors: WebhookError[];
}

/** `value.errors[]`: problems of the account or app, not of one message (e.g. 130429). */
export interface AccountErrorEvent {
  type: 'account_error';
  phoneNumberId: string | null;
  errors: WebhookError[];
}

export type WebhookEvent = StatusEvent | InboundEvent | AccountErrorEvent;

export interface IgnoredItem {
  /** Where in the body, e.g. `entry[0].changes[1].value.statuses[2]`; `$` is the body itself. */
  path: string;
  reason: string;
}

export interface ParsedWebhook {
  events: WebhookEvent[];
  ignored: IgnoredItem[];
}

/**
 * Order of the delivery statuses. `failed` has no rank: it is terminal, and `isStatusUpgrade` decides it.
 */
export const STATUS_RANK = Object.freeze({ sent: 1, delivered: 2, read: 3 } as const);

/**
 * Whether a webhook status `next` should replace the stored status `current` (statuses arrive duplicated
 * and out of order, §6.3):
 * - `sent` < `delivered` < `read`: only a higher rank applies, so a late `delivered` never undoes `read`,
 *   and a repeated status is not an upgrade. `queued`/`sending`/`retrying` rank below `sent`: the webhook
 *   may arrive before we recorded Meta's answer to the send.
 * - `failed` applies to anything not yet on the device (`queued`…`sent`). Once `delivered`/`read`, the
 *   message reached the phone, so a `failed` arriving later is stale and does not apply.
 * - `failed` is terminal: nothing applies after it.
 */
export function isStatusUpgrade(current: OutboundMessageStatus, next: DeliveryStatus): boolean {
  if (current === 'failed') return false;
  if (next === 'failed') return current !== 'delivered' && current !== 'read';
  const currentRank = isRankedStatus(current) ? STATUS_RANK[current] : 0;
  const nextRank: number | undefined = STATUS_RANK[next];
  return nextRank !== undefined && nextRank > currentRank;
}

function isRankedStatus(status: string): status is keyof typeof STATUS_RANK {
  return status === 'sent' || status === 'delivered' || status === 'read';
}

export function parseWebhookPayload(body: unknown): ParsedWebhook {
  const out: ParsedWebhook = { events: [], ignored: [] };
  try {
    readPayload(body, out);
  } catch {
    // JSON.parse cannot produce anything that throws here; a hand-made object can (throwing getter,
    // revoked Proxy). Events read before that point are kept. The error itself is not read: it may throw too.
    out.ignored.push({ path: '$', reason: 'reading the body threw; the rest of it was skipped' });
  }
  return out;
}

type JsonObject = Record<string, unknown>;

const MEDIA_TYPES = new Set<string>(['image', 'document', 'audio', 'video', 'sticker'] satisfies MediaType[]);
const DELIVERY_STATUSES = new Set<string>(['sent', 'delivered', 'read', 'failed'] satisfies DeliveryStatus[]);
/** Unix seconds as Meta sends them; 12 digits keep the milliseconds a safe integer. */
const UNIX_SECONDS = /^\d{1,12}$/;
const MAX_UNIX_SECONDS = 999_999_999_999;

function readPayload(body: unknown, out: ParsedWebhook): void {
  if (!isObject(body)) return ignore(out, '$', expected('the body', 'a JSON object', body));
  const object = own(body, 'object');
  if (object !== 'whatsapp_business_account') {
    return ignore(
      out,
      'object',
      `only "whatsapp_business_account" webhooks are handled, got ${show(object)}`,
    );
  }
  const entries = own(body, 'entry');
  if (!isArray(entries)) return ignore(out, 'entry', expected('"entry"', 'an array', entries));
  for (let i = 0; i < entries.length; i++) readEntry(entries[i], `entry[${i}]`, out);
}

function readEntry(entry: unknown, path: string, out: ParsedWebhook): void {
  if (!isObject(entry)) return ignore(out, path, expected('the entry', 'an object', entry));
  const changes = own(entry, 'changes');
  if (!isArray(changes)) return ignore(out, `${path}.changes`, expected('"changes"', 'an array', changes));
  for (let i = 0; i < changes.length; i++) readChange(changes[i], `${path}.changes[${i}]`, out);
}

function readChange(change: unknown, path: string, out: ParsedWebhook): void {
  if (!isObject(change)) return ignore(out, path, expected('the change', 'an object', change));
  const field = own(change, 'field');
  if (field !== 'messages') {
    return ignore(out, path, `only the "messages" field is handled, got ${show(field)}`);
  }
  const value = own(change, 'value');
  const valuePath = `${path}.value`;
  if (!isObject(value)) return ignore(out, valuePath, expected('"value"', 'an object', value));

  const metadata = own(value, 'metadata');
  const phoneNumberId = isObject(metadata) ? text(own(metadata, 'phone_number_id')) : null;
  const statuses = arrayAt(value, 'statuses', valuePath, out);
  const messages = arrayAt(value, 'messages', valuePath, out);
  const errors = own(value, 'errors');
  if (statuses === undefined && messages === undefined && errors === undefined) {
    return ignore(out, valuePath, 'carries no statuses, messages or errors');
  }

  if (statuses) {
    for (let i = 0; i < statuses.length; i++) {
      const event = readStatus(statuses[i], `${valuePath}.statuses[${i}]`, phoneNumberId, out);
      if (event) out.events.push(event);
    }
  }
  if (messages) {
    const senders = readContacts(own(value, 'contacts'));
    for (let i = 0; i < messages.length; i++) {
      const event = readMessage(messages[i], `${valuePath}.messages[${i}]`, phoneNumberId, senders, out);
      if (event) out.events.push(event);
    }
  }
  if (errors !== undefined) {
    const accountErrors = readErrors(errors, `${valuePath}.errors`, out);
    if (accountErrors.length > 0) {
      out.events.push({ type: 'account_error', phoneNumberId, errors: accountErrors });
    }
  }
}

function readStatus(
  raw: unknown,
  path: string,
  phoneNumberId: string | null,
  out: ParsedWebhook,
): StatusEvent | undefined {
  if (!isObject(raw)) return skip(out, path, expected('the status', 'an object', raw));
  const wamid = text(own(raw, 'id'));
  if (wamid === null) {
    return skip(out, path, expected('"id"', 'the wamid (a non-empty string)', own(raw, 'id')));
  }
  const status = own(raw, 'status');
  if (!isDeliveryStatus(status)) {
    return skip(out, path, `"status" ${show(status)} is not one of ${[...DELIVERY_STATUSES].join(', ')}`);
  }
  const timestamp = millis(own(raw, 'timestamp'));
  if (timestamp === null) {
    return skip(out, path, expected('"timestamp"', 'Unix seconds as a string', own(raw, 'timestamp')));
  }
  const pricing = own(raw, 'pricing');
  return {
    type: 'status',
    phoneNumberId,
    wamid,
    status,
    timestamp,
    recipientId: text(own(raw, 'recipient_id')),
    recipientUserId: text(own(raw, 'recipient_user_id')),
    callbackData: optionalString(own(raw, 'biz_opaque_callback_data')),
    pricingCategory: isObject(pricing) ? text(own(pricing, 'category')) : null,
    errors: readErrors(own(raw, 'errors'), `${path}.errors`, out),
  };
}

interface Senders {
  byPhone: Map<string, string>;
  byUserId: Map<string, string>;
  /** The name of the only contact, when there is exactly one (a change is about one sender). */
  onlyName: string | null;
}

/** `contacts[]` only decorates messages with a profile name, so malformed contacts are skipped silently. */
function readContacts(contacts: unknown): Senders {
  const senders: Senders = { byPhone: new Map(), byUserId: new Map(), onlyName: null };
  if (!isArray(contacts)) return senders;
  for (const contact of contacts) {
    if (!isObject(contact)) continue;
    const profile = own(contact, 'profile');
    const name = isObject(profile) ? text(own(profile, 'name')) : null;
    if (name === null) continue;
    const phone = text(own(contact, 'wa_id'));
    const userId = text(own(contact, 'user_id'));
    if (phone !== null) senders.byPhone.set(phone, name);
    if (userId !== null) senders.byUserId.set(userId, name);
    if (contacts.length === 1) senders.onlyName = name;
  }
  return senders;
}

function readMessage(
  raw: unknown,
  path: string,
  phoneNumberId: string | null,
  senders: Senders,
  out: ParsedWebhook,
): InboundEvent | undefined {
  if (!isObject(raw)) return skip(out, path, expected('the message', 'an object', raw));
  const wamid = text(own(raw, 'id'));
  if (wamid === null) {
    return skip(out, path, expected('"id"', 'the wamid (a non-empty string)', own(raw, 'id')));
  }
  const phone = text(own(raw, 'from'));
  const fromUserId = text(own(raw, 'from_user_id'));
  const from = phone ?? fromUserId;
  if (from === null) return skip(out, path, 'neither "from" nor "from_user_id" says who sent it');
  const timestamp = millis(own(raw, 'timestamp'));
  if (timestamp === null) {
    return skip(out, path, expected('"timestamp"', 'Unix seconds as a string', own(raw, 'timestamp')));
  }
  const messageType = text(own(raw, 'type'));
  if (messageType === null) {
    return skip(out, path, expected('"type"', 'a non-empty string', own(raw, 'type')));
  }
  const content = readContent(raw, messageType);
  if (typeof content === 'string') return skip(out, path, content);

  const context = own(raw, 'context');
  return {
    type: 'inbound',
    phoneNumberId,
    wamid,
    from,
    fromUserId,
    profileName:
      (phone !== null ? senders.byPhone.get(phone) : undefined) ??
      (fromUserId !== null ? senders.byUserId.get(fromUserId) : undefined) ??
      senders.onlyName,
    timestamp,
    contextWamid: isObject(context) ? text(own(context, 'id')) : null,
    content,
    errors: readErrors(own(raw, 'errors'), `${path}.errors`, out),
  };
}

/** The content, or why the message cannot be used. */
function readContent(message: JsonObject, messageType: string): InboundContent | string {
  const body = own(message, messageType);
  if (messageType === 'text') {
    const textBody = isObject(body) ? own(body, 'body') : undefined;
    return typeof textBody === 'string'
      ? { kind: 'text', body: textBody }
      : expected('"text.body"', 'a string', textBody);
  }
  if (messageType === 'button') {
    if (!isObject(body)) return expected('"button"', 'an object', body);
    const payload = own(body, 'payload');
    const buttonText = own(body, 'text');
    if (typeof payload !== 'string') return expected('"button.payload"', 'a string', payload);
    if (typeof buttonText !== 'string') return expected('"button.text"', 'a string', buttonText);
    return { kind: 'template_button', payload, text: buttonText };
  }
  if (messageType === 'interactive') {
    if (!isObject(body)) return expected('"interactive"', 'an object', body);
    const replyType = text(own(body, 'type'));
    if (replyType !== 'button_reply' && replyType !== 'list_reply') {
      return { kind: 'other', messageType: replyType === null ? 'interactive' : `interactive.${replyType}` };
    }
    const reply = own(body, replyType);
    if (!isObject(reply)) return expected(`"interactive.${replyType}"`, 'an object', reply);
    const id = own(reply, 'id');
    const title = own(reply, 'title');
    if (typeof id !== 'string') return expected(`"interactive.${replyType}.id"`, 'a string', id);
    if (typeof title !== 'string') return expected(`"interactive.${replyType}.title"`, 'a string', title);
    return { kind: replyType, id, title };
  }
  if (isMediaType(messageType)) {
    if (!isObject(body)) return expected(`"${messageType}"`, 'an object', body);
    const mediaId = text(own(body, 'id'));
    if (mediaId === null) return expected(`"${messageType}.id"`, 'a non-empty string', own(body, 'id'));
    return {
      kind: 'media',
      mediaType: messageType,
      mediaId,
      mimeType: text(own(body, 'mime_type')),
      caption: optionalString(own(body, 'caption')),
      filename: optionalString(own(body, 'filename')),
    };
  }
  return { kind: 'other', messageType };
}

/**
 * `errors[]` wherever it appears. An element without a numeric `code` is ignored (the code is what the
 * caller acts on); a missing `title` falls back to `message`, then "", so a failure keeps its code.
 */
function readErrors(raw: unknown, path: string, out: ParsedWebhook): WebhookError[] {
  if (raw === undefined) return [];
  if (!isArray(raw)) {
    ignore(out, path, expected('"errors"', 'an array', raw));
    return [];
  }
  const errors: WebhookError[] = [];
  for (let i = 0; i < raw.length; i++) {
    const element: unknown = raw[i];
    if (!isObject(element)) {
      ignore(out, `${path}[${i}]`, expected('the error', 'an object', element));
      continue;
    }
    const code = errorCode(own(element, 'code'));
    if (code === null) {
      ignore(out, `${path}[${i}]`, expected('"code"', 'an integer', own(element, 'code')));
      continue;
    }
    const message = optionalString(own(element, 'message'));
    const errorData = own(element, 'error_data');
    errors.push({
      code,
      title: optionalString(own(element, 'title')) ?? message ?? '',
      message,
      details: isObject(errorData) ? optionalString(own(errorData, 'details')) : null,
    });
  }
  return errors;
}

/** `value[key]` when it is an array; undefined when absent; a non-array is recorded and read as empty. */
function arrayAt(
  value: JsonObject,
  key: string,
  valuePath: string,
  out: ParsedWebhook,
): unknown[] | undefined {
  const raw = own(value, key);
  if (raw === undefined || isArray(raw)) return raw;
  ignore(out, `${valuePath}.${key}`, expected(`"${key}"`, 'an array', raw));
  return [];
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isArray(value: unknown): value is unknown[] {
  return Array.isArray(value);
}

/** Own properties only: an inherited `changes` or `statuses` is not part of the body. */
function own(record: JsonObject, key: string): unknown {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

/** A non-empty string, else null. */
function text(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

/** Any string (empty included: it is what was sent), else null. */
function optionalString(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

function isDeliveryStatus(value: unknown): value is DeliveryStatus {
  return typeof value === 'string' && DELIVERY_STATUSES.has(value);
}

function isMediaType(value: string): value is MediaType {
  return MEDIA_TYPES.has(value);
}

/** Unix seconds (a digit string, as Meta sends them; a whole number is tolerated) → milliseconds. */
function millis(value: unknown): number | null {
  if (typeof value === 'string' && UNIX_SECONDS.test(value)) return Number(value) * 1000;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAX_UNIX_SECONDS) {
    return value * 1000;
  }
  return null;
}

/** Meta sends codes as numbers; a digit string is tolerated. */
function errorCode(value: unknown): number | null {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
  if (typeof value === 'string' && /^\d{1,15}$/.test(value)) return Number(value);
  return null;
}

function ignore(out: ParsedWebhook, path: string, reason: string): void {
  out.ignored.push({ path, reason });
}

/** `ignore`, as an expression for functions that return the element they could not read. */
function skip(out: ParsedWebhook, path: string, reason: string): undefined {
  ignore(out, path, reason);
  return undefined;
}

function expected(what: string, shape: string, got: unknown): string {
  return `${what}: expected ${shape}, got ${show(got)}`;
}

const SHOWN_STRING_LENGTH = 40;

/** A short description of a value for a reason: never its whole content, never a walk into it. */
function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') {
    const shown = value.length > SHOWN_STRING_LENGTH ? `${value.slice(0, SHOWN_STRING_LENGTH)}…` : value;
    return JSON.stringify(shown);
  }
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}
