/**
 * The accept/decline loop (design.md §1.6): every offer of a ticket is an assignment with its own reply
 * token and deadline. A provider's tap on **Aceptar** makes the ticket theirs and sends them the whole
 * ticket; **Rechazar**, an expired deadline or an undeliverable offer hands the ticket to the next candidate
 * of the matching cascade (never one already asked), then to the center, whose **Tomar** takes it.
 *
 * Every decision is a conditional update (`offered` → …) and every hand-on a compare-and-set of the
 * ticket's `current_assignment_id`, so two taps, a tap and the timer, or several processes never both win.
 * Timers are rows (`deadline_at`), swept by `sweepAssignments`; a process that stops between a decline and
 * the hand-on leaves a "stalled" ticket that the next sweep hands on.
 */
import type { Kysely } from 'kysely';
import type { DatabaseSchema } from '../db/schema.js';
import { offerCostMs, recordOfferOutcome, type OfferOutcome } from '../providers/provider-ranking.js';
import { maskPhoneNumber } from '../whatsapp/phone-number.js';
import {
  newReplyToken,
  offerTimeoutMs,
  parseReplyPayload,
  replyPayload,
  type AssignmentStatus,
} from './assignment.js';
import type { AssignmentRow } from './assignment-store.js';
import {
  composeAcceptedDetails,
  composeCenterNotification,
  composeMediaMessage,
  composeProviderNotification,
  composeTemplate,
  REPLIES,
  type NotificationContent,
} from './compose-notification.js';
import type { MatchSource, TicketStatus } from './ticket.js';
import type { ProviderMatch, TicketDeps } from './ticket-deps.js';
import type { TicketRow } from './ticket-store.js';

type Db = Kysely<DatabaseSchema>;

export interface OfferResult {
  notification: { id: string; to: string; status: string } | null;
}

/** Why a ticket is being offered: its creation, a person's reassignment, or the loop handing it on. */
export type OfferOccasion = 'created' | 'reassigned' | 'handed_on';

/**
 * Offers the ticket to the match (or the center when there is none) inside the caller's transaction: the
 * assignment, the ticket's new state and the outbox message commit together.
 */
