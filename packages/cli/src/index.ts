export { TributaryCliError } from './cli-error.js';
export type { CliIo } from './cli-io.js';
export { createProgram, runCli } from './program.js';
