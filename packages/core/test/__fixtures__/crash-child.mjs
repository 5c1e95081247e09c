// The process the crash-kill test SIGKILLs: one runSync of a deterministic 200-document source on
// a real PostgreSQL server (built dist, node-postgres). Loads and embedding requests take a few
// milliseconds, so a kill can land in any stage. Argv: connection string, connector id.
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { createChunker, createLexicalEmbedder, defineConnector, runSync } from '../../dist/index.js';
import { createNodePostgresRepository } from '../../dist/postgres.js';

const [url, connectorId] = process.argv.slice(2);
const DOCUMENTS = 200;

function text(index) {
  const words = ['river', 'delta', 'basin', 'current', 'estuary', 'channel', 'meander', 'tributary'];
  const parts = [`# Note ${index}`];
  for (let p = 0; p < 3; p += 1) {
    parts.push(`## Part ${p}`, Array.from({ length: 40 }, (_, w) => `${words[(w * (index + 1) + p) % 8]}${(w + index) % 7}`).join(' '));
  }
  return parts.join('\n\n');
}

const connector = defineConnector({
  type: 'crash_notes',
  capabilities: { incremental: false },
  async check() {},
  async *sync(ctx) {
    // The parent times its kill from here (process start-up excluded).
    process.stdout.write('listing\n');
    const start = typeof ctx.cursor === 'number' ? ctx.cursor : 0;
    for (let index = start; index < DOCUMENTS; index += 1) {
      yield {
        kind: 'upsert',
        document: {
          externalId: `note-${String(index).padStart(2, '0')}`,
          title: `Note ${index}`,
          mimeType: 'text/markdown',
          version: '1',
          content: {
            kind: 'lazy',
            async load() {
              await sleep(3);
              return { kind: 'text', text: text(index) };
            },
          },
        },
      };
      if ((index + 1) % 5 === 0) yield { kind: 'checkpoint', cursor: index + 1 };
    }
    yield { kind: 'listing-complete', complete: true };
  },
});

const inner = createLexicalEmbedder({ dimensions: 1536 });
const embedder = {
  ...inner,
  maxInputsPerRequest: 16,
  async embed(texts, options) {
    await sleep(5);
    return inner.embed(texts, options);
  },
};

const pool = new pg.Pool({ connectionString: url, max: 4 });
const summary = await runSync({
  connector,
  connectorId,
  repository: createNodePostgresRepository(pool),
  embedder,
  chunker: createChunker({ maxTokens: 64, overlapTokens: 0 }),
  groupSize: 5,
  concurrency: { groups: 4 },
  embedBatch: { flushDelayMs: 5 },
});
await pool.end();
process.stdout.write(`${JSON.stringify({ status: summary.status, error: summary.error ?? null })}\n`);
