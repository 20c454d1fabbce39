/**
 * A maintenance ticket and its life (the accept/decline loop, src/tickets/assignment-flow.ts):
 *   notified   offered to a provider, waiting for Aceptar / Rechazar until the offer's deadline
 *   accepted   a provider accepted, or the center took it (Tomar)
 *   unassigned nobody matched at creation; the center was offered it, or no center is configured
 *   escalated  every candidate declined, let the offer expire or could not be reached; the center has it
 *   declined   the same, with no center configured: a person must reassign it
 */
export const TICKET_STATUSES = ['notified', 'unassigned', 'accepted', 'declined', 'escalated'] as const;
export type TicketStatus = (typeof TICKET_STATUSES)[number];

export type MatchSource = 'local_specialty' | 'local_location' | 'directory' | 'center' | 'manual';

export interface TicketInput {
  description: string;
  location: string;
  specialty: string;
  title?: string | undefined;
  address?: string | undefined;
  reporter?: { name?: string | undefined; phone?: string | undefined } | undefined;
}

export interface TicketProviderView {
  id: string;
  name: string;
  phone: string;
  location: string;
  specialties: string[];
}

export interface TicketMediaView {
  id: string;
  filename: string;
  contentType: string;
  size: number;
  url: string;
}

export interface TicketNotificationView {
  id: string;
  to: string;
  status: string;
  messageId: string | null;
  attempts: number;
  lastError: { code: string; message: string; whatsappCode: number | null } | null;
  createdAt: string;
  events?: { status: string; at: string; detail: Record<string, unknown> | null }[];
}

export interface TicketEventView {
  type: string;
  at: string;
  detail: Record<string, unknown> | null;
}

export interface TicketAssignmentView {
  id: string;
  kind: 'provider' | 'center';
  status: string;
  providerId: string | null;
  offeredAt: string;
  deadlineAt: string | null;
  answeredAt: string | null;
}

export interface TicketView {
  id: string;
  number: string;
  title: string | null;
  description: string;
  location: string;
  specialty: string;
  address: string | null;
  reporter: { name: string | null; phone: string | null };
  status: TicketStatus;
  matchSource: MatchSource;
  provider: TicketProviderView | null;
  createdAt: string;
  updatedAt: string;
  media?: TicketMediaView[];
  notifications?: TicketNotificationView[];
  /** The offer in force (null before any offer or with nobody to offer it to). */
  assignment?: TicketAssignmentView | null;
  history?: TicketEventView[];
}

/** `T-2026-00042`: year and a per-year sequence. */
export function formatTicketNumber(year: number, sequence: number): string {
  return `T-${year}-${String(sequence).padStart(5, '0')}`;
}
