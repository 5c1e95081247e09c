/** Structured fields attached to a log line. Values must be JSON-friendly and must never be secrets. */
export type LogFields = Readonly<Record<string, unknown>>;

/**
 * The logger connectors and the pipeline write to (`ctx.logger`). Four levels, a message and
 * structured fields; adapt pino, winston or console with a few lines.
 */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const levelOrder: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface ConsoleLoggerOptions {
  /** Lowest level written (default `info`). */
  level?: LogLevel | undefined;
  /** Fields added to every line, e.g. `{ connector: 'notion' }`. */
  fields?: LogFields | undefined;
  /** Where lines go (default the global `console`). */
  console?: Pick<Console, 'debug' | 'info' | 'warn' | 'error'> | undefined;
}

/** A logger writing `[tributary] message {fields}` lines to the console. */
export function createConsoleLogger(options: ConsoleLoggerOptions = {}): Logger {
  const threshold = levelOrder[options.level ?? 'info'];
  const target = options.console ?? console;
  const baseFields = options.fields ?? {};
  const write = (level: LogLevel) => (message: string, fields?: LogFields) => {
    if (levelOrder[level] < threshold) return;
    const merged = { ...baseFields, ...fields };
    if (Object.keys(merged).length === 0) target[level](`[tributary] ${message}`);
    else target[level](`[tributary] ${message}`, merged);
  };
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}

const noop = () => {};

/** A logger that drops everything (the default when none is given). */
export const silentLogger: Logger = Object.freeze({ debug: noop, info: noop, warn: noop, error: noop });