export async function offerTicket(
  deps: TicketDeps,
  trx: Db,
  ticket: TicketRow,
  match: ProviderMatch,
  occasion: OfferOccasion,
): Promise<OfferResult> {
  const now = deps.clock.now();
  const content = notificationContent(deps, ticket, { withReporterPhone: deps.includeReporterPhone });
  if (match.kind !== 'none') {
    const provider = await deps.matcher.adopt(trx, match);
    const source: MatchSource = match.kind === 'local' ? match.source : match.kind;
    const timeoutMs = offerTimeoutMs(deps.offerTimeouts, ticket.specialty_key);
    const token = newReplyToken();
    const assignment = await deps.assignments.insert(trx, {
      ticketId: ticket.id,
      kind: 'provider',
      providerId: provider.id,
      recipient: provider.phone,
      replyToken: token,
      offeredAt: now,
      deadlineAt: now + timeoutMs,
    });
    const message = composeProviderNotification(
      content,
      { templateName: deps.templateName, templateLanguage: deps.templateLanguage },
      {
        accept: replyPayload('accept', token),
        decline: replyPayload('decline', token),
        footer: `Responde en ${Math.round(timeoutMs / 60_000)} min`,
      },
    );
    const row = await deps.outbox.enqueueInTransaction(trx, {
      to: provider.phone,
      message,
      ticketId: ticket.id,
    });
    await deps.assignments.setMessage(trx, assignment.id, row.id);
    await deps.tickets.assign(trx, ticket.id, {
      providerId: provider.id,
      status: 'notified',
      matchSource: source,
      assignmentId: assignment.id,
    });
    await deps.tickets.addEvent(trx, ticket.id, 'provider_notified', {
      providerId: provider.id,
      providerName: provider.name,
      source,
      messageId: row.id,
      assignmentId: assignment.id,
      deadlineAt: new Date(now + timeoutMs).toISOString(),
    });
    deps.logger.info(
      {
        event: 'ticket.provider_notified',
        ticketId: ticket.id,
        providerId: provider.id,
        assignmentId: assignment.id,
        source,
        occasion,
        to: maskPhoneNumber(provider.phone),
      },
      'provider offered the ticket',
    );
    return { notification: { id: row.id, to: row.recipient, status: row.status } };
  }

  const isFirstOffer = occasion === 'created';
  if (deps.centerNumber === null) {
    const status: TicketStatus = isFirstOffer ? 'unassigned' : 'declined';
    await deps.tickets.assign(trx, ticket.id, {
      providerId: null,
      status,
      matchSource: 'center',
      assignmentId: null,
    });
    await deps.tickets.addEvent(trx, ticket.id, 'no_provider', { centerNotified: false, status });
    deps.logger.warn(
      { event: 'ticket.no_center', ticketId: ticket.id, status },
      'no provider can take the ticket and WHATSAPP_DEFAULT_TO is not set',
    );
    return { notification: null };
  }
  const token = newReplyToken();
  const assignment = await deps.assignments.insert(trx, {
    ticketId: ticket.id,
    kind: 'center',
    providerId: null,
    recipient: deps.centerNumber,
    replyToken: token,
    offeredAt: now,
    deadlineAt: null,
  });
  const reason = isFirstOffer
    ? `Ningún proveedor disponible para ${ticket.location} / ${ticket.specialty}.`
    : 'Ningún proveedor aceptó el servicio.';
  const row = await deps.outbox.enqueueInTransaction(trx, {
    to: deps.centerNumber,
    message: composeCenterNotification(content, reason, replyPayload('take', token)),
    // Outside the center's 24-hour window only a template is delivered; its first quick reply takes.
    fallback:
      deps.templateName === null
        ? null
        : composeTemplate(
            content,
            { templateName: deps.templateName, templateLanguage: deps.templateLanguage },
            { accept: replyPayload('take', token), decline: replyPayload('decline', token) },
          ),
    ticketId: ticket.id,
  });
  await deps.assignments.setMessage(trx, assignment.id, row.id);
  const status: TicketStatus = isFirstOffer ? 'unassigned' : 'escalated';
  await deps.tickets.assign(trx, ticket.id, {
    providerId: null,
    status,
    matchSource: 'center',
    assignmentId: assignment.id,
  });
  if (!isFirstOffer) await deps.tickets.addEvent(trx, ticket.id, 'escalated', { reason });
  await deps.tickets.addEvent(trx, ticket.id, 'center_notified', {
    messageId: row.id,
    assignmentId: assignment.id,
  });
  deps.logger.info(
    { event: 'ticket.center_notified', ticketId: ticket.id, assignmentId: assignment.id, occasion },
    'center offered the ticket',
  );
  return { notification: { id: row.id, to: row.recipient, status: row.status } };
}

/**
 * Hands the ticket on from `fromAssignmentId` (declined, expired, failed or superseded) to the next
 * candidate not asked yet, then the center. Does nothing when the ticket has already moved on.
 */
export async function handOn(
  deps: TicketDeps,
  ticketId: string,
  fromAssignmentId: string | null,
  occasion: OfferOccasion = 'handed_on',
  choice: { providerId?: string | undefined } = {},
): Promise<OfferResult | null> {
  const ticket = await deps.tickets.getRow(ticketId);
  if (ticket?.current_assignment_id !== fromAssignmentId) return null;
  const tried = await deps.assignments.providersTried(ticketId);
  // Outside the transaction: the directory is an HTTP call.
  const match: ProviderMatch =
    choice.providerId === undefined
      ? await deps.matcher.findMatch({
          location: ticket.location,
          specialty: ticket.specialty,
          excludeIds: tried,
        })
      : { kind: 'manual', providerId: choice.providerId };
  const result = await deps.db.transaction().execute(async (trx) => {
    const current = await deps.tickets.getRow(ticketId, trx);
    if (current === null || !(await deps.tickets.claimHandOn(trx, ticketId, fromAssignmentId))) return null;
    return offerTicket(deps, trx, current, match, occasion);
  });
  if (result !== null) deps.wakeDispatcher();
  return result;
}

