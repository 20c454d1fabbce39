import type { WireTemplateComponent } from './wire-types.js';

/**
 * The port the rest of the service uses to talk to WhatsApp. The one adapter is the Cloud API client
 * (cloud-api-client.ts); in sandbox mode it simply points at the in-process emulator.
 */
export interface WhatsAppClient {
  /** Sends one message. Never throws for API, network or timeout failures: they come back as values. */
  sendMessage(request: SendRequest): Promise<SendResult>;
  /** Uploads a file to Meta's media store; the id can then be sent as `{ kind: 'image', mediaId }`. */
  uploadMedia(upload: MediaUpload): Promise<UploadResult>;
}

export type OutgoingMessage =
  | { kind: 'text'; body: string; previewUrl?: boolean }
  | {
      kind: 'template';
      name: string;
      language: string;
      /** Already in Meta's component shape (header/body/button parameters). */
      components?: WireTemplateComponent[];
    }
  | { kind: 'image'; mediaId?: string; link?: string; caption?: string }
  | { kind: 'document'; mediaId?: string; link?: string; caption?: string; filename?: string }
  | {
      kind: 'interactive';
      body: string;
      header?: string;
      footer?: string;
      buttons: { id: string; title: string }[];
    };

export type OutgoingMessageKind = OutgoingMessage['kind'];

export interface SendRequest {
  /** Recipient as digits with country code, no `+` (e.g. `573103055424`). */
  to: string;
  message: OutgoingMessage;
  /** Echoed by Meta in status webhooks (`biz_opaque_callback_data`); we put our message id here. */
  callbackData?: string;
  /**
   * performance.now() after which the request must not start going out (the throughput cap's slot ends
   * then: ThroughputLimiter's `startBy`). Checked when the request would be written to a connection; past
   * it nothing is written and the result is a `late_start` failure. Unset: no deadline.
   */
  startBy?: number;
}

export type SendResult =
  | { ok: true; wamid: string; waId: string | null }
  | { ok: false; failure: SendFailure };

export interface MediaUpload {
  data: Uint8Array;
  mimeType: string;
  filename: string;
}

export type UploadResult = { ok: true; mediaId: string } | { ok: false; failure: SendFailure };

/**
 * Why a call to Meta did not succeed. `kind` says what happened on the wire; classification into
 * retry classes lives in graph-error.ts and decides on `whatsappCode`, never on HTTP status or text
 * (except where Meta gave no code at all).
 */
export interface SendFailure {
  /**
   * - `graph_error`: Meta answered with its JSON error envelope (`whatsappCode` is set).
   * - `http_error`: a non-2xx answer without a Graph error body (e.g. an HTML 502 from the edge).
   * - `invalid_response`: a 2xx answer we could not understand.
   * - `network`: the connection failed before an answer.
   * - `timeout`: no answer within the client's timeout (the request may have reached Meta).
   * - `late_start`: not sent at all: it could not start by the request's `startBy` (never ambiguous).
   */
  kind: 'graph_error' | 'http_error' | 'invalid_response' | 'network' | 'timeout' | 'late_start';
  httpStatus: number | null;
  whatsappCode: number | null;
  /** Meta's message/title, or a short description of the transport failure. Never contains secrets. */
  message: string;
  /** Meta's `error_data.details`. */
  details: string | null;
  fbtraceId: string | null;
  /** From a `Retry-After` header, in milliseconds. */
  retryAfterMs: number | null;
  /** True when the request may have been processed by Meta although we got no answer. */
  isAmbiguous: boolean;
}
