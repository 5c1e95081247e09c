// What does an upload cost? `createUploader` (@tributary/connector-upload) with the local blob
// store and the offline lexical embedder.
//
// - Phase 1, one large file: a generated BENCH_LARGE_MB (default 2,048) MB MP4 (an `ftyp` header,
//   then 1 MiB blocks of pseudo-random bytes), given to the uploader as a stream of unknown size,
//   so every byte is sniffed, counted against the size limit, hashed (sha256) and written by
//   streaming. Prints time, MB/s and peak RSS (sampled every 50 ms) against the start RSS; the
//   target is a peak under 200 MB: a 2 GB file must never sit in memory. This phase runs on a
//   PostgreSQL server (node-postgres; its own process), so the RSS is the uploader's alone, not
//   an in-process database's (PGlite alone holds ~450 MB; see the pipeline section of README.md).
// - Phase 2, many small files: BENCH_SMALL_FILES (default 1,000) distinct text files of ~1 KB in
//   one batch, at concurrency 1, 4 and 16 (a fresh organisation each, so nothing is a duplicate):
//   each file is sniffed, stored, extracted, chunked, embedded and indexed, and counted in the batch
//   row, on PGlite (pgvector, HNSW). Prints files/s.
//
// Run: pnpm --filter @tributary/bench upload   (after building the workspace packages; see README.md)
// Tune: BENCH_LARGE_MB, BENCH_SMALL_FILES, BENCH_CONCURRENCY (default `1,4,16`).
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { createSqlUploadBatchStore, createUploader } from '@tributary/connector-upload';
import { createLexicalEmbedder, createLocalBlobStore } from '@tributary/core';
import { createPgliteRepository } from '@tributary/core/pglite';
import { createNodePostgresRepository } from '@tributary/core/postgres';
import { fromPg, fromPglite, migrate } from '@tributary/sql';
import { startPostgresServer } from '@tributary/testkit-postgres';

const LARGE_MB = Number(process.env.BENCH_LARGE_MB ?? 2048);
const SMALL_FILES = Number(process.env.BENCH_SMALL_FILES ?? 1000);
const CONCURRENCY = (process.env.BENCH_CONCURRENCY ?? '1,4,16').split(',').map(Number);
const MiB = 1024 * 1024;

function rssMb(): number {
  return process.memoryUsage.rss() / MiB;
}

/** Samples RSS every 50 ms while `fn` runs. */
async function withPeakRss<T>(fn: () => Promise<T>): Promise<{ result: T; startMb: number; peakMb: number }> {
  const startMb = rssMb();
  let peakMb = startMb;
  const timer = setInterval(() => {
    peakMb = Math.max(peakMb, rssMb());
  }, 50);
  try {
    const result = await fn();
    peakMb = Math.max(peakMb, rssMb());
    return { result, startMb, peakMb };
  } finally {
    clearInterval(timer);
  }
}

/** An MP4 of `totalBytes`: `ftyp` + `mdat` header, then xorshift-filled 1 MiB blocks. */
async function* generatedMp4(totalBytes: number): AsyncIterable<Uint8Array> {
  const header = Buffer.alloc(32);
  header.writeUInt32BE(24, 0);
  header.write('ftypisom', 4, 'latin1');
  header.writeUInt32BE(512, 12);
  header.write('isomiso2', 16, 'latin1');
  header.writeUInt32BE(1, 24); // mdat with a 64-bit size follows; the payload is opaque to us
  header.write('mdat', 28, 'latin1');
  yield header;
  let sent = header.byteLength;
  let state = 0x9e3779b9;
  while (sent < totalBytes) {
    const size = Math.min(MiB, totalBytes - sent);
    const block = new Uint8Array(size);
    const words = new Uint32Array(block.buffer, 0, Math.floor(size / 4));
    for (let i = 0; i < words.length; i += 1) {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      words[i] = state >>> 0;
    }
    sent += size;
    yield block;
  }
}

