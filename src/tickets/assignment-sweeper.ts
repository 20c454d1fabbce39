import { sweepAssignments } from './assignment-flow.js';
import type { TicketDeps } from './ticket-deps.js';

/**
 * Runs `sweepAssignments` every `intervalMs` in this process: expired offers move on, stalled tickets are
 * handed on. Timers are rows, so a restart loses none, and every move is conditional, so several
 * processes sweeping the same database fire each one once.
 */
export class AssignmentSweeper {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<number> | null = null;

  constructor(
    private readonly deps: TicketDeps,
    private readonly intervalMs: number,
  ) {}

  start(): void {
    if (this.timer !== null) return;
    this.timer = setInterval(() => void this.sweep(), this.intervalMs);
    this.timer.unref();
  }

  /** One sweep now (or the one already running); never throws: failures are logged and retried next time. */
  async sweep(): Promise<number> {
    this.running ??= sweepAssignments(this.deps)
      .catch((error: unknown) => {
        this.deps.logger.error({ event: 'ticket.sweep_failed', err: error }, 'assignment sweep failed');
        return 0;
      })
      .finally(() => {
        this.running = null;
      });
    return this.running;
  }

  async stop(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }
}
