import type { Generated } from 'kysely';

/** Table types for Kysely. Times are Unix epoch milliseconds; JSON columns hold text. */
export interface DatabaseSchema {
  messages: MessagesTable;
  message_events: MessageEventsTable;
  recipient_holds: RecipientHoldsTable;
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
