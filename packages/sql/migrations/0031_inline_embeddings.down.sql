-- Back to pgvector's default storage for the embedding (EXTERNAL: out of line past 2 kB) and
-- Postgres's default TOAST target. Rows written meanwhile keep their layout until rewritten.
set local lock_timeout = '5s';
set local statement_timeout = '15min';

alter table public.document_chunks alter column embedding set storage external;
alter table public.document_chunks reset (toast_tuple_target);
