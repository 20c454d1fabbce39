/** What the UI reads from the API (src/http/contract is the source of truth; only the fields used). */

export type Role = 'admin' | 'operator';

export interface User {
  id: string;
  email: string;
  role: Role;
}

export interface SessionInfo {
  user: User;
  sandbox: boolean;
}

export interface Provider {
  id: string;
  name: string;
  phone: string;
  location: string;
  specialties: string[];
  active: boolean;
  source: 'local' | 'directory';
  lastAssignedAt: string | null;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** One step of a ticket's history (the accept/decline loop's, too); who and what are in `detail`. */
export interface TicketEvent {
  type: string;
  at: string;
  detail: Record<string, unknown> | null;
}

export interface Notification {
  id: string;
  to: string;
  status: string;
  messageId: string | null;
  attempts: number;
  lastError: { code: string; message: string; whatsappCode: number | null } | null;
  createdAt: string;
  events?: { status: string; at: string; detail: Record<string, unknown> | null }[];
}

export interface Ticket {
  id: string;
  number: string;
  title: string | null;
  description: string;
  location: string;
  specialty: string;
  address: string | null;
  reporter: { name: string | null; phone: string | null };
  status: string;
  matchSource: string;
  provider: { id: string; name: string; phone: string; location: string; specialties: string[] } | null;
  createdAt: string;
  updatedAt: string;
  media?: { id: string; filename: string; contentType: string; size: number; url: string }[];
  notifications?: Notification[];
  history?: TicketEvent[];
  /** The offer in force (accept/decline loop). */
  assignment?: {
    id: string;
    kind: 'provider' | 'center';
    status: string;
    providerId: string | null;
    offeredAt: string;
    deadlineAt: string | null;
    answeredAt: string | null;
  } | null;
}

export interface Message {
  id: string;
  direction: 'outbound' | 'inbound';
  to: string;
  kind: string;
  status: string;
  messageId: string | null;
  attempts: number;
  ticketId: string | null;
  lastError: { code: string; message: string; whatsappCode: number | null } | null;
  createdAt: string;
  updatedAt: string;
}

export interface ImportReport {
  total: number;
  created: number;
  updated: number;
  refused: { row: number; reason: string; field?: string }[];
  dryRun: boolean;
}

export interface InboxSummary {
  waId: string;
  stored: number;
  accepted: number;
  lastReceivedAt: string | null;
  replies: number;
}

/** A conversation item of the sandbox phone: what the business sent, or what the person answered. */
export interface ConversationItem {
  direction: 'outbound' | 'inbound';
  wamid: string;
  waId: string;
  receivedAt: string;
  type: string;
  status?: string;
  text?: string;
  /** Business messages: the buttons the phone shows (reply buttons or template quick replies). */
  buttons?: { index: number; title: string }[];
  request?: {
    type: string;
    text?: { body: string };
    image?: { id?: string; link?: string; caption?: string };
    document?: { id?: string; link?: string; caption?: string; filename?: string };
    template?: {
      name: string;
      language: { code: string };
      components?: {
        type: string;
        sub_type?: string;
        index?: string;
        parameters?: { type: string; text?: string; payload?: string }[];
      }[];
    };
    interactive?: {
      type: string;
      header?: { text: string };
      body: { text: string };
      footer?: { text: string };
      action: { buttons: { type: string; reply: { id: string; title: string } }[] };
    };
  };
}