export type ReplyOutcome = 'accepted' | 'declined' | 'taken' | 'already_answered' | 'stranger' | 'ignored';

/**
 * A tap on one of our buttons (`accept:<token>`, `decline:<token>`, `take:<token>`) from `from`. Returns
 * null for payloads that are not ours (the reply is then just a message on the ticket).
 */
export async function handleReply(
  deps: TicketDeps,
  reply: { from: string; payload: string },
): Promise<ReplyOutcome | null> {
  const parsed = parseReplyPayload(reply.payload);
  if (parsed === null) return null;
  const assignment = await deps.assignments.byToken(parsed.token);
  if (assignment === null || assignment.recipient !== reply.from) {
    if (assignment !== null) {
      await deps.db.transaction().execute((trx) =>
        deps.tickets.addEvent(trx, assignment.ticket_id, 'tap_ignored', {
          reason: 'stranger',
          action: parsed.action,
          assignmentId: assignment.id,
        }),
      );
    }
    deps.logger.warn(
      {
        event: 'ticket.tap_ignored',
        reason: assignment === null ? 'unknown_token' : 'stranger',
        from: maskPhoneNumber(reply.from),
      },
      'a tap that does not belong to its sender',
    );
    await sendReply(deps, reply.from, assignment?.ticket_id ?? null, REPLIES.alreadyAssigned);
    return 'stranger';
  }
  const ticket = await deps.tickets.getRow(assignment.ticket_id);
  if (ticket === null) return 'ignored';

  if (assignment.kind === 'center') {
    if (parsed.action !== 'take') return 'ignored';
    return takeByCenter(deps, assignment, ticket);
  }
  if (parsed.action === 'accept') return accept(deps, assignment, ticket);
  if (parsed.action === 'decline') return decline(deps, assignment, ticket);
  return 'ignored';
}

/**
 * Moves an `offered` assignment to `status` and does `work` in the same transaction; false (and nothing
 * done) when the assignment had already moved: another tap, the timer or another process won.
 */
async function decide(
  deps: TicketDeps,
  assignment: AssignmentRow,
  status: AssignmentStatus,
  work: (trx: Db, answeredAfterMs: number) => Promise<void>,
): Promise<boolean> {
  const now = deps.clock.now();
  return deps.db.transaction().execute(async (trx) => {
    if (!(await deps.assignments.resolve(trx, assignment.id, status, now))) return false;
    await work(trx, now - Number(assignment.offered_at));
    return true;
  });
}

/** Queues a plain text about the ticket inside the caller's transaction. */
async function queueText(deps: TicketDeps, trx: Db, to: string, ticketId: string | null, body: string) {
  await deps.outbox.enqueueInTransaction(trx, {
    to,
    message: { kind: 'text', body, previewUrl: false },
    ticketId,
  });
}

async function accept(deps: TicketDeps, assignment: AssignmentRow, ticket: TicketRow): Promise<ReplyOutcome> {
  const provider = assignment.provider_id === null ? null : await providerOf(deps, assignment.provider_id);
  const won = await decide(deps, assignment, 'accepted', async (trx, answeredAfterMs) => {
    await deps.tickets.setStatus(trx, ticket.id, 'accepted');
    await deps.tickets.addEvent(trx, ticket.id, 'accepted', {
      providerId: assignment.provider_id,
      providerName: provider?.name ?? null,
      assignmentId: assignment.id,
      answeredAfterMs,
    });
    await recordOutcome(deps, trx, assignment, 'accepted', answeredAfterMs);
    await sendAcceptedTicket(deps, trx, assignment, ticket, provider);
  });
  if (!won) return answerLateTap(deps, assignment, 'accept', REPLIES.alreadyAssigned);
  deps.wakeDispatcher();
  logDecision(deps, 'ticket.accepted', assignment, 'provider accepted the ticket');
  return 'accepted';
}

