-- Removes the document and chunk RPCs (the @tributary/core repositories call them: roll back the package too).
drop function if exists public.get_document_versions(uuid, text[]);
drop function if exists public.set_documents_processing_status(uuid[], text, text);
drop function if exists public.find_reusable_embeddings(uuid, text, text[]);
drop function if exists public.replace_document_chunks(jsonb);
