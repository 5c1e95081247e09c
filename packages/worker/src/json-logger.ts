import type { LogFields, Logger, LogLevel } from '@tributary/core';

const levelOrder: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface JsonLoggerOptions {
  /** Lowest level written (default `info`). */
  level?: LogLevel | undefined;
  /** Fields on every line, e.g. `{ workerId }`. */
  fields?: LogFields | undefined;
  /** Where lines go (default `process.stdout`). */
  write?: ((line: string) => void) | undefined;
}

/**
 * A structured logger: one JSON object per line (`time`, `level`, `msg`, then fields), the
 * format log collectors parse without configuration. Pass `logger` to `createWorker` to use
 * pino, winston or your own instead.
 */
export function createJsonLogger(
  options: JsonLoggerOptions = {},
): Logger & { child(fields: LogFields): Logger } {
  const threshold = levelOrder[options.level ?? 'info'];
  const write = options.write ?? ((line: string) => process.stdout.write(line));
  const make = (base: LogFields): Logger & { child(fields: LogFields): Logger } => {
    const at = (level: LogLevel) => (message: string, fields?: LogFields) => {
      if (levelOrder[level] < threshold) return;
      let line: string;
      try {
        line = JSON.stringify({ time: new Date().toISOString(), level, msg: message, ...base, ...fields });
      } catch {
        line = JSON.stringify({
          time: new Date().toISOString(),
          level,
          msg: message,
          ...base,
          fields: 'unserialisable',
        });
      }
      write(`${line}\n`);
    };
    return {
      debug: at('debug'),
      info: at('info'),
      warn: at('warn'),
      error: at('error'),
      child: (fields) => make({ ...base, ...fields }),
    };
  };
  return make(options.fields ?? {});
}

/** A logger that adds `fields` to every line of `logger`. */
export function withFields(logger: Logger, fields: LogFields): Logger {
  return {
    debug: (message, extra) => logger.debug(message, { ...fields, ...extra }),
    info: (message, extra) => logger.info(message, { ...fields, ...extra }),
    warn: (message, extra) => logger.warn(message, { ...fields, ...extra }),
    error: (message, extra) => logger.error(message, { ...fields, ...extra }),
  };
}
