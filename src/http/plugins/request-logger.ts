import type { FastifyBaseLogger } from 'fastify';
import type { Bindings, ChildLoggerOptions, LogFn } from 'pino';

type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

/** What a parent logger must offer for its request loggers to be made lazily (pino does). */
interface LevelAwareLogger extends FastifyBaseLogger {
  isLevelEnabled(level: string): boolean;
}

function isLevelAware(logger: FastifyBaseLogger): logger is LevelAwareLogger {
  return typeof (logger as Partial<LevelAwareLogger>).isLevelEnabled === 'function';
}

/**
 * Fastify's `childLoggerFactory`: each request gets a logger that makes its pino child (the request id
 * bound into every line) only when the request first logs at an enabled level. Making the child renders
 * its bindings through the redaction up front, ~2 % of a notify request's CPU (BENCHMARKS.md) for a
 * logger that most requests never write to at the service's usual levels. What a line contains is the
 * same either way: the child is made from the same parent, bindings and options.
 */
export function lazyChildLogger(
  logger: FastifyBaseLogger,
  bindings: Bindings,
  options: ChildLoggerOptions,
): FastifyBaseLogger {
  // A route's own log level (or a parent that cannot tell its levels) needs the real child at once.
  if (!isLevelAware(logger) || options.level !== undefined) return logger.child(bindings, options);
  return new LazyChildLogger(logger, bindings, options);
}

class LazyChildLogger implements FastifyBaseLogger {
  private made: FastifyBaseLogger | null = null;
  declare fatal: LogFn;
  declare error: LogFn;
  declare warn: LogFn;
  declare info: LogFn;
  declare debug: LogFn;
  declare trace: LogFn;

  constructor(
    private readonly parent: LevelAwareLogger,
    private readonly bindings: Bindings,
    private readonly options: ChildLoggerOptions,
  ) {}

  get level(): string {
    return this.made?.level ?? this.parent.level;
  }

  set level(level: string) {
    this.real().level = level;
  }

  silent(): void {
    // pino's `silent` level method writes nothing.
  }

  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.real().child(bindings, options);
  }

  /** Whether a line at `level` would be written (asked of the child once it exists: its level may differ). */
  isEnabled(level: LogLevel): boolean {
    const made = this.made;
    if (made === null) return this.parent.isLevelEnabled(level);
    return isLevelAware(made) ? made.isLevelEnabled(level) : true;
  }

  real(): FastifyBaseLogger {
    this.made ??= this.parent.child(this.bindings, this.options);
    return this.made;
  }
}

for (const level of ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const) {
  // The arguments go through untouched (pino reads how many there are).
  const write = function (this: LazyChildLogger, ...args: unknown[]): void {
    if (!this.isEnabled(level)) return;
    const logger = this.real();
    Reflect.apply(logger[level], logger, args);
  };
  Object.defineProperty(LazyChildLogger.prototype, level, { value: write, writable: true });
}