async function decline(
  deps: TicketDeps,
  assignment: AssignmentRow,
  ticket: TicketRow,
): Promise<ReplyOutcome> {
  const won = await decide(deps, assignment, 'declined', async (trx, answeredAfterMs) => {
    await deps.tickets.addEvent(trx, ticket.id, 'declined', {
      providerId: assignment.provider_id,
      assignmentId: assignment.id,
      answeredAfterMs,
    });
    await recordOutcome(deps, trx, assignment, 'declined', answeredAfterMs);
    await queueText(deps, trx, assignment.recipient, ticket.id, REPLIES.declined(ticket.number));
  });
  if (!won) return answerLateTap(deps, assignment, 'decline', REPLIES.alreadyAssigned);
  logDecision(deps, 'ticket.declined', assignment, 'provider declined the ticket');
  await handOn(deps, ticket.id, assignment.id);
  deps.wakeDispatcher();
  return 'declined';
}

async function takeByCenter(
  deps: TicketDeps,
  assignment: AssignmentRow,
  ticket: TicketRow,
): Promise<ReplyOutcome> {
  const won = await decide(deps, assignment, 'taken', async (trx, answeredAfterMs) => {
    await deps.tickets.setStatus(trx, ticket.id, 'accepted');
    await deps.tickets.addEvent(trx, ticket.id, 'taken_by_center', {
      assignmentId: assignment.id,
      answeredAfterMs,
    });
    await queueText(deps, trx, assignment.recipient, ticket.id, REPLIES.taken(ticket.number));
  });
  if (!won) return answerLateTap(deps, assignment, 'take', REPLIES.alreadyTaken(ticket.number));
  deps.wakeDispatcher();
  logDecision(deps, 'ticket.taken_by_center', assignment, 'the center took the ticket');
  return 'taken';
}

function logDecision(deps: TicketDeps, event: string, assignment: AssignmentRow, message: string): void {
  deps.logger.info(
    {
      event,
      ticketId: assignment.ticket_id,
      providerId: assignment.provider_id,
      assignmentId: assignment.id,
    },
    message,
  );
}

/**
 * The offer's message could not be delivered (a permanent send failure, or a `failed` status from Meta):
 * the ticket moves on at once instead of waiting out the deadline. `reengaging` = 131047 with a template
 * fallback on its way, which is not the end of the offer.
 */
export async function offerUndeliverable(
  deps: TicketDeps,
  message: { ticketId: string | null; recipient: string; whatsappCode: number | null; reengaging: boolean },
): Promise<boolean> {
  if (message.ticketId === null || message.reengaging) return false;
  const assignment = await deps.assignments.openOfferTo(message.ticketId, message.recipient);
  if (assignment?.kind !== 'provider') return false;
  return endOffer(deps, assignment, 'failed', { whatsappCode: message.whatsappCode });
}

/** Expires overdue offers and hands on stalled tickets; returns how many offers it ended or handed on. */
export async function sweepAssignments(deps: TicketDeps, batch = 100): Promise<number> {
  let moved = 0;
  for (const assignment of await deps.assignments.overdue(deps.clock.now(), batch)) {
    if (await endOffer(deps, assignment, 'expired', {})) moved += 1;
  }
  for (const assignment of await deps.assignments.stalled(batch)) {
    if ((await handOn(deps, assignment.ticket_id, assignment.id)) !== null) moved += 1;
  }
  return moved;
}

async function endOffer(
  deps: TicketDeps,
  assignment: AssignmentRow,
  status: Extract<AssignmentStatus, 'expired' | 'failed'>,
  detail: Record<string, unknown>,
): Promise<boolean> {
  const isExpiry = status === 'expired';
  const won = await decide(deps, assignment, status, async (trx, answeredAfterMs) => {
    await deps.tickets.addEvent(trx, assignment.ticket_id, isExpiry ? 'expired' : 'delivery_failed', {
      providerId: assignment.provider_id,
      assignmentId: assignment.id,
      ...detail,
    });
    await recordOutcome(deps, trx, assignment, 'expired', answeredAfterMs);
  });
  if (!won) return false;
  logDecision(
    deps,
    isExpiry ? 'ticket.offer_expired' : 'ticket.offer_undeliverable',
    assignment,
    isExpiry ? 'offer expired without an answer' : 'offer could not be delivered',
  );
  await handOn(deps, assignment.ticket_id, assignment.id);
  return true;
}

