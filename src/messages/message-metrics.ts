/**
 * What the messages module reports for `/metrics`. It knows no metrics library: app.ts hands in an
 * implementation (src/metrics), and anything built without one gets the no-op.
 */
export type SendOutcome = 'sent' | 'retrying' | 'failed';

export interface MessageMetrics {
  /** A send attempt's outcome was recorded; `latencyMs` is the Graph request alone (null: none was made). */
  onSendResult(result: {
    outcome: SendOutcome;
    /** Our error code (`whatsapp_transient`, `attempts_exhausted`, …), null when sent. */
    errorCode: string | null;
    whatsappCode: number | null;
    latencyMs: number | null;
  }): void;
  /** A webhook status moved a message forward (delivered, read, failed, …). */
  onStatusChange(change: { status: string; whatsappCode: number | null }): void;
  /** One event parsed from a stored webhook delivery. */
  onWebhookEvent(type: 'status' | 'inbound' | 'account_error'): void;
  /** Claims that expired (their process died mid-send) were handed back to the queue. */
  onLeasesReclaimed(count: number): void;
  /** A send could not start within its throughput slot; nothing was sent and it took a new slot. */
  onLateStart(): void;
}

export const NO_MESSAGE_METRICS: MessageMetrics = {
  onSendResult: () => undefined,
  onStatusChange: () => undefined,
  onWebhookEvent: () => undefined,
  onLeasesReclaimed: () => undefined,
  onLateStart: () => undefined,
};