async function main() {
  const workDir = await mkdtemp(join(tmpdir(), 'tributary-bench-upload-'));
  const blobStore = createLocalBlobStore({ root: join(workDir, 'blobs') });
  const embedder = createLexicalEmbedder();
  console.log(`node ${process.version}, local blob store in ${workDir}`);
  const server = await startPostgresServer();
  let pglite: PGlite | undefined;

  try {
    // ---- phase 1: one large file (PostgreSQL server) -----------------------------------------
    const pool = server.pool(await server.createDatabase(), { max: 4 });
    await migrate(fromPg(pool));
    const uploader = createUploader({
      repository: createNodePostgresRepository(pool),
      batches: createSqlUploadBatchStore(fromPg(pool)),
      blobStore,
      embedder,
    });
    const totalBytes = LARGE_MB * MiB;
    const started = performance.now();
    const { result, startMb, peakMb } = await withPeakRss(async () => {
      const handle = await uploader.createBatch({
        orgId: randomUUID(),
        userId: randomUUID(),
        files: [{ name: 'all-hands-recording.mp4', data: generatedMp4(totalBytes) }],
      });
      return handle.done;
    });
    const seconds = (performance.now() - started) / 1000;
    const file = result.files[0];
    if (result.status !== 'completed' || file?.status !== 'awaiting_transcription') {
      throw new Error(`large upload ended ${result.status} / ${file?.status}: ${file?.message ?? ''}`);
    }
    const stored = await pool.query<{ storage_path: string }>(
      'select storage_path from public.imported_documents where id = $1',
      [file.documentId],
    );
    const path = stored.rows[0]?.storage_path as string;
    const info = await blobStore.head(path);
    if (info?.sizeBytes !== totalBytes)
      throw new Error(`stored ${info?.sizeBytes} bytes, expected ${totalBytes}`);
    console.log(
      `large file: ${LARGE_MB} MB in ${seconds.toFixed(1)} s = ${(LARGE_MB / seconds).toFixed(0)} MB/s; ` +
        `RSS start ${startMb.toFixed(0)} MB, peak ${peakMb.toFixed(0)} MB (+${(peakMb - startMb).toFixed(0)} MB); ` +
        `target peak < 200 MB: ${peakMb < 200 ? 'met' : 'NOT met'}`,
    );
    await blobStore.delete([path]);
    await pool.end();

    // ---- phase 2: many small files (PGlite with pgvector) -------------------------------------
    pglite = await PGlite.create({ extensions: { vector } });
    await migrate(fromPglite(pglite));
    const repository = createPgliteRepository(pglite);
    const batches = createSqlUploadBatchStore(fromPglite(pglite));
    // ---- phase 2: many small files ------------------------------------------------------------
    for (const concurrency of CONCURRENCY) {
      const smallUploader = createUploader({ repository, batches, blobStore, embedder, concurrency });
      const files = Array.from({ length: SMALL_FILES }, (_, index) => ({
        name: `note-${index}.txt`,
        data: Buffer.from(
          `Note ${index} (concurrency ${concurrency}). ${'The quarterly review covers budgets, hiring and the roadmap. '.repeat(16)}`,
        ),
      }));
      const begin = performance.now();
      const handle = await smallUploader.createBatch({ orgId: randomUUID(), userId: randomUUID(), files });
      const final = await handle.done;
      const elapsed = (performance.now() - begin) / 1000;
      if (final.status !== 'completed' || final.processedFiles !== SMALL_FILES) {
        throw new Error(`small batch ended ${final.status} with ${final.processedFiles}/${SMALL_FILES}`);
      }
      console.log(
        `${SMALL_FILES} small files, concurrency ${String(concurrency).padStart(2)}: ${elapsed.toFixed(1)} s = ${(SMALL_FILES / elapsed).toFixed(0)} files/s; RSS ${rssMb().toFixed(0)} MB`,
      );
    }
  } finally {
    await pglite?.close();
    await server.stop();
    await rm(workDir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
