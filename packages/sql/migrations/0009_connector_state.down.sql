-- Drops the state store. Connectors then keep only their cursor; a connector that moved its
-- folder map or file versions into the state store rebuilds them with a full sync.
drop function if exists public.list_connector_state(uuid, text, text, integer, text);
drop function if exists public.get_connector_state(uuid, text, text[]);
drop function if exists public.commit_sync_checkpoint_with_state(uuid, jsonb, jsonb, jsonb, text[]);
drop table if exists public.connector_state;
