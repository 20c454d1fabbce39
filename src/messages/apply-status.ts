import { sql, type Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { DatabaseSchema } from '../db/schema.js';
import type { Clock } from '../shared/clock.js';
import { newId } from '../shared/ids.js';
import { classifyCode } from '../whatsapp/graph-error.js';
import { isStatusUpgrade, type StatusEvent } from '../whatsapp/webhook-events.js';
import type { OutgoingMessage } from '../whatsapp/whatsapp-client.js';
import type { MessageError, MessageStatus } from './message.js';
import type { MessageNotifier } from './message-notifier.js';
import type { MessageRow, Outbox } from './outbox.js';

type Db = Kysely<DatabaseSchema>;

export const REENGAGEMENT_CODE = 131047;

/** What a ticket (or anything else) does when one of its messages changes state: a callback from app.ts. */
export type StatusHook = (change: {
  message: MessageRow;
  status: MessageStatus;
  event: StatusEvent;
}) => Promise<void>;

export interface StatusDeps {
  db: Db;
  outbox: Outbox;
  notifier: MessageNotifier;
  clock: Clock;
  logger: Logger;
  wakeDispatcher: () => void;
  onStatus?: StatusHook;
  /** Statuses this process kept for unknown wamids: while zero, a recorded send need not look for any. */
  unmatched: { count: number };
}

/**
 * Applies one status from Meta: kept once per (wamid, status); matched to its message by wamid or by our id
 * in `biz_opaque_callback_data`; recorded on the timeline with Meta's time; the message's status only moves
 * forward (a late `delivered` never downgrades `read`). A status for an unknown wamid is kept and applied
 * when the send is recorded (`applyPendingStatuses`).
 */
export async function applyStatus(
  deps: StatusDeps,
  event: StatusEvent,
): Promise<'applied' | 'duplicate' | 'unmatched'> {
  const outcome = await deps.db.transaction().execute(async (trx) => {
    const inserted = await trx
      .insertInto('message_status_updates')
      .values({
        wamid: event.wamid,
        status: event.status,
        message_id: null,
        callback_data: event.callbackData,
        at: event.timestamp,
        detail: JSON.stringify(statusDetail(event)),
        received_at: deps.clock.now(),
      })
      .onConflict((oc) => oc.columns(['wamid', 'status']).doNothing())
      .returning('wamid')
      .executeTakeFirst();
    if (inserted === undefined) return { kind: 'duplicate' as const };
    const message = await findMessage(trx, event);
    if (message === null) return { kind: 'unmatched' as const };
    return applyToMessage(deps, trx, message, event);
  });
  if (outcome.kind === 'unmatched') {
    deps.unmatched.count++;
    deps.logger.info(
      { event: 'webhook.status_unmatched', wamid: event.wamid, status: event.status },
      'status for an unknown message kept',
    );
  }
  if (outcome.kind === 'applied')
    await afterApplied(deps, outcome.message, outcome.status, event, outcome.fallbackId);
  return outcome.kind;
}

/** After a send is recorded: statuses that arrived before it (unknown wamid then) are applied now. */
export async function applyPendingStatuses(deps: StatusDeps, wamid: string): Promise<number> {
  const pending = await deps.db
    .selectFrom('message_status_updates')
    .selectAll()
    .where('wamid', '=', wamid)
    .where('message_id', 'is', null)
    .orderBy('at')
    .execute();
  let applied = 0;
  for (const row of pending) {
    const event = JSON.parse(row.detail ?? '{}') as { event?: StatusEvent };
    if (event.event === undefined) continue;
    const outcome = await deps.db.transaction().execute(async (trx) => {
      const message = await findMessage(trx, event.event as StatusEvent);
      return message === null
        ? { kind: 'unmatched' as const }
        : applyToMessage(deps, trx, message, event.event as StatusEvent);
    });
    if (outcome.kind === 'applied') {
      applied++;
      await afterApplied(deps, outcome.message, outcome.status, event.event, outcome.fallbackId);
    }
  }
  return applied;
}

/**
 * Statuses kept for a wamid that another process (or a crash) has since recorded: applied by the webhook
 * sweep, so a send recorded elsewhere still gets them.
 */
export async function reconcileUnmatched(deps: StatusDeps, limit = 100): Promise<number> {
  const rows = await deps.db
    .selectFrom('message_status_updates as u')
    .innerJoin('messages as m', 'm.wamid', 'u.wamid')
    .select('u.wamid')
    .distinct()
    .where('u.message_id', 'is', null)
    .limit(limit)
    .execute();
  let applied = 0;
  for (const row of rows) applied += await applyPendingStatuses(deps, row.wamid);
  return applied;
}

type Applied = { kind: 'applied'; message: MessageRow; status: MessageStatus; fallbackId: string | null };

async function applyToMessage(
  deps: StatusDeps,
  trx: Db,
  found: MessageRow,
  event: StatusEvent,
): Promise<Applied> {
  const now = deps.clock.now();
  // Two statuses of one message (Meta sends `sent` and `failed` moments apart) may be applied at once:
  // take the row's lock first (a no-op update; SQLite has one writer anyway) and decide on its value now,
  // or the later commit would overwrite the other's status with one decided from a stale read.
  await trx
    .updateTable('messages')
    .set({ updated_at: sql`updated_at` })
    .where('id', '=', found.id)
    .execute();
  const message =
    (await trx.selectFrom('messages').selectAll().where('id', '=', found.id).executeTakeFirst()) ?? found;
  await trx
    .updateTable('message_status_updates')
    .set({ message_id: message.id })
    .where('wamid', '=', event.wamid)
    .where('status', '=', event.status)
    .execute();
  const detail: Record<string, unknown> = { source: 'webhook', wamid: event.wamid };
  if (event.pricingCategory !== null) detail.pricingCategory = event.pricingCategory;
  if (event.errors.length > 0) detail.errors = event.errors;
  if (message.wamid !== null && message.wamid !== event.wamid) detail.otherSend = true;
  await trx
    .insertInto('message_events')
    .values({
      id: newId(),
      message_id: message.id,
      status: event.status,
      at: event.timestamp,
      detail: JSON.stringify(detail),
    })
    .execute();

  const current = message.status as MessageStatus;
  let status = current;
  let fallbackId: string | null = null;
  // findMessage only returns outbound messages, which are never `received`.
  if (current !== 'received' && isStatusUpgrade(current, event.status)) {
    status = event.status;
    const error = event.status === 'failed' ? toMessageError(event) : null;
    await trx
      .updateTable('messages')
      .set({
        status,
        updated_at: now,
        ...(message.wamid === null ? { wamid: event.wamid } : {}),
        ...(error === null ? {} : { last_error: JSON.stringify(error) }),
      })
      .where('id', '=', message.id)
      .execute();
    if (error?.whatsappCode === REENGAGEMENT_CODE && message.fallback_payload !== null) {
      fallbackId = await queueFallback(deps, trx, message, now);
    }
  }
  return { kind: 'applied', message: { ...message, status }, status, fallbackId };
}

/** 131047: the free-form message was refused outside the window; send its template instead, once. */
async function queueFallback(deps: StatusDeps, trx: Db, message: MessageRow, now: number): Promise<string> {
  const template = JSON.parse(message.fallback_payload ?? 'null') as OutgoingMessage;
  const row = await deps.outbox.enqueueInTransaction(trx, {
    to: message.recipient,
    message: template,
    ticketId: message.ticket_id,
  });
  await trx.updateTable('messages').set({ fallback_payload: null }).where('id', '=', message.id).execute();
  await trx
    .insertInto('message_events')
    .values({
      id: newId(),
      message_id: message.id,
      status: 'fallback_queued',
      at: now,
      detail: JSON.stringify({
        reason: 'window closed (131047)',
        fallbackMessageId: row.id,
        template: template.kind === 'template' ? template.name : null,
      }),
    })
    .execute();
  return row.id;
}

async function afterApplied(
  deps: StatusDeps,
  message: MessageRow,
  status: MessageStatus,
  event: StatusEvent,
  fallbackId: string | null,
): Promise<void> {
  deps.notifier.notify(message.id, status);
  if (fallbackId !== null) {
    deps.logger.warn(
      { event: 'whatsapp.template_fallback', messageId: message.id, fallbackMessageId: fallbackId },
      'window closed: sending the template instead',
    );
    deps.wakeDispatcher();
  }
  if (deps.onStatus !== undefined) {
    try {
      await deps.onStatus({ message, status, event });
    } catch (error) {
      deps.logger.error(
        { event: 'webhook.status_hook_failed', messageId: message.id, err: error },
        'status hook failed',
      );
    }
  }
}

async function findMessage(trx: Db, event: StatusEvent): Promise<MessageRow | null> {
  const byWamid = await trx
    .selectFrom('messages')
    .selectAll()
    .where('wamid', '=', event.wamid)
    .where('direction', '=', 'outbound')
    .executeTakeFirst();
  if (byWamid !== undefined) return byWamid;
  if (event.callbackData === null) return null;
  // Our id travels in biz_opaque_callback_data: it finds a message whose send we have not recorded yet.
  const byId = await trx
    .selectFrom('messages')
    .selectAll()
    .where('id', '=', event.callbackData)
    .where('direction', '=', 'outbound')
    .executeTakeFirst();
  return byId ?? null;
}

function statusDetail(event: StatusEvent): Record<string, unknown> {
  return { event };
}

function toMessageError(event: StatusEvent): MessageError {
  const first = event.errors[0];
  const failureClass = classifyCode(first?.code ?? null);
  return {
    code:
      first?.code === REENGAGEMENT_CODE
        ? 'whatsapp_window_closed'
        : failureClass === 'recipient'
          ? 'whatsapp_recipient_unavailable'
          : 'whatsapp_rejected',
    message: first?.title ?? 'Meta reported the message as failed',
    whatsappCode: first?.code ?? null,
    details: first?.details ?? null,
    fbtraceId: null,
  };
}
