import { createHash } from 'node:crypto';
import type { CountryCode } from 'libphonenumber-js';
import { AppError } from '../shared/error-codes.js';
import { normalizePhoneNumber } from '../whatsapp/phone-number.js';
import type { OutgoingMessage } from '../whatsapp/whatsapp-client.js';
import type { MessageStatus, MessageView } from './message.js';
import type { MessageNotifier } from './message-notifier.js';
import type { MessageStore } from './message-store.js';
import { toMessageView } from './message-store.js';
import type { Outbox } from './outbox.js';
import { buildNotifyMessages, type NotifyContent } from './notify-request.js';
import { waitForOutcome } from './wait-for-outcome.js';

export interface SendNotificationDeps {
  outbox: Outbox;
  messageStore: MessageStore;
  notifier: MessageNotifier;
  /** Null when WhatsApp is not configured (cloud mode without credentials): nothing is queued then. */
  wakeDispatcher: (() => void) | null;
  defaultCountry: CountryCode;
  notifyWaitMs: number;
  templateLanguage: string;
  templateParameterCounts: ReadonlyMap<string, number>;
}

export interface SendNotificationInput {
  to: string;
  content: NotifyContent;
  idempotencyKey: string | null;
  /** `Prefer: respond-async`: answer after the durable write, without waiting for Meta. */
  isAsync: boolean;
}

/** What the notify answer tells of the message (the 200 and 202 bodies). */
export type NotifiedMessage = Pick<MessageView, 'id' | 'to' | 'status' | 'messageId'>;

export type SendNotificationResult =
  /** Meta accepted it: the seed's 200. */
  | { outcome: 'sent'; message: NotifiedMessage }
  /** Durably queued (or retrying) but not yet accepted: 202. */
  | { outcome: 'accepted'; message: NotifiedMessage };

/**
 * The seed's notify flow on the outbox: normalize the number, write the message durably, let the
 * dispatcher send it, and wait up to NOTIFY_WAIT_MS for Meta's answer. Throws AppError for refusals.
 */
export async function sendNotification(
  deps: SendNotificationDeps,
  input: SendNotificationInput,
): Promise<SendNotificationResult> {
  if (deps.wakeDispatcher === null) {
    throw new AppError('whatsapp_not_configured', 'WhatsApp API credentials not configured');
  }
  const phone = normalizePhoneNumber(input.to, deps.defaultCountry);
  if (!phone.ok) {
    throw new AppError('invalid_phone_number', `Invalid phone number: ${phone.reason}`, { field: 'to' });
  }
  const { message, fallback } = buildNotifyMessages(
    input.content,
    deps.templateLanguage,
    deps.templateParameterCounts,
  );
  const requestHash = input.idempotencyKey === null ? null : hashRequest(phone.digits, [message, fallback]);
  const { row, isNew } = await deps.outbox.enqueue({
    to: phone.digits,
    message,
    fallback,
    idempotencyKey: input.idempotencyKey,
    requestHash,
  });
  if (!isNew && row.request_hash !== requestHash) {
    throw new AppError(
      'idempotency_key_conflict',
      'Idempotency-Key was already used for a different request',
      {
        field: 'Idempotency-Key',
      },
    );
  }
  if (isNew) deps.wakeDispatcher();
  // Just what the 202 says: a full view (three dates formatted) was ~2 % of the request's CPU (BENCHMARKS.md).
  if (input.isAsync) {
    return {
      outcome: 'accepted',
      message: { id: row.id, to: row.recipient, status: row.status as MessageStatus, messageId: row.wamid },
    };
  }

  const outcome = await waitForOutcome({
    id: row.id,
    timeoutMs: deps.notifyWaitMs,
    notifier: deps.notifier,
    readStatus: (id) => deps.messageStore.status(id),
  });
  const view = (await deps.messageStore.get(row.id)) ?? toMessageView(row);
  if (outcome === 'sent') return { outcome: 'sent', message: view };
  if (outcome === 'failed') {
    const error = view.lastError;
    throw new AppError('whatsapp_rejected', error?.message ?? 'WhatsApp rejected the message', {
      whatsappCode: error?.whatsappCode ?? null,
      reason: error?.code ?? null,
      ...(error?.details == null ? {} : { whatsappDetails: error.details }),
      id: view.id,
    });
  }
  return { outcome: 'accepted', message: view };
}

function hashRequest(to: string, messages: [OutgoingMessage, OutgoingMessage | null]): string {
  return createHash('sha256')
    .update(JSON.stringify([to, ...messages]))
    .digest('hex');
}
