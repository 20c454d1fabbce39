import type { OutgoingMessage, OutgoingMessageKind } from '../whatsapp/whatsapp-client.js';

/**
 * Life of an outbound message:
 *   queued → sending → sent → delivered → read
 *              ↓  ↑
 *           retrying          (any non-terminal state) → failed
 * `sent` means Meta accepted it (we hold its wamid); delivered/read come from webhooks.
 */
export const MESSAGE_STATUSES = [
  'queued',
  'sending',
  'retrying',
  'sent',
  'delivered',
  'read',
  'failed',
  'received',
] as const;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];

/** Timeline events: every status plus what happened in between. */
export type MessageEventType =
  | MessageStatus
  | 'lease_expired'
  | 'fallback_queued'
  | 'sent_as_template'
  | 'received';

export interface MessageError {
  /** Our code: whatsapp_rejected, whatsapp_transient, whatsapp_auth_failed, attempts_exhausted… */
  code: string;
  message: string;
  whatsappCode: number | null;
  details: string | null;
  fbtraceId: string | null;
}

export interface MessageEvent {
  status: MessageEventType;
  at: string;
  detail: Record<string, unknown> | null;
}

/**
 * Every outbound message's timeline starts with `queued` at its creation. It is not stored as an event
 * row (the row's `created_at` says it, and one insert less per accepted request matters: BENCHMARKS.md);
 * readers put it first.
 */
export function queuedEvent(createdAt: number): MessageEvent {
  return { status: 'queued', at: new Date(createdAt).toISOString(), detail: null };
}

/** The public view of a message (GET /api/messages/:id). */
export interface MessageView {
  id: string;
  direction: 'outbound' | 'inbound';
  /** The other party: the recipient of an outbound message, the sender of an inbound one. */
  to: string;
  kind: OutgoingMessageKind;
  status: MessageStatus;
  messageId: string | null;
  attempts: number;
  ticketId: string | null;
  lastError: MessageError | null;
  nextAttemptAt: string | null;
  createdAt: string;
  updatedAt: string;
  events?: MessageEvent[];
  /** Inbound only: what the number sent (text, button tap, media…). */
  content?: Record<string, unknown>;
}

export interface NewMessage {
  to: string;
  message: OutgoingMessage;
  ticketId?: string | null;
  idempotencyKey?: string | null;
  requestHash?: string | null;
  /** A template to send instead if Meta refuses this free-form message outside the 24-hour window. */
  fallback?: OutgoingMessage | null;
}

export const TERMINAL_STATUSES: ReadonlySet<MessageStatus> = new Set(['sent', 'delivered', 'read', 'failed']);

export function isMessageStatus(value: string): value is MessageStatus {
  return (MESSAGE_STATUSES as readonly string[]).includes(value);
}
