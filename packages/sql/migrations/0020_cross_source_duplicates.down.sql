-- Back to 0018: no duplicate links, signatures or collapsed search. Documents keep their chunks
-- (copies of a canonical's chunks stay, as if embedded themselves).
-- Fail fast instead of queueing every reader behind a blocked DDL statement (the runner's
-- transaction scopes both settings to this file).
set local lock_timeout = '5s';
set local statement_timeout = '15min';

drop function if exists public.unified_content_search_deduplicated(extensions.vector, uuid, integer, double precision, boolean, text, uuid[], double precision, double precision, integer, text, text[], jsonb, double precision);
drop function if exists public.list_document_duplicates(uuid, uuid, integer);
drop function if exists public.link_document_duplicates(jsonb, text, real);
drop trigger if exists imported_documents_release_duplicates_update on public.imported_documents;
drop trigger if exists imported_documents_release_duplicates_delete on public.imported_documents;
drop function if exists tributary_private.release_duplicate_links();
drop function if exists tributary_private.hand_over_canonical(uuid[]);
drop function if exists tributary_private.signature_bands(integer[]);
drop function if exists tributary_private.signature_similarity(integer[], integer[]);
drop function if exists tributary_private.near_duplicate_threshold();
drop table if exists tributary_private.document_lsh_bands;
drop table if exists tributary_private.document_signatures;
alter table public.imported_documents
  drop column if exists duplicate_of,
  drop column if exists duplicate_kind,
  drop column if exists duplicate_similarity;
