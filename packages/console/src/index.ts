// @tributary/console: workers, webhook endpoints and an operations console on one port.
export { CONSOLE_HEADER, isLoopback } from './console-auth.js';
export { ConsoleError, type ConsoleErrorReason } from './console-error.js';
export type { ConnectorRow, HistoryPoint, RunRow } from './console-queries.js';
export {
  type CreateConsoleOptions,
  createConsole,
  type OperationsConsole,
  resolveConsoleListen,
} from './create-console.js';
export type { LiveProgress } from './progress-tracker.js';
