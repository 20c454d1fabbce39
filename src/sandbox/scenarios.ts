import { graphFailure, type GraphErrorCode, type GraphFailure } from './graph-errors.js';
import type { AsyncErrorName } from './webhook-payloads.js';

/** Named failures a test can ask the sandbox to produce on send requests. */
export const FAULT_NAMES = [
  'server_error',
  'service_unavailable',
  'html_502',
  'throughput',
  'pair_rate',
  'reengagement',
  'not_allowed',
  'token_expired',
  'undeliverable',
  'slow',
  // Held open without an answer; the client times out. Meta never got it (nothing stored).
  'hang',
  // Accepted and stored, then held open without an answer: Meta has the message, the client times
  // out and does not know (the "answer lost after sending" case; a retry is an expected duplicate).
  'lost_answer',
  // Accepted (200 + wamid), then a `failed` status webhook: 131026 / 131047.
  'undeliverable_async',
  'reengagement_async',
] as const;

export type FaultName = (typeof FAULT_NAMES)[number];

export interface ScenarioInput {
  fault: FaultName;
  /** Only sends to this number (digits; `+` and punctuation ignored). Without it, any recipient. */
  to?: string;
  /** Apply to this many matching sends, then disappear. Without it, until deleted. */
  next?: number;
  /** Chance (0–1) that a matching send is hit; a miss does not consume `next`. Default 1. */
  probability?: number;
  /** `slow` only: how long to wait before the successful answer. Default 1000. */
  delayMs?: number;
}

export interface Scenario {
  id: string;
  fault: FaultName;
  to: string | null;
  /** Uses left; null = until deleted. */
  remaining: number | null;
  probability: number;
  delayMs: number;
  /** How many sends it has hit so far. */
  applied: number;
  createdAt: string;
}

/** What the send route must do instead of (or before) accepting a message. */
export type FaultOutcome =
  | { kind: 'graph_error'; failure: GraphFailure }
  | { kind: 'html'; httpStatus: number; body: string }
  | { kind: 'slow'; delayMs: number }
  | { kind: 'hang' }
  /** Accept the message, then hold the request open and never answer. */
  | { kind: 'lost_answer' }
  /** Accept the message, then report it `failed` with this error by webhook. */
  | { kind: 'async_failure'; error: AsyncErrorName };

const DEFAULT_SLOW_DELAY_MS = 1000;
const MAX_DELAY_MS = 10 * 60 * 1000;

const HTML_502 =
  '<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>';

type GraphFaultName = Exclude<
  FaultName,
  'html_502' | 'slow' | 'hang' | 'lost_answer' | 'undeliverable_async' | 'reengagement_async'
>;

/** Meta's code, wording and extras for each fault answered with a Graph error body. */
const GRAPH_FAULTS: Record<
  GraphFaultName,
  { code: GraphErrorCode; details: string; subcode?: number; headers?: Record<string, string> }
> = {
  server_error: { code: 131000, details: 'An unknown error occurred.' },
  service_unavailable: { code: 131016, details: 'A service is temporarily unavailable.' },
  throughput: {
    code: 130429,
    details: 'Cloud API message throughput has been reached.',
    subcode: 2494055,
    headers: { 'retry-after': '1' },
  },
  pair_rate: {
    code: 131056,
    details:
      'Message failed to send because there were too many messages sent from this phone number to the same phone number in a short period of time.',
    subcode: 2494071,
  },
  reengagement: {
    code: 131047,
    details:
      'Message failed to send because more than 24 hours have passed since the customer last replied to this number.',
  },
  not_allowed: {
    code: 131030,
    details:
      'Recipient phone number not in allowed list: Add recipient phone number to recipient list and try again.',
  },
  token_expired: { code: 190, details: 'Error validating access token: Session has expired.', subcode: 463 },
  undeliverable: { code: 131026, details: 'Message Undeliverable.' },
};

export function faultOutcome(scenario: Scenario): FaultOutcome {
  switch (scenario.fault) {
    case 'html_502':
      return { kind: 'html', httpStatus: 502, body: HTML_502 };
    case 'slow':
      return { kind: 'slow', delayMs: scenario.delayMs };
    case 'hang':
      return { kind: 'hang' };
    case 'lost_answer':
      return { kind: 'lost_answer' };
    case 'undeliverable_async':
      return { kind: 'async_failure', error: 'undeliverable' };
    case 'reengagement_async':
      return { kind: 'async_failure', error: 'reengagement' };
    default: {
      const { code, details, ...extra } = GRAPH_FAULTS[scenario.fault];
      // The scenario id in the details tells a puzzled reader the failure was injected.
      return {
        kind: 'graph_error',
        failure: graphFailure(code, `${details} [sandbox scenario ${scenario.id}]`, extra),
      };
    }
  }
}

/** Each fault's share of all sends (0–1, summing to at most 1), for {@link mixScenarios}. */
export type FaultMix = Partial<Record<FaultName, number>>;

