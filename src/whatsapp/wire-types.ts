/**
 * Shapes of Meta's WhatsApp Cloud API on the wire (Graph API), as documented in
 * shared/whatsapp-cloud-api.md. Shared by the client (src/whatsapp) and the emulator (src/sandbox):
 * this file must import nothing.
 */

/** Outbound message types this service sends. */
export type OutboundMessageType = 'text' | 'template' | 'image' | 'document' | 'interactive';

export interface WireTextBody {
  preview_url?: boolean;
  body: string;
}

export interface WireMediaObject {
  /** Exactly one of id | link. */
  id?: string;
  link?: string;
  caption?: string;
  /** Documents only. */
  filename?: string;
}

export interface WireTemplateParameter {
  type: 'text' | 'payload' | 'image' | 'document' | 'video' | 'currency' | 'date_time';
  text?: string;
  payload?: string;
  parameter_name?: string;
  image?: WireMediaObject;
  document?: WireMediaObject;
  video?: WireMediaObject;
}

export interface WireTemplateComponent {
  type: 'header' | 'body' | 'button';
  sub_type?: 'quick_reply' | 'url';
  index?: string;
  parameters?: WireTemplateParameter[];
}

export interface WireTemplate {
  name: string;
  language: { code: string; policy?: 'deterministic' };
  components?: WireTemplateComponent[];
}

export interface WireReplyButton {
  type: 'reply';
  reply: { id: string; title: string };
}

export interface WireInteractive {
  type: 'button';
  header?: { type: 'text'; text: string };
  body: { text: string };
  footer?: { text: string };
  action: { buttons: WireReplyButton[] };
}

/** Body of `POST /{version}/{phone-number-id}/messages`. */
export interface WireSendMessageRequest {
  messaging_product: 'whatsapp';
  recipient_type?: 'individual';
  to: string;
  type: OutboundMessageType;
  text?: WireTextBody;
  template?: WireTemplate;
  image?: WireMediaObject;
  document?: WireMediaObject;
  interactive?: WireInteractive;
  context?: { message_id: string };
  biz_opaque_callback_data?: string;
}

/** 200 answer to a send. */
export interface WireSendMessageResponse {
  messaging_product: 'whatsapp';
  contacts: { input: string; wa_id: string }[];
  messages: { id: string; message_status?: 'accepted' | 'held_for_quality_assessment' }[];
}

/** 200 answer to `POST /{version}/{phone-number-id}/media`. */
export interface WireMediaUploadResponse {
  id: string;
}

/** 200 answer to `GET /{version}/{media-id}`. */
export interface WireMediaInfoResponse {
  messaging_product: 'whatsapp';
  url: string;
  mime_type: string;
  sha256: string;
  file_size: string;
  id: string;
}

/** The `error` object of a synchronous Graph failure (HTTP 4xx/5xx). */
export interface WireGraphError {
  message: string;
  type?: string;
  code: number;
  error_subcode?: number;
  error_data?: { messaging_product?: 'whatsapp'; details?: string };
  fbtrace_id?: string;
}

export interface WireGraphErrorResponse {
  error: WireGraphError;
}

/** Error objects inside webhooks (statuses[].errors[], value.errors[]). */
export interface WireWebhookError {
  code: number;
  title: string;
  message?: string;
  error_data?: { details?: string };
  href?: string;
}

export type WireStatusName = 'sent' | 'delivered' | 'read' | 'failed';

export interface WireStatus {
  id: string;
  status: WireStatusName;
  /** Unix seconds, as a string. */
  timestamp: string;
  recipient_id?: string;
  biz_opaque_callback_data?: string;
  pricing?: { billable?: boolean; pricing_model?: string; type?: string; category?: string };
  errors?: WireWebhookError[];
}

export interface WireInboundMessage {
  from: string;
  id: string;
  timestamp: string;
  type: string;
  context?: { from?: string; id?: string };
  text?: { body: string };
  button?: { payload: string; text: string };
  interactive?: {
    type: 'button_reply' | 'list_reply';
    button_reply?: { id: string; title: string };
    list_reply?: { id: string; title: string; description?: string };
  };
  image?: { id: string; mime_type: string; sha256?: string; caption?: string };
}

export interface WireWebhookValue {
  messaging_product: 'whatsapp';
  metadata: { display_phone_number: string; phone_number_id: string };
  contacts?: { profile?: { name?: string }; wa_id: string }[];
  messages?: WireInboundMessage[];
  statuses?: WireStatus[];
  errors?: WireWebhookError[];
}

/** Body of a webhook POST from Meta. */
export interface WireWebhookPayload {
  object: 'whatsapp_business_account';
  entry: { id: string; changes: { field: string; value: WireWebhookValue }[] }[];
}
