// A worker process for the multi-process tests, run with
// `node --experimental-strip-types --import ./resolve-ts.mjs worker-process.ts`.
// Settings come from WORKER_SETTINGS (JSON); it prints `ready` once started and stops gracefully
// on SIGTERM (exit 0).
import { appendFileSync } from 'node:fs';
import { createLexicalEmbedder, silentLogger } from '@tributary/core';
import { createJsonLogger, createWorker } from '../../src/index.js';
import { createTickConnector } from './tick-connector.js';

const settings = JSON.parse(process.env.WORKER_SETTINGS ?? '{}') as {
  connectionString: string;
  workerId: string;
  delayMs?: number;
  worker?: Record<string, unknown>;
};

const worker = createWorker({
  connectionString: settings.connectionString,
  workerId: settings.workerId,
  connectors: [createTickConnector({ delayMs: settings.delayMs ?? 0 })],
  embedder: createLexicalEmbedder({ dimensions: 1536 }),
  // WORKER_LOG: a directory to write each worker's JSON log lines to (debugging the tests).
  logger: process.env.WORKER_LOG
    ? createJsonLogger({
        level: 'debug',
        fields: { workerId: settings.workerId },
        write: (line) => appendFileSync(`${process.env.WORKER_LOG}/${settings.workerId}.log`, line),
      })
    : silentLogger,
  ...settings.worker,
});

process.once('SIGTERM', () => {
  worker.stop().then(
    () => process.exit(0),
    () => process.exit(1),
  );
});
await worker.start();
process.stdout.write('ready\n');
