import { createHash } from 'node:crypto';
import { inspectUpload } from '../media/inspect-upload.js';
import { toMatchKey } from '../providers/match-key.js';
import { AppError } from '../shared/error-codes.js';
import { newId } from '../shared/ids.js';
import { normalizePhoneNumber, type CountryCode } from '../whatsapp/phone-number.js';
import { handOn, offerTicket, type OfferResult } from './assignment-flow.js';
import type { TicketInput, TicketView } from './ticket.js';
import type { TicketDeps } from './ticket-deps.js';
import type { TicketMediaRow, TicketRow } from './ticket-store.js';

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
      const row: TicketRow = {
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
        current_assignment_id: null,
      };
      await deps.tickets.insert(trx, row);
      await deps.tickets.insertMedia(trx, mediaRows);
      await deps.tickets.addEvent(trx, ticketId, 'created', { number, media: mediaRows.length });
      const { notification } = await offerTicket(deps, trx, row, match, 'created');
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

/**
 * Offers the ticket to a chosen provider, or to the next match not tried yet (then the center). An offer
 * still open is superseded: its buttons stop counting.
 */
export async function reassignTicket(
  deps: TicketDeps,
  ticketId: string,
  request: { providerId?: string | undefined },
): Promise<TicketCreated> {
  const row = await deps.tickets.getRow(ticketId);
  if (row === null) throw new AppError('not_found', `Ticket ${ticketId} not found`);
  const from = row.current_assignment_id;
  await deps.db.transaction().execute(async (trx) => {
    if (from !== null) await deps.assignments.resolve(trx, from, 'superseded', deps.clock.now());
    await deps.tickets.addEvent(trx, ticketId, 'reassigned', {
      previousProviderId: row.provider_id,
      previousAssignmentId: from,
      requestedProviderId: request.providerId ?? null,
    });
  });
  const result: OfferResult | null = await handOn(deps, ticketId, from, 'reassigned', request);
  if (result === null) {
    throw new AppError('ticket_changed', 'The ticket changed while it was being reassigned; try again', {
      ticketId,
    });
  }
  const ticket = await deps.tickets.get(ticketId);
  if (ticket === null) throw new AppError('not_found', `Ticket ${ticketId} not found`);
  return { ticket, notification: result.notification };
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