/**
 * A fault *mix* as ordinary scenarios: each send hits at most one fault, `mix[fault]` of sends hit
 * `fault`. Scenarios are tried in order, each with its own draw, so each gets its share of what the
 * earlier ones left: probability = share ÷ (1 − the shares before it).
 */
export function mixScenarios(
  mix: FaultMix,
  options: { to?: string; delayMs?: number } = {},
): ScenarioInput[] {
  const entries = Object.entries(mix).filter(([, share]) => share !== undefined && share > 0) as [
    FaultName,
    number,
  ][];
  const total = entries.reduce((sum, [, share]) => sum + share, 0);
  if (entries.some(([, share]) => !(share <= 1)) || total > 1 + 1e-9) {
    throw new TypeError('a fault mix needs shares between 0 and 1 that add up to at most 1');
  }
  let left = 1;
  return entries.map(([fault, share]) => {
    const probability = left <= 0 ? 1 : Math.min(1, share / left);
    left -= share;
    return {
      fault,
      probability,
      ...(options.to === undefined ? {} : { to: options.to }),
      ...(options.delayMs === undefined ? {} : { delayMs: options.delayMs }),
    };
  });
}

export type ScenarioParse = { ok: true; input: ScenarioInput } | { ok: false; message: string };

/** Checks a scenario coming from JSON (the control API) or from a test. */
export function parseScenarioInput(raw: unknown): ScenarioParse {
  if (typeof raw !== 'object' || raw === null) return { ok: false, message: 'body must be a JSON object' };
  const { fault, to, next, probability, delayMs } = raw as Record<string, unknown>;
  if (typeof fault !== 'string' || !(FAULT_NAMES as readonly string[]).includes(fault)) {
    return { ok: false, message: `fault must be one of ${FAULT_NAMES.join(', ')}` };
  }
  const input: ScenarioInput = { fault: fault as FaultName };
  if (to !== undefined) {
    const digits = typeof to === 'string' ? to.replace(/\D/g, '') : '';
    if (!/^\d{8,15}$/.test(digits)) return { ok: false, message: 'to must be a phone number of 8-15 digits' };
    input.to = digits;
  }
  if (next !== undefined) {
    if (!Number.isInteger(next) || (next as number) < 1) {
      return { ok: false, message: 'next must be an integer >= 1' };
    }
    input.next = next as number;
  }
  if (probability !== undefined) {
    if (typeof probability !== 'number' || !(probability >= 0 && probability <= 1)) {
      return { ok: false, message: 'probability must be a number between 0 and 1' };
    }
    input.probability = probability;
  }
  if (delayMs !== undefined) {
    if (!Number.isInteger(delayMs) || (delayMs as number) < 0 || (delayMs as number) > MAX_DELAY_MS) {
      return { ok: false, message: `delayMs must be an integer between 0 and ${MAX_DELAY_MS}` };
    }
    input.delayMs = delayMs as number;
  }
  return { ok: true, input };
}

/**
 * The active scenarios. For each send, scenarios for that recipient are tried before the ones for
 * any recipient, each group in creation order; the first that fires is used (and consumed).
 */
export class ScenarioBook {
  private scenarios: Scenario[] = [];
  private lastId = 0;

  constructor(private readonly random: () => number) {}

  add(input: ScenarioInput, now: number): Scenario {
    this.lastId += 1;
    const scenario: Scenario = {
      id: `sc_${this.lastId}`,
      fault: input.fault,
      to: input.to ?? null,
      remaining: input.next ?? null,
      probability: input.probability ?? 1,
      delayMs: input.delayMs ?? DEFAULT_SLOW_DELAY_MS,
      applied: 0,
      createdAt: new Date(now).toISOString(),
    };
    this.scenarios.push(scenario);
    return { ...scenario };
  }

  list(): Scenario[] {
    return this.scenarios.map((scenario) => ({ ...scenario }));
  }

  remove(id: string): boolean {
    const before = this.scenarios.length;
    this.scenarios = this.scenarios.filter((scenario) => scenario.id !== id);
    return this.scenarios.length < before;
  }

  clear(): number {
    const removed = this.scenarios.length;
    this.scenarios = [];
    return removed;
  }

  /** The scenario that hits this send, if any, with one use consumed. */
  take(waId: string): Scenario | null {
    if (this.scenarios.length === 0) return null;
    const hit = this.firstFiring((s) => s.to === waId) ?? this.firstFiring((s) => s.to === null);
    if (!hit) return null;
    hit.applied += 1;
    if (hit.remaining !== null) {
      hit.remaining -= 1;
      if (hit.remaining === 0) this.remove(hit.id);
    }
    return { ...hit };
  }

  private firstFiring(matches: (scenario: Scenario) => boolean): Scenario | undefined {
    return this.scenarios.find(
      (scenario) => matches(scenario) && (scenario.probability >= 1 || this.random() < scenario.probability),
    );
  }
}
