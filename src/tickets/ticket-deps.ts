import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { DatabaseSchema } from '../db/schema.js';
import type { MediaStorage } from '../media/media-storage.js';
import type { Outbox } from '../messages/outbox.js';
import type { RankingPolicy } from '../providers/provider-ranking.js';
import type { Clock } from '../shared/clock.js';
import type { CountryCode } from '../whatsapp/phone-number.js';
import type { OfferTimeouts } from './assignment.js';
import type { AssignmentStore } from './assignment-store.js';
import type { TicketProviderView } from './ticket.js';
import type { TicketStore } from './ticket-store.js';

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

/** Everything the ticket flows (create, reassign, the accept/decline loop) work with; built in app.ts. */
export interface TicketDeps {
  db: Db;
  tickets: TicketStore;
  assignments: AssignmentStore;
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
  /** NOTIFY_REPORTER: tell the reporter who accepted. */
  notifyReporter: boolean;
  ticketLink: (ticketId: string) => string;
  /** A link Meta can fetch a ticket file from (signed, expiring). */
  mediaLink: (ticketId: string, mediaId: string) => string;
  offerTimeouts: OfferTimeouts;
  ranking: RankingPolicy;
}
