-- Removes the scale-out functions and the shared rate budgets (@tributary/worker calls them: roll back the package too).
-- Fail fast instead of queueing every reader behind a blocked DDL statement (the runner's
-- transaction scopes both settings to this file).
set local lock_timeout = '5s';
set local statement_timeout = '15min';

drop function if exists public.pending_webhook_events(uuid, integer, integer);
drop index if exists public.connector_webhook_events_pending_idx;
drop function if exists public.reserve_rate_tokens(text, integer, double precision, integer);
drop table if exists tributary_private.rate_budgets;
drop function if exists public.claim_due_syncs(integer, timestamptz);
drop function if exists tributary_private.next_sync_slot(text, timestamptz);
