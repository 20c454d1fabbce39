/**
 * A circuit breaker for the Graph API as a whole. When sends keep failing before they leave this machine
 * (connection refused, DNS, host unreachable: Meta never saw them), sending pauses instead of burning every
 * queued message's attempts: after `threshold` such failures in a row the circuit opens for a cool-down
 * (1 s, doubling to `maxCooldownMs`), then one message is sent as a probe. The first answer from Meta, of
 * any kind, closes it again. Those failures are also not counted against a message's attempt budget
 * (outbox `refundAttempt`), so an outage of any length costs messages nothing but time.
 */
export type CircuitState = 'closed' | 'open' | 'probing';

export interface GraphCircuitOptions {
  threshold?: number;
  initialCooldownMs?: number;
  maxCooldownMs?: number;
}

export class GraphCircuit {
  private consecutive = 0;
  private cooldownMs: number;
  private openUntil = 0;
  private current: CircuitState = 'closed';
  private readonly threshold: number;
  private readonly initialCooldownMs: number;
  private readonly maxCooldownMs: number;

  constructor(options: GraphCircuitOptions = {}) {
    this.threshold = options.threshold ?? 5;
    this.initialCooldownMs = options.initialCooldownMs ?? 1000;
    this.maxCooldownMs = options.maxCooldownMs ?? 30_000;
    this.cooldownMs = this.initialCooldownMs;
  }

  get state(): CircuitState {
    return this.current;
  }

  /**
   * How many messages may be claimed now (of `wanted`), and if none, how long to wait. While open nothing
   * goes; once the cool-down is over exactly one probe goes, and nothing more until its answer.
   */
  admit(wanted: number, now: number): { count: number; waitMs: number } {
    if (this.current === 'closed') return { count: wanted, waitMs: 0 };
    if (this.current === 'probing') return { count: 0, waitMs: 100 };
    if (now < this.openUntil) return { count: 0, waitMs: this.openUntil - now };
    this.current = 'probing';
    return { count: Math.min(1, wanted), waitMs: 0 };
  }

  /** The probe could not be sent (nothing claimable, an error before the wire): probe again right away. */
  abandonProbe(): void {
    if (this.current !== 'probing') return;
    this.current = 'open';
    this.openUntil = 0;
  }

  /**
   * The outcome of one send: `unreachable` when it failed before reaching Meta. Returns the change
   * worth logging, if any.
   */
  record(outcome: 'reached' | 'unreachable', now: number): 'opened' | 'closed' | null {
    if (outcome === 'reached') {
      const wasOpen = this.current !== 'closed';
      this.consecutive = 0;
      this.cooldownMs = this.initialCooldownMs;
      this.current = 'closed';
      return wasOpen ? 'closed' : null;
    }
    this.consecutive += 1;
    if (this.current === 'probing') {
      this.cooldownMs = Math.min(this.cooldownMs * 2, this.maxCooldownMs);
      this.openUntil = now + this.cooldownMs;
      this.current = 'open';
      return null;
    }
    if (this.current === 'closed' && this.consecutive >= this.threshold) {
      this.openUntil = now + this.cooldownMs;
      this.current = 'open';
      return 'opened';
    }
    return null;
  }
}
