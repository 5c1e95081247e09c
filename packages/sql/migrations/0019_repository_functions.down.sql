-- Removes the repository RPCs of 0019 (@tributary/core and @tributary/connector-upload call them:
-- roll back those packages too).
-- Fail fast instead of queueing every reader behind a blocked DDL statement (the runner's
-- transaction scopes both settings to this file).
set local lock_timeout = '5s';
set local statement_timeout = '15min';

drop function if exists public.find_stale_upload_batches(timestamptz, uuid, integer);
drop function if exists public.cancel_upload_batch(uuid);
drop function if exists public.get_upload_batch_status(uuid);
drop function if exists public.get_upload_batch(uuid);
drop function if exists public.attach_upload_batch_connector(uuid, uuid);
drop function if exists public.create_upload_batch(uuid, uuid, uuid, text, integer, jsonb);
drop function if exists public.get_sync_run(uuid);
drop function if exists public.list_connectors(uuid, uuid, text, boolean, uuid, integer);
drop function if exists public.stores_embeddings();
