import type { Generated } from 'kysely';

/** Table types for Kysely. Times are Unix epoch milliseconds; JSON columns hold text. */
export interface DatabaseSchema {
  messages: MessagesTable;
  message_events: MessageEventsTable;
  recipient_holds: RecipientHoldsTable;
  providers: ProvidersTable;
  provider_specialties: ProviderSpecialtiesTable;
  tickets: TicketsTable;
  ticket_media: TicketMediaTable;
  ticket_events: TicketEventsTable;
  ticket_counters: TicketCountersTable;
  webhook_deliveries: WebhookDeliveriesTable;
  message_status_updates: MessageStatusUpdatesTable;
  conversation_windows: ConversationWindowsTable;
  assignments: AssignmentsTable;
  users: UsersTable;
  sessions: SessionsTable;
}

export interface MessagesTable {
  id: string;
  direction: 'outbound' | 'inbound';
  phone_number_id: string;
  recipient: string;
  kind: string;
  /** JSON of the OutgoingMessage. */
  payload: string;
  status: string;
  attempts: Generated<number>;
  wamid: string | null;
  idempotency_key: string | null;
  request_hash: string | null;
  ticket_id: string | null;
  /** JSON of MessageError, or null. */
  last_error: string | null;
  next_attempt_at: number;
  lease_owner: string | null;
  lease_expires_at: number | null;
  created_at: number;
  updated_at: number;
  /** JSON of a template OutgoingMessage to send instead if Meta refuses this one outside the window (131047). */
  fallback_payload: string | null;
}

export interface MessageEventsTable {
  id: string;
  message_id: string;
  status: string;
  at: number;
  /** JSON, or null. */
  detail: string | null;
}

/** Per-recipient pause after Meta's pair rate limit (131056): 4^failures seconds. */
export interface RecipientHoldsTable {
  recipient: string;
  until: number;
  failures: number;
}

export interface ProvidersTable {
  id: string;
  name: string;
  /** Digits with country code (E.164 without +). Unique. */
  phone: string;
  location: string;
  /** Lowercase, accents and surrounding spaces removed: what matching compares. */
  location_key: string;
  /** JSON array of the specialties as written. */
  specialties: string;
  /** 1 = active, 0 = inactive (portable boolean). */
  active: number;
  source: 'local' | 'directory';
  last_assigned_at: number | null;
  created_at: number;
  updated_at: number;
  /** Offers this provider accepted, declined, or let expire (or could not receive). */
  offers_accepted: Generated<number>;
  offers_declined: Generated<number>;
  offers_expired: Generated<number>;
  /** Sum over resolved offers of what each cost in waiting (see src/tickets/provider-ranking.ts). */
  answer_cost_ms: Generated<number | string>;
  /** Expected minutes until acceptance; null = no history yet. Lower ranks first among equal matches. */
  rank_minutes: number | null;
}

export interface ProviderSpecialtiesTable {
  provider_id: string;
  specialty_key: string;
}

export interface TicketsTable {
  id: string;
  /** Human number, e.g. T-2026-00042. */
  number: string;
  title: string | null;
  description: string;
  location: string;
  location_key: string;
  specialty: string;
  specialty_key: string;
  address: string | null;
  reporter_name: string | null;
  reporter_phone: string | null;
  status: string;
  provider_id: string | null;
  /** local_specialty | local_location | directory | center */
  match_source: string;
  created_at: number;
  updated_at: number;
  /** The offer in force (assignments.id); null before the first offer or with no center. */
  current_assignment_id: Generated<string | null>;
}

export interface AssignmentsTable {
  id: string;
  ticket_id: string;
  /** provider | center */
  kind: string;
  provider_id: string | null;
  /** Digits with country code: the only number whose taps count. */
  recipient: string;
  /** Random, unique; carried in the button payloads (`accept:<token>`). */
  reply_token: string;
  /** offered | accepted | declined | expired | failed | superseded | taken */
  status: string;
  /** The outbox message that carried the offer. */
  message_id: string | null;
  offered_at: number;
  /** When an unanswered offer expires; null for the center's (it waits for Tomar). */
  deadline_at: number | null;
  answered_at: number | null;
  updated_at: number;
}

export interface TicketMediaTable {
  id: string;
  ticket_id: string;
  storage_key: string;
  /** Sanitized display name (never used as a path). */
  filename: string;
  /** Sniffed from the bytes, not taken from the client. */
  content_type: string;
  size: number;
  sha256: string;
  created_at: number;
}

export interface TicketEventsTable {
  id: string;
  ticket_id: string;
  type: string;
  at: number;
  detail: string | null;
}

export interface TicketCountersTable {
  year: number;
  value: number;
}

/** A webhook POST from Meta, stored before we answer 200. */
export interface WebhookDeliveriesTable {
  id: string;
  received_at: number;
  /** The raw body (already signature-checked). */
  body: string;
  processed_at: number | null;
  attempts: number;
  lease_expires_at: number | null;
  last_error: string | null;
}

/** One (wamid, status) from Meta, kept once; `message_id` is null until the wamid is known. */
export interface MessageStatusUpdatesTable {
  wamid: string;
  status: string;
  message_id: string | null;
  callback_data: string | null;
  /** Meta's timestamp. */
  at: number;
  detail: string | null;
  received_at: number;
}

/** When a number last wrote to us: its 24-hour customer service window. */
export interface ConversationWindowsTable {
  phone: string;
  last_inbound_at: number;
}

/** A person who logs in to the web app. */
export interface UsersTable {
  id: string;
  /** Lowercased. Unique. */
  email: string;
  /** argon2id PHC string. */
  password_hash: string;
  role: 'admin' | 'operator';
  /** 1 = may log in, 0 = disabled (portable boolean). */
  active: number;
  created_at: number;
  updated_at: number;
}

/** A logged-in browser: the sha256 of its random session id, never the id itself. */
export interface SessionsTable {
  id_hash: string;
  user_id: string;
  created_at: number;
  expires_at: number;
}
