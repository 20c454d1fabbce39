/**
 * A maintenance ticket and its life:
 *   notified   a provider was matched and their message queued
 *   unassigned nobody matched; the center (WHATSAPP_DEFAULT_TO) was told, or no center is configured
 *   accepted / declined / escalated come with the accept/decline loop.
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
  history?: TicketEventView[];
}

/** `T-2026-00042`: year and a per-year sequence. */
export function formatTicketNumber(year: number, sequence: number): string {
  return `T-${year}-${String(sequence).padStart(5, '0')}`;
}
