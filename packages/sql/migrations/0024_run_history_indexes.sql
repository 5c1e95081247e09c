-- Run history reads across organisations (the operations console, `tributary status` without
-- --org). 0003's indexes on connector_sync_logs lead with org_id, so "the newest runs of every
-- organisation" (and the console's run-duration chart) read and sorted the whole table: ~50 ms at
-- 50,000 runs, growing with the history. One index in the order these reads page in:
-- started_at desc, then id desc so runs that started in the same microsecond still have one order
-- and a keyset cursor (started_at, id) resumes exactly where a page ended. Reads for one
-- connector pass its org_id and use 0003's connector_sync_logs_connector_idx.

-- Fail fast instead of queueing every reader behind a blocked DDL statement (the runner's
-- transaction scopes both settings to this file).
set local lock_timeout = '5s';
set local statement_timeout = '15min';

create index if not exists connector_sync_logs_started_idx
  on public.connector_sync_logs (started_at desc, id desc);
