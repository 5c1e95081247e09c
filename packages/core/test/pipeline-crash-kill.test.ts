// Crash safety on a real PostgreSQL server: a child process running a sync is SIGKILLed at 20
// random moments spread over the stages (listing, loading, embedding, writing, committing). After each
// kill the next run takes the connector over (the operator's release) and resumes from the last
// checkpoint; at the end the documents and chunks equal those of one clean run: nothing lost,
// nothing duplicated, no chunk left over from an interrupted write.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fromPg, migrate } from '@tributary/sql';
import { type PostgresServer, startPostgresServer } from '@tributary/testkit-postgres';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodePostgresRepository } from '../src/postgres.js';

const here = dirname(fileURLToPath(import.meta.url));
const child = join(here, '__fixtures__', 'crash-child.mjs');
const ORG_ID = '00000000-0000-4000-8000-00000000c4a5';
const OTHER_ORG_ID = '00000000-0000-4000-8000-00000000c4a6';

/** Deterministic "random" kill points, so a failure can be reproduced. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('crash-kill: SIGKILL at 20 points, every next run resumes, the end state equals a clean run', () => {
  let server: PostgresServer;
  let url: string;
  let pool: pg.Pool;

  beforeAll(async () => {
    server = await startPostgresServer();
    const database = await server.createDatabase();
    url = server.connectionString(database);
    pool = server.pool(database, { max: 2 });
    await migrate(fromPg(pool));
  });
  afterAll(async () => {
    await pool?.end();
    await server?.stop();
  });

  // Each connector in its own organisation: the same content in one organisation would be linked
  // as cross-source duplicates (dedup layer 5) and copied instead of embedded, making the runs
  // under test much shorter than the clean reference they are compared with.
  async function newConnector(name: string, orgId = ORG_ID): Promise<string> {
    const { rows } = await pool.query<{ id: string }>(
      `insert into public.connector_configs (org_id, connector_type, name) values ($1, 'crash_notes', $2) returning id`,
      [orgId, name],
    );
    return rows[0]?.id ?? '';
  }

  /** Runs the child; with `killAfterMs`, SIGKILLs it that long after its listing started. */
  async function runChild(connectorId: string, killAfterMs?: number) {
    const worker = spawn(process.execPath, [child, url, connectorId], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let listingAt = 0;
    let timer: NodeJS.Timeout | undefined;
    let killed = false;
    worker.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (!listingAt && stdout.includes('listing\n')) {
        listingAt = performance.now();
        if (killAfterMs !== undefined) {
          timer = setTimeout(() => {
            if (worker.exitCode === null) {
              killed = true;
              worker.kill('SIGKILL');
            }
          }, killAfterMs);
        }
      }
    });
    await new Promise<void>((resolve) => worker.on('exit', () => resolve()));
    clearTimeout(timer);
    const line = stdout.split('\n').find((l) => l.startsWith('{'));
    return {
      killed,
      workMs: performance.now() - listingAt,
      result: line ? (JSON.parse(line) as { status: string }) : undefined,
    };
  }

  async function finalState(connectorId: string) {
    const documents = await pool.query(
      `select external_id, content_hash, processing_status, is_deleted, chunk_count
       from public.imported_documents where connector_id = $1 order by external_id`,
      [connectorId],
    );
    const chunks = await pool.query(
      `select d.external_id, c.chunk_index, c.content_hash, c.embedding::text as embedding, c.embedding_model
       from public.document_chunks c join public.imported_documents d on d.id = c.document_id
       where d.connector_id = $1 order by d.external_id, c.chunk_index`,
      [connectorId],
    );
    // Chunks beyond a document's chunk_count would be leftovers of an interrupted write.
    const orphans = await pool.query<{ n: number }>(
      `select count(*)::int as n from public.document_chunks c join public.imported_documents d on d.id = c.document_id
       where d.connector_id = $1 and c.chunk_index >= d.chunk_count`,
      [connectorId],
    );
    return { documents: documents.rows, chunks: chunks.rows, orphans: orphans.rows[0]?.n };
  }

  it('loses nothing, duplicates nothing, leaves no orphan chunks', async () => {
    expect(existsSync(join(here, '..', 'dist', 'index.js')), 'build the package first').toBe(true);
    const clean = await newConnector('Clean');
    const reference = await runChild(clean);
    expect(reference.result).toMatchObject({ status: 'success' });
    const cleanMs = reference.workMs;
    const expected = await finalState(clean);
    expect(expected.documents).toHaveLength(200);
    expect(expected.orphans).toBe(0);

    const crashed = await newConnector('Crashed', OTHER_ORG_ID);
    const repository = createNodePostgresRepository(pool);
    const random = mulberry32(11);
    let killed = 0;
    for (let attempt = 0; attempt < 20; attempt += 1) {
      // The killed worker's lease would hold the connector for minutes: the next run takes over.
      await repository.releaseSync(crashed, 'crash-kill test');
      // Each kill lands somewhere in the first tenth of a run's work (listing, loading, embedding,
      // writing or committing); twenty of them cover about one run.
      const outcome = await runChild(crashed, Math.floor(random() * (cleanMs / 10)));
      if (outcome.killed) killed += 1;
    }
    expect(killed).toBeGreaterThanOrEqual(15);

    await repository.releaseSync(crashed, 'crash-kill test');
    const last = await runChild(crashed);
    expect(last.result).toMatchObject({ status: 'success' });
    const actual = await finalState(crashed);
    expect(actual.orphans).toBe(0);
    expect(actual.documents).toEqual(expected.documents);
    expect(actual.chunks).toEqual(expected.chunks);
    // 21 child processes on a real server: about a minute on an idle 2-core machine.
  }, 240_000);
});
