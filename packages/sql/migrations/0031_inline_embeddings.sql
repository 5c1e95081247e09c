-- tributary:requires-extension vector
-- Embeddings stored in the chunk row instead of TOAST (issue 17: at 1536 dimensions and 100,000
-- chunks, a member's permission-filtered vector search took 2.98x the latency of `org` mode).
-- pgvector's types default to EXTERNAL storage, and any row over TOAST_TUPLE_TARGET (2 kB) moves
-- its biggest such value out of line: every vector of 1536 dimensions (6 kB) or halfvec(1536)
-- (3 kB) lived in document_chunks' TOAST table, so each exact comparison (the `readers` path over a
-- caller's readable chunks, the `exact` path of small organisations, reranks) fetched it through
-- the TOAST index and 3-4 TOAST pages. HNSW scans read the vectors from the index and were not
-- affected.
-- 1. embedding takes MAIN storage: kept in the row, moved out only when the row cannot fit a page
--    (vector(2000) beside a long chunk, say).
-- 2. toast_tuple_target 8160 (the most Postgres allows): with a 6 kB value in the row, the default
--    2 kB target would push every other value of the row (content, fts, readers, even
--    embedding_model) out of line. With it, a row that fits a page stays whole, and one that does
--    not gives up its biggest compressible values first (the content), the vector last.
-- Existing rows keep their layout until they are written again (a re-sync rewrites changed
-- chunks); `vacuum full public.document_chunks` (or pg_repack) rewrites all of them now. Both
-- statements change only the catalog.

-- Fail fast instead of queueing every reader behind a blocked DDL statement (the runner's
-- transaction scopes both settings to this file).
set local lock_timeout = '5s';
set local statement_timeout = '15min';

alter table public.document_chunks alter column embedding set storage main;
alter table public.document_chunks set (toast_tuple_target = 8160);
