import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { DatabaseSchema } from '../db/schema.js';
import { inspectUpload } from '../media/inspect-upload.js';
import { toMatchKey } from '../providers/match-key.js';
import type { MediaStorage } from '../media/media-storage.js';
import type { Outbox } from '../messages/outbox.js';
import type { Clock } from '../shared/clock.js';
import { AppError } from '../shared/error-codes.js';
import { newId } from '../shared/ids.js';
import { maskPhoneNumber, normalizePhoneNumber, type CountryCode } from '../whatsapp/phone-number.js';
import {
  composeCenterNotification,
  composeProviderNotification,
  type NotificationContent,
} from './compose-notification.js';
import type { MatchSource, TicketInput, TicketProviderView, TicketStatus, TicketView } from './ticket.js';
import type { TicketMediaRow, TicketStore } from './ticket-store.js';

type Db = Kysely<DatabaseSchema>;

/**
 * What ticket flows need from the provider directory. `findMatch` may call the external directory, so it
 * runs before the transaction; `adopt` runs inside it (stores a directory provider, marks the assignment).
 */
export interface ProviderMatcher {
  findMatch(query: { location: string; specialty: string; excludeIds: string[] }): Promise<ProviderMatch>;
  adopt(trx: Db, match: Exclude<ProviderMatch, { kind: 'none' }>): Promise<TicketProviderView>;
}

export type ProviderMatch =
  | { kind: 'local'; source: 'local_specialty' | 'local_location'; providerId: string }
  | { kind: 'manual'; providerId: string }
  | { kind: 'directory'; entry: { name: string; phone: string; location?: string; specialties?: string[] } }
  | { kind: 'none' };

export interface TicketDeps {
  db: Db;
  tickets: TicketStore;
  outbox: Outbox;
  matcher: ProviderMatcher;
  media: MediaStorage;
  clock: Clock;
  logger: Logger;
  wakeDispatcher: () => void;
  defaultCountry: CountryCode;
  /** WHATSAPP_DEFAULT_TO, normalized; null = no center configured. */
  centerNumber: string | null;
  templateName: string | null;
  templateLanguage: string;
  includeReporterPhone: boolean;
  ticketLink: (ticketId: string) => string;
}

export interface UploadedFile {
  data: Buffer;
  filename: string | undefined;
}

export interface TicketCreated {
  ticket: TicketView;
  notification: { id: string; to: string; status: string } | null;
}

/**
 * The seed's ticket flow: find a provider (location + specialty → location → external directory →
 * nobody), store the files, then in ONE transaction the ticket, its media records, the assignment and the
 * outbox message (to the provider, or to the center). Sending happens afterwards; a WhatsApp failure never
 * undoes the ticket.
 */
export async function createTicket(
  deps: TicketDeps,
  input: TicketInput,
  files: UploadedFile[],
): Promise<TicketCreated> {
  const reporterPhone = normalizeReporterPhone(input, deps.defaultCountry);
  const inspected = await inspectFiles(files);
  const match = await deps.matcher.findMatch({
    location: input.location,
    specialty: input.specialty,
    excludeIds: [],
  });

  const ticketId = newId();
  const now = deps.clock.now();
  const mediaRows = await storeFiles(deps, ticketId, inspected, now);
  try {
    const result = await deps.db.transaction().execute(async (trx) => {
      const number = await deps.tickets.nextNumber(trx);
      await deps.tickets.insert(trx, {
        id: ticketId,
        number,
        title: emptyToNull(input.title),
        description: input.description.trim(),
        location: input.location.trim(),
        location_key: toMatchKey(input.location),
        specialty: input.specialty.trim(),
        specialty_key: toMatchKey(input.specialty),
        address: emptyToNull(input.address),
        reporter_name: emptyToNull(input.reporter?.name),
        reporter_phone: reporterPhone,
        status: 'unassigned',
        provider_id: null,
        match_source: 'center',
        created_at: now,
        updated_at: now,
      });
      await deps.tickets.insertMedia(trx, mediaRows);
      await deps.tickets.addEvent(trx, ticketId, 'created', { number, media: mediaRows.length });
      const content = notificationContent(deps, { ...input, number, reporterPhone }, ticketId);
      const notification = await assignAndNotify(deps, trx, ticketId, match, content);
      return { number, notification };
    });
    deps.wakeDispatcher();
    deps.logger.info(
      {
        event: 'ticket.created',
        ticketId,
        number: result.number,
        media: mediaRows.length,
        notificationId: result.notification?.id ?? null,
      },
      'ticket created',
    );
    const ticket = await deps.tickets.get(ticketId);
    if (ticket === null) throw new Error(`ticket ${ticketId} vanished after commit`);
    return { ticket, notification: result.notification };
  } catch (error) {
    await Promise.allSettled(mediaRows.map((row) => deps.media.delete(row.storage_key)));
    throw error;
  }
}

/** Offers the ticket to a chosen provider, or to the next match not tried yet (then the center). */
export async function reassignTicket(
  deps: TicketDeps,
  ticketId: string,
  request: { providerId?: string | undefined },
): Promise<TicketCreated> {
  const row = await deps.tickets.getRow(ticketId);
  if (row === null) throw new AppError('not_found', `Ticket ${ticketId} not found`);
  const tried = await deps.tickets.providersTried(ticketId);
  const match: ProviderMatch =
    request.providerId === undefined
      ? await deps.matcher.findMatch({ location: row.location, specialty: row.specialty, excludeIds: tried })
      : { kind: 'manual', providerId: request.providerId };
  const notification = await deps.db.transaction().execute(async (trx) => {
    await deps.tickets.addEvent(trx, ticketId, 'reassigned', {
      previousProviderId: row.provider_id,
      requestedProviderId: request.providerId ?? null,
    });
    const content = notificationContent(
      deps,
      {
        description: row.description,
        location: row.location,
        specialty: row.specialty,
        address: row.address ?? undefined,
        reporter: { name: row.reporter_name ?? undefined },
        number: row.number,
        reporterPhone: row.reporter_phone,
      },
      ticketId,
    );
    return assignAndNotify(deps, trx, ticketId, match, content);
  });
  deps.wakeDispatcher();
  const ticket = await deps.tickets.get(ticketId);
  if (ticket === null) throw new AppError('not_found', `Ticket ${ticketId} not found`);
  return { ticket, notification };
}

