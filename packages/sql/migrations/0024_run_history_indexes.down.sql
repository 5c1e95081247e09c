-- Back to 0023: run history across organisations is read without its own index.
set local lock_timeout = '5s';
set local statement_timeout = '15min';

drop index if exists public.connector_sync_logs_started_idx;
