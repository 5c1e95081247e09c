#!/usr/bin/env node
import { CLI_NODE_RANGE, nodeTooOldMessage } from './node-version.js';

// Checked before the commands load: on an older Node.js their dependencies fail with errors that
// do not say why (undici's "Cannot read properties of undefined (reading 'bind')", say).
const tooOld = nodeTooOldMessage('tributary', CLI_NODE_RANGE, process.versions.node);
if (tooOld) {
  process.stderr.write(`[tributary] ${tooOld}\n`);
  process.exitCode = 1;
} else {
  const { runCli } = await import('./program.js');
  runCli(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(
        `[tributary] unexpected failure: ${error instanceof Error ? error.message : String(error)}\n`,
      );
      process.exitCode = 1;
    },
  );
}
