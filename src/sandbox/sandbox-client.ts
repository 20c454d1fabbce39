import type { InboxMessage, RecipientSummary } from './inbox.js';
import type { SandboxStats } from './sandbox-state.js';
import type { Scenario, ScenarioInput } from './scenarios.js';
import type { CallbackDataCount } from './send-stats.js';

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

  clearInbox(): Promise<{ cleared: number }> {
    return this.call('DELETE', '/sandbox/inbox');
  }

  stats(): Promise<SandboxStats> {
    return this.call('GET', '/sandbox/stats');
  }

  duplicates(limit?: number): Promise<DuplicateReport> {
    return this.call('GET', `/sandbox/stats/duplicates${limit === undefined ? '' : `?limit=${limit}`}`);
  }

  addScenario(input: ScenarioInput): Promise<Scenario> {
    return this.call('POST', '/sandbox/scenarios', input);
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