async function assignAndNotify(
  deps: TicketDeps,
  trx: Db,
  ticketId: string,
  match: ProviderMatch,
  content: NotificationContent,
): Promise<TicketCreated['notification']> {
  if (match.kind !== 'none') {
    const provider = await deps.matcher.adopt(trx, match);
    const source: MatchSource = match.kind === 'local' ? match.source : match.kind;
    const status: TicketStatus = 'notified';
    await deps.tickets.assign(trx, ticketId, { providerId: provider.id, status, matchSource: source });
    const message = composeProviderNotification(content, {
      templateName: deps.templateName,
      templateLanguage: deps.templateLanguage,
    });
    const row = await deps.outbox.enqueueInTransaction(trx, { to: provider.phone, message, ticketId });
    await deps.tickets.addEvent(trx, ticketId, 'provider_notified', {
      providerId: provider.id,
      providerName: provider.name,
      source,
      messageId: row.id,
    });
    deps.logger.info(
      {
        event: 'ticket.provider_notified',
        ticketId,
        providerId: provider.id,
        source,
        to: maskPhoneNumber(provider.phone),
      },
      'provider notified',
    );
    return { id: row.id, to: row.recipient, status: row.status };
  }
  await deps.tickets.assign(trx, ticketId, { providerId: null, status: 'unassigned', matchSource: 'center' });
  if (deps.centerNumber === null) {
    await deps.tickets.addEvent(trx, ticketId, 'no_provider', { centerNotified: false });
    deps.logger.warn(
      { event: 'ticket.no_center', ticketId },
      'no provider matched and WHATSAPP_DEFAULT_TO is not set',
    );
    return null;
  }
  const reason = `Ningún proveedor disponible para ${content.location} / ${content.specialty}.`;
  const row = await deps.outbox.enqueueInTransaction(trx, {
    to: deps.centerNumber,
    message: composeCenterNotification(content, reason),
    // Outside the center's 24-hour window only a template is delivered: the new-ticket one carries the facts.
    fallback:
      deps.templateName === null
        ? null
        : composeProviderNotification(content, {
            templateName: deps.templateName,
            templateLanguage: deps.templateLanguage,
          }),
    ticketId,
  });
  await deps.tickets.addEvent(trx, ticketId, 'center_notified', { messageId: row.id });
  return { id: row.id, to: row.recipient, status: row.status };
}

function notificationContent(
  deps: TicketDeps,
  ticket: TicketInput & { number: string; reporterPhone: string | null },
  ticketId: string,
): NotificationContent {
  return {
    number: ticket.number,
    location: ticket.location.trim(),
    address: emptyToNull(ticket.address),
    specialty: ticket.specialty.trim(),
    description: ticket.description.trim(),
    reporterName: emptyToNull(ticket.reporter?.name),
    reporterPhone: deps.includeReporterPhone ? ticket.reporterPhone : null,
    link: deps.ticketLink(ticketId),
  };
}

function normalizeReporterPhone(input: TicketInput, country: CountryCode): string | null {
  const raw = input.reporter?.phone?.trim();
  if (raw === undefined || raw === '') return null;
  const phone = normalizePhoneNumber(raw, country);
  if (!phone.ok)
    throw new AppError('invalid_phone_number', `Invalid phone number: ${phone.reason}`, {
      field: 'reporter.phone',
    });
  return phone.digits;
}

type InspectedFile = { data: Buffer; contentType: string; extension: string; safeFilename: string };

async function inspectFiles(files: UploadedFile[]): Promise<InspectedFile[]> {
  const inspected: InspectedFile[] = [];
  for (const [index, file] of files.entries()) {
    const result = await inspectUpload({ data: file.data, declaredFilename: file.filename });
    if (!result.ok)
      throw new AppError(result.code, result.message, {
        field: `media[${index}]`,
        filename: file.filename ?? null,
      });
    inspected.push({
      data: file.data,
      contentType: result.contentType,
      extension: result.extension,
      safeFilename: result.safeFilename,
    });
  }
  return inspected;
}

async function storeFiles(
  deps: TicketDeps,
  ticketId: string,
  files: InspectedFile[],
  now: number,
): Promise<TicketMediaRow[]> {
  const rows: TicketMediaRow[] = [];
  try {
    for (const file of files) {
      const id = newId();
      // Keys are ours alone: the user's file name is only a display name.
      const key = `tickets/${ticketId}/${id}.${file.extension}`;
      await deps.media.put(key, file.data, file.contentType);
      rows.push({
        id,
        ticket_id: ticketId,
        storage_key: key,
        filename: file.safeFilename,
        content_type: file.contentType,
        size: file.data.length,
        sha256: createHash('sha256').update(file.data).digest('hex'),
        created_at: now,
      });
    }
    return rows;
  } catch (error) {
    await Promise.allSettled(rows.map((row) => deps.media.delete(row.storage_key)));
    throw error;
  }
}

function emptyToNull(value: string | null | undefined): string | null {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === '' ? null : trimmed;
}
