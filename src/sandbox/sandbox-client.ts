import type { InboxItem, InboxMessage, InboxReply, RecipientSummary } from './inbox.js';
import type { ReplyBody } from './phone-replies.js';
import type { SandboxStats } from './sandbox-state.js';
import type { FaultMix, Scenario, ScenarioInput } from './scenarios.js';
import type { CallbackDataCount } from './send-stats.js';
import type { WebhookFault, WebhookFaultInput } from './webhook-faults.js';
import type { WebhookDelivery } from './webhook-sender.js';

export interface InboxListing {
  numbers: RecipientSummary[];
  storedMessages: number;
}

export interface DuplicateReport {
  /** Accepted sends whose callback data had been accepted before. */
  duplicateAccepts: number;
  /** Distinct callback data values accepted more than once (still tracked). */
  distinctDuplicates: number;
  /** At most `limit` (default 1,000) of them. */
  duplicates: CallbackDataCount[];
}

export interface WebhookLog {
  configured: boolean;
  url: string | null;
  pending: number;
  /** The last 200, oldest first. */
  deliveries: WebhookDelivery[];
}

export interface ReplyAnswer {
  wamid: string;
  delivered: boolean;
  reply: InboxReply;
}

/**
 * A typed client for the `/sandbox` control API, for tests and benchmarks that run the sandbox in
 * another process (in-process code can use `SandboxState` directly).
 */
export class SandboxControlClient {
  constructor(
    private readonly baseUrl: string,
    private readonly fetchFn: typeof fetch = fetch,
  ) {}

  inbox(): Promise<InboxListing> {
    return this.call('GET', '/sandbox/inbox');
  }

  async messagesFor(waId: string): Promise<InboxMessage[]> {
    const body = await this.call<{ messages: InboxMessage[] }>(
      'GET',
      `/sandbox/inbox/${encodeURIComponent(waId)}`,
    );
    return body.messages;
  }

  /** Messages and replies, in the order they happened. */
  async conversation(waId: string): Promise<InboxItem[]> {
    const body = await this.call<{ conversation: InboxItem[] }>(
      'GET',
      `/sandbox/inbox/${encodeURIComponent(waId)}`,
    );
    return body.conversation;
  }

  /** Be the phone: write a text or tap a button; resolves once the inbound webhook settled. */
  reply(waId: string, body: ReplyBody): Promise<ReplyAnswer> {
    return this.call('POST', `/sandbox/inbox/${encodeURIComponent(waId)}/reply`, body);
  }

  webhooks(): Promise<WebhookLog> {
    return this.call('GET', '/sandbox/webhooks');
  }

  /** Resolves once no webhook is scheduled or pending; rejects if still busy after `timeoutMs`. */
  webhooksIdle(timeoutMs?: number): Promise<{ idle: true }> {
    return this.call(
      'GET',
      `/sandbox/webhooks/idle${timeoutMs === undefined ? '' : `?timeoutMs=${timeoutMs}`}`,
    );
  }

  addWebhookFault(input: WebhookFaultInput): Promise<WebhookFault> {
    return this.call('POST', '/sandbox/webhook-faults', input);
  }

  async webhookFaults(): Promise<WebhookFault[]> {
    return (await this.call<{ faults: WebhookFault[] }>('GET', '/sandbox/webhook-faults')).faults;
  }

  removeWebhookFault(id: string): Promise<{ deleted: string }> {
    return this.call('DELETE', `/sandbox/webhook-faults/${encodeURIComponent(id)}`);
  }

  clearWebhookFaults(): Promise<{ cleared: number }> {
    return this.call('DELETE', '/sandbox/webhook-faults');
  }

  clearInbox(): Promise<{ cleared: number }> {
    return this.call('DELETE', '/sandbox/inbox');
  }

  stats(): Promise<SandboxStats> {
    return this.call('GET', '/sandbox/stats');
  }

  /** Zeroes the send counters and the event-loop lag. */
  resetStats(): Promise<{ reset: true }> {
    return this.call('DELETE', '/sandbox/stats');
  }

  duplicates(limit?: number): Promise<DuplicateReport> {
    return this.call('GET', `/sandbox/stats/duplicates${limit === undefined ? '' : `?limit=${limit}`}`);
  }

  addScenario(input: ScenarioInput): Promise<Scenario> {
    return this.call('POST', '/sandbox/scenarios', input);
  }

  /** A fault mix: each send hits at most one fault, `mix[fault]` of all sends hit `fault`. */
  async addScenarioMix(mix: FaultMix, options: { to?: string; delayMs?: number } = {}): Promise<Scenario[]> {
    return (await this.call<{ scenarios: Scenario[] }>('POST', '/sandbox/scenarios/mix', { mix, ...options }))
      .scenarios;
  }

  async scenarios(): Promise<Scenario[]> {
    return (await this.call<{ scenarios: Scenario[] }>('GET', '/sandbox/scenarios')).scenarios;
  }

  removeScenario(id: string): Promise<{ deleted: string }> {
    return this.call('DELETE', `/sandbox/scenarios/${encodeURIComponent(id)}`);
  }

  clearScenarios(): Promise<{ cleared: number }> {
    return this.call('DELETE', '/sandbox/scenarios');
  }

  reset(): Promise<{ reset: true }> {
    return this.call('POST', '/sandbox/reset');
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await this.fetchFn(this.baseUrl + path, {
      method,
      ...(body === undefined
        ? {}
        : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`sandbox ${method} ${path} answered ${response.status}: ${text}`);
    // The control API's shapes are defined by control-routes.ts in this folder.
    return JSON.parse(text) as T;
  }
}
