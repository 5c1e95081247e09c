drop function if exists public.unified_content_search(extensions.vector, uuid, integer, double precision, boolean, text, uuid[], double precision, double precision, integer);
drop index if exists public.document_chunks_embedding_reuse_idx;
drop index if exists public.document_chunks_embedding_idx;
alter table public.document_chunks drop constraint if exists document_chunks_embedding_model_check;
alter table public.document_chunks drop column if exists embedding_model;
alter table public.document_chunks drop column if exists embedding;
-- The vector extension is left installed: other objects of the host may use it.