async function recordOutcome(
  deps: TicketDeps,
  trx: Db,
  assignment: AssignmentRow,
  outcome: OfferOutcome,
  answeredAfterMs: number,
): Promise<void> {
  if (assignment.provider_id === null || assignment.deadline_at === null) return;
  const deadlineMs = Number(assignment.deadline_at) - Number(assignment.offered_at);
  await recordOfferOutcome(
    trx,
    assignment.provider_id,
    outcome,
    offerCostMs(outcome, answeredAfterMs, deadlineMs),
    deps.ranking,
  );
}

/** The whole ticket to the provider who accepted, its files as media messages, and word to the others. */
async function sendAcceptedTicket(
  deps: TicketDeps,
  trx: Db,
  assignment: AssignmentRow,
  ticket: TicketRow,
  provider: { name: string; phone: string } | null,
): Promise<void> {
  const content = notificationContent(deps, ticket, { withReporterPhone: true });
  const enqueue = (
    to: string,
    message: Parameters<TicketDeps['outbox']['enqueueInTransaction']>[1]['message'],
  ) => deps.outbox.enqueueInTransaction(trx, { to, message, ticketId: ticket.id });
  await enqueue(assignment.recipient, composeAcceptedDetails(content));
  const files = await deps.tickets.mediaOf(ticket.id, trx);
  for (const [index, file] of files.entries()) {
    await enqueue(
      assignment.recipient,
      composeMediaMessage(
        { contentType: file.content_type, filename: file.filename, link: deps.mediaLink(ticket.id, file.id) },
        `${ticket.number} · ${index + 1}/${files.length}`,
      ),
    );
  }
  if (provider === null) return;
  if (deps.centerNumber !== null && deps.centerNumber !== assignment.recipient) {
    const notice = REPLIES.acceptedBy(ticket.number, provider.name, provider.phone);
    await queueText(deps, trx, deps.centerNumber, ticket.id, notice);
  }
  if (deps.notifyReporter && ticket.reporter_phone !== null) {
    const notice = REPLIES.reporterAccepted(ticket.number, provider.name);
    await queueText(deps, trx, ticket.reporter_phone, ticket.id, notice);
  }
}

/** A tap on an offer that was already decided: kept on the history, answered politely, nothing else. */
async function answerLateTap(
  deps: TicketDeps,
  assignment: AssignmentRow,
  action: string,
  answer: string,
): Promise<ReplyOutcome> {
  await deps.db.transaction().execute((trx) =>
    deps.tickets.addEvent(trx, assignment.ticket_id, 'tap_ignored', {
      reason: 'already_answered',
      action,
      assignmentId: assignment.id,
    }),
  );
  await sendReply(deps, assignment.recipient, assignment.ticket_id, answer);
  return 'already_answered';
}

async function sendReply(deps: TicketDeps, to: string, ticketId: string | null, body: string): Promise<void> {
  await deps.db.transaction().execute((trx) => queueText(deps, trx, to, ticketId, body));
  deps.wakeDispatcher();
}

async function providerOf(
  deps: TicketDeps,
  providerId: string,
): Promise<{ name: string; phone: string } | null> {
  const row = await deps.db
    .selectFrom('providers')
    .select(['name', 'phone'])
    .where('id', '=', providerId)
    .executeTakeFirst();
  return row ?? null;
}

/** The facts a message about the ticket carries. */
export function notificationContent(
  deps: Pick<TicketDeps, 'ticketLink'>,
  ticket: TicketRow,
  options: { withReporterPhone: boolean },
): NotificationContent {
  return {
    number: ticket.number,
    location: ticket.location,
    address: ticket.address,
    specialty: ticket.specialty,
    description: ticket.description,
    reporterName: ticket.reporter_name,
    reporterPhone: options.withReporterPhone ? ticket.reporter_phone : null,
    link: deps.ticketLink(ticket.id),
  };
}
