-- Connector management and credentials encrypted at rest.
--
-- The SDK (@tributary/core) encrypts secrets before they reach the database: AES-256-GCM under a
-- random data key per connector, the data key wrapped by a key-encryption key that only the host's
-- environment holds (TRIBUTARY_SECRET_KEYS). This migration gives connector_secrets the columns for
-- that envelope and the RPCs the SDK calls. The database never sees plaintext written by the SDK,
-- nor any key it could unwrap; plaintext written by older code or raw SQL (set_connector_secrets)
-- stays readable until the next SDK write or `tributary secrets rotate-key` encrypts it.
--
-- Errors follow 0004: 22004 null, 22023 bad value, P0002 not found (or not visible), 42501 not
-- allowed, 55000 wrong state, 40001 changed concurrently (read again and retry).

alter table tributary_private.connector_secrets
  add column if not exists key_id text,
  add column if not exists wrapped_data_key text,
  add column if not exists credentials_ciphertext text,
  add column if not exists webhook_secret_ciphertext text,
  add column if not exists revision integer not null default 0;

-- A field is plaintext (legacy) or ciphertext, never both; ciphertext needs its wrapped data key.
select tributary_private.ensure_constraint('tributary_private.connector_secrets', 'connector_secrets_envelope_check',
  $$check ((credentials is null or credentials_ciphertext is null)
     and (webhook_secret is null or webhook_secret_ciphertext is null)
     and ((key_id is null) = (wrapped_data_key is null))
     and (key_id is not null or (credentials_ciphertext is null and webhook_secret_ciphertext is null))
     and char_length(key_id) <= 64 and char_length(wrapped_data_key) <= 512
     and char_length(credentials_ciphertext) <= 131072 and char_length(webhook_secret_ciphertext) <= 4096
     and revision >= 0)$$);

comment on table tributary_private.connector_secrets is
  'Connector secrets, service role only. *_ciphertext columns hold AES-256-GCM ciphertext made by the SDK under a per-connector data key (wrapped_data_key, wrapped by the host key key_id); credentials/webhook_secret hold legacy plaintext until re-encrypted.';

-- The organisation of a visible connector; names the problem for a null or unknown id.
create or replace function tributary_private.connector_org_id(p_connector_id uuid)
returns uuid
language plpgsql stable
set search_path = ''
as $$
declare
  result uuid;
begin
  if p_connector_id is null then
    raise exception using errcode = '22004', message = '[tributary] connector id is null',
      hint = 'Pass the id of a connector_configs row.';
  end if;
  select c.org_id into result from public.connector_configs c where c.id = p_connector_id;
  if not found then
    raise exception using errcode = 'P0002', message = format('[tributary] connector %s not found', p_connector_id),
      hint = 'Check the id (tributary connector list); a connector of another organisation is not visible to you.';
  end if;
  return result;
end
$$;

-- ---------------------------------------------------------------------------------------------
-- Secrets (service role only)
-- ---------------------------------------------------------------------------------------------

-- Kept for raw SQL and older callers: stores PLAINTEXT. Now refuses a null or unknown connector,
-- non-object credentials and an empty call; a field written here drops its old ciphertext.
create or replace function public.set_connector_secrets(p_connector_id uuid, p_credentials jsonb default null, p_webhook_secret text default null)
returns void
language plpgsql
set search_path = ''
as $$
begin
  perform tributary_private.connector_org_id(p_connector_id);
  if p_credentials is null and p_webhook_secret is null then
    raise exception using errcode = '22004', message = '[tributary] set_connector_secrets got nothing to store',
      hint = 'Pass credentials (a JSON object) and/or a webhook secret; to remove one use put_connector_secrets with the key set to null.';
  end if;
  if p_credentials is not null and jsonb_typeof(p_credentials) <> 'object' then
    raise exception using errcode = '22023',
      message = format('[tributary] credentials must be a JSON object, not %s', jsonb_typeof(p_credentials)),
      hint = 'Wrap the value in an object, e.g. {"apiKey": "..."}.';
  end if;
  if p_webhook_secret = '' then
    raise exception using errcode = '22023', message = '[tributary] the webhook secret is empty',
      hint = 'Pass the secret the provider gave you, or null to keep the stored one.';
  end if;
  insert into tributary_private.connector_secrets as s (connector_id, credentials, webhook_secret, revision)
  values (p_connector_id, p_credentials, p_webhook_secret, 1)
  on conflict (connector_id) do update set
    credentials = coalesce(excluded.credentials, s.credentials),
    credentials_ciphertext = case when excluded.credentials is null then s.credentials_ciphertext end,
    webhook_secret = coalesce(excluded.webhook_secret, s.webhook_secret),
    webhook_secret_ciphertext = case when excluded.webhook_secret is null then s.webhook_secret_ciphertext end,
    revision = s.revision + 1,
    updated_at = now();
  update public.connector_configs set credentials_updated_at = now()
  where id = p_connector_id and p_credentials is not null;
end
$$;

-- The SDK's writer. p_secrets holds only the fields to change:
--   credentials_ciphertext / webhook_secret_ciphertext: base64 text, needs key_id + wrapped_data_key
--   credentials (object) / webhook_secret (text): plaintext (hosts that chose no encryption)
--   a field set to null (either form): the secret is removed
--   expected_revision: the revision read before encrypting (0: no secrets yet); a different stored
--     revision means someone else wrote meanwhile (their data key may differ): 40001, nothing written.
-- Returns the new revision.
create or replace function public.put_connector_secrets(p_connector_id uuid, p_secrets jsonb)
returns integer
language plpgsql
set search_path = ''
as $$
declare
  unknown_keys text[];
  field text;
  current tributary_private.connector_secrets;
  next tributary_private.connector_secrets;
  credentials_changed boolean := p_secrets ? 'credentials' or p_secrets ? 'credentials_ciphertext';
begin
  perform tributary_private.connector_org_id(p_connector_id);
  if p_secrets is null or jsonb_typeof(p_secrets) <> 'object' then
    raise exception using errcode = '22023', message = '[tributary] put_connector_secrets needs a JSON object of fields to change';
  end if;
  select array_agg(k order by k) into unknown_keys from jsonb_object_keys(p_secrets) k
  where k not in ('credentials', 'webhook_secret', 'credentials_ciphertext', 'webhook_secret_ciphertext',
                  'key_id', 'wrapped_data_key', 'expected_revision');
  if unknown_keys is not null then
    raise exception using errcode = '22023', message = format('[tributary] unknown secret fields: %s', array_to_string(unknown_keys, ', '));
  end if;
  foreach field in array array['credentials', 'webhook_secret'] loop
    if p_secrets ? field and p_secrets ? (field || '_ciphertext') then
      raise exception using errcode = '22023', message = format('[tributary] %s given both as plaintext and as ciphertext', field);
    end if;
  end loop;
  if jsonb_typeof(p_secrets -> 'credentials') not in ('object', 'null') then
    raise exception using errcode = '22023',
      message = format('[tributary] credentials must be a JSON object, not %s', jsonb_typeof(p_secrets -> 'credentials')),
      hint = 'Wrap the value in an object, e.g. {"apiKey": "..."}.';
  end if;
  foreach field in array array['webhook_secret', 'credentials_ciphertext', 'webhook_secret_ciphertext', 'key_id', 'wrapped_data_key'] loop
    if jsonb_typeof(p_secrets -> field) not in ('string', 'null') or p_secrets ->> field = '' then
      raise exception using errcode = '22023', message = format('[tributary] %s must be a non-empty string or null', field);
    end if;
  end loop;
  if (p_secrets ->> 'credentials_ciphertext' is not null or p_secrets ->> 'webhook_secret_ciphertext' is not null)
     and (p_secrets ->> 'key_id' is null or p_secrets ->> 'wrapped_data_key' is null) then
    raise exception using errcode = '22023', message = '[tributary] ciphertext needs key_id and wrapped_data_key';
  end if;

  insert into tributary_private.connector_secrets (connector_id) values (p_connector_id) on conflict (connector_id) do nothing;
  select * into current from tributary_private.connector_secrets s where s.connector_id = p_connector_id for update;
  if p_secrets ? 'expected_revision' and (p_secrets ->> 'expected_revision')::integer is distinct from current.revision then
    raise exception using errcode = '40001',
      message = format('[tributary] the secrets of connector %s changed while they were being written', p_connector_id),
      hint = 'Read them again and retry.';
  end if;

  next := current;
  if p_secrets ? 'credentials' then
    next.credentials := nullif(p_secrets -> 'credentials', 'null'::jsonb); next.credentials_ciphertext := null;
  elsif p_secrets ? 'credentials_ciphertext' then
    next.credentials_ciphertext := p_secrets ->> 'credentials_ciphertext'; next.credentials := null;
  end if;
  if p_secrets ? 'webhook_secret' then
    next.webhook_secret := p_secrets ->> 'webhook_secret'; next.webhook_secret_ciphertext := null;
  elsif p_secrets ? 'webhook_secret_ciphertext' then
    next.webhook_secret_ciphertext := p_secrets ->> 'webhook_secret_ciphertext'; next.webhook_secret := null;
  end if;
  if p_secrets ->> 'wrapped_data_key' is not null then
    next.key_id := p_secrets ->> 'key_id'; next.wrapped_data_key := p_secrets ->> 'wrapped_data_key';
  end if;
  -- No ciphertext left: the data key has nothing to protect.
  if next.credentials_ciphertext is null and next.webhook_secret_ciphertext is null then
    next.key_id := null; next.wrapped_data_key := null;
  end if;

  update tributary_private.connector_secrets s set
    credentials = next.credentials, webhook_secret = next.webhook_secret,
    credentials_ciphertext = next.credentials_ciphertext, webhook_secret_ciphertext = next.webhook_secret_ciphertext,
    key_id = next.key_id, wrapped_data_key = next.wrapped_data_key,
    revision = current.revision + 1, updated_at = now()
  where s.connector_id = p_connector_id;
  if credentials_changed then
    update public.connector_configs
    set credentials_updated_at = case when next.credentials is null and next.credentials_ciphertext is null then null else now() end
    where id = p_connector_id;
  end if;
  return current.revision + 1;
end
$$;

-- Return type changes (the envelope columns), so the old function is replaced, not altered.
drop function if exists public.get_connector_secrets(uuid);
create function public.get_connector_secrets(p_connector_id uuid)
returns table (
  credentials jsonb, webhook_secret text, updated_at timestamptz,
  org_id uuid, revision integer, key_id text, wrapped_data_key text,
  credentials_ciphertext text, webhook_secret_ciphertext text
)
language plpgsql stable
set search_path = ''
as $$
declare
  connector_org uuid := tributary_private.connector_org_id(p_connector_id);
begin
  -- Always one row for an existing connector (revision 0 and nulls when nothing is stored).
  return query
  select s.credentials, s.webhook_secret, s.updated_at, connector_org, coalesce(s.revision, 0), s.key_id,
         s.wrapped_data_key, s.credentials_ciphertext, s.webhook_secret_ciphertext
  from (select) one
  left join tributary_private.connector_secrets s on s.connector_id = p_connector_id;
end
$$;

-- Key rotation, page by page (keyset on connector_id, so an interrupted rotation resumes): rows
-- whose data key is wrapped by another key than p_key_id, or that still hold plaintext.
create or replace function public.list_connector_secrets_to_rotate(p_key_id text, p_after uuid default null, p_limit integer default 100)
returns table (
  connector_id uuid, org_id uuid, revision integer, key_id text, wrapped_data_key text,
  credentials jsonb, webhook_secret text, credentials_ciphertext text, webhook_secret_ciphertext text
)
language plpgsql stable
set search_path = ''
as $$
begin
  if p_key_id is null or p_key_id = '' then
    raise exception using errcode = '22004', message = '[tributary] the target key id is null';
  end if;
  if p_limit is null or p_limit not between 1 and 1000 then
    raise exception using errcode = '22023', message = '[tributary] p_limit must be between 1 and 1000';
  end if;
  return query
  select s.connector_id, c.org_id, s.revision, s.key_id, s.wrapped_data_key, s.credentials, s.webhook_secret,
         s.credentials_ciphertext, s.webhook_secret_ciphertext
  from tributary_private.connector_secrets s join public.connector_configs c on c.id = s.connector_id
  where (p_after is null or s.connector_id > p_after)
    and ((s.wrapped_data_key is not null and s.key_id <> p_key_id) or s.credentials is not null or s.webhook_secret is not null)
  order by s.connector_id
  limit p_limit;
end
$$;

-- Writes one page of rotated rows in one statement. Each element: connector_id, expected_revision,
-- key_id, wrapped_data_key and, for rows that held plaintext, the new ciphertext of those fields.
-- A row whose revision moved is left alone (counted as not updated; the next run picks it up).
create or replace function public.rewrap_connector_secrets(p_rows jsonb)
returns integer
language plpgsql
set search_path = ''
as $$
declare
  updated_count integer;
begin
  if p_rows is null or jsonb_typeof(p_rows) <> 'array' then
    raise exception using errcode = '22023', message = '[tributary] rewrap_connector_secrets needs a JSON array';
  end if;
  with input as (
    select * from jsonb_to_recordset(p_rows) as x(connector_id uuid, expected_revision integer, key_id text,
      wrapped_data_key text, credentials_ciphertext text, webhook_secret_ciphertext text)
  ), updated as (
    update tributary_private.connector_secrets s set
      key_id = i.key_id, wrapped_data_key = i.wrapped_data_key,
      credentials_ciphertext = coalesce(i.credentials_ciphertext, s.credentials_ciphertext),
      credentials = case when i.credentials_ciphertext is null then s.credentials end,
      webhook_secret_ciphertext = coalesce(i.webhook_secret_ciphertext, s.webhook_secret_ciphertext),
      webhook_secret = case when i.webhook_secret_ciphertext is null then s.webhook_secret end,
      revision = s.revision + 1, updated_at = now()
    from input i
    where s.connector_id = i.connector_id and s.revision = i.expected_revision
      and i.key_id is not null and i.wrapped_data_key is not null
    returning 1
  )
  select count(*)::integer into updated_count from updated;
  return updated_count;
end
$$;

-- ---------------------------------------------------------------------------------------------
-- Connectors (invoker rights: row level security decides; owners/admins manage, members read)
-- ---------------------------------------------------------------------------------------------
create or replace function public.create_connector(
  p_org_id uuid,
  p_connector_type text,
  p_name text,
  p_settings jsonb default '{}'::jsonb,
  p_id uuid default null,
  p_description text default null,
  p_sync_frequency text default 'manual',
  p_is_active boolean default true
)
returns public.connector_configs
language plpgsql
set search_path = ''
as $$
declare
  result public.connector_configs;
begin
  perform tributary_private.assert_org_access(p_org_id);
  if p_connector_type is null or p_connector_type !~ '^[a-z][a-z0-9_]{0,62}$' then
    raise exception using errcode = '22023',
      message = format('[tributary] connector type %s is not valid', coalesce(quote_literal(p_connector_type), 'null')),
      hint = 'A type is 1 to 63 characters of a-z, 0-9 and _, starting with a letter (e.g. google_drive).';
  end if;
  if p_settings is null or jsonb_typeof(p_settings) <> 'object' then
    raise exception using errcode = '22023', message = '[tributary] connector settings must be a JSON object';
  end if;
  insert into public.connector_configs (id, org_id, connector_type, name, description, settings, sync_frequency,
    is_active, next_sync_at, created_by)
  values (coalesce(p_id, gen_random_uuid()), p_org_id, p_connector_type, p_name, p_description, p_settings,
    coalesce(p_sync_frequency, 'manual'), coalesce(p_is_active, true),
    case when coalesce(p_sync_frequency, 'manual') <> 'manual' then now() end, (select auth.uid()))
  returning * into result;
  return result;
end
$$;

-- p_changes holds only what changes: name, description, settings, sync_frequency, is_active.
create or replace function public.update_connector(p_connector_id uuid, p_changes jsonb)
returns public.connector_configs
language plpgsql
set search_path = ''
as $$
declare
  unknown_keys text[];
  result public.connector_configs;
begin
  perform tributary_private.connector_org_id(p_connector_id);
  if p_changes is null or jsonb_typeof(p_changes) <> 'object' then
    raise exception using errcode = '22023', message = '[tributary] update_connector needs a JSON object of changes';
  end if;
  select array_agg(k order by k) into unknown_keys from jsonb_object_keys(p_changes) k
  where k not in ('name', 'description', 'settings', 'sync_frequency', 'is_active');
  if unknown_keys is not null then
    raise exception using errcode = '22023', message = format('[tributary] cannot change %s', array_to_string(unknown_keys, ', ')),
      hint = 'Changeable: name, description, settings, sync_frequency, is_active.';
  end if;
  if p_changes ? 'settings' and jsonb_typeof(p_changes -> 'settings') <> 'object' then
    raise exception using errcode = '22023', message = '[tributary] connector settings must be a JSON object';
  end if;
  update public.connector_configs c set
    name = case when p_changes ? 'name' then p_changes ->> 'name' else c.name end,
    description = case when p_changes ? 'description' then p_changes ->> 'description' else c.description end,
    settings = case when p_changes ? 'settings' then p_changes -> 'settings' else c.settings end,
    sync_frequency = case when p_changes ? 'sync_frequency' then p_changes ->> 'sync_frequency' else c.sync_frequency end,
    is_active = case when p_changes ? 'is_active' then (p_changes ->> 'is_active')::boolean else c.is_active end,
    next_sync_at = case
      when (case when p_changes ? 'sync_frequency' then p_changes ->> 'sync_frequency' else c.sync_frequency end) = 'manual' then null
      else coalesce(c.next_sync_at, now()) end
  where c.id = p_connector_id
  returning c.* into result;
  if not found then
    raise exception using errcode = '42501', message = format('[tributary] not allowed to change connector %s', p_connector_id),
      hint = 'Owners and admins of the organisation manage its connectors.';
  end if;
  return result;
end
$$;

-- Deletes a connector; the 0003 trigger soft-deletes its documents first (they leave search at
-- once), runs keep their history with connector_id cleared, secrets go with the row. Refused while
-- a sync holds a live lease: the run would write documents of a connector that no longer exists.
create or replace function public.delete_connector(p_connector_id uuid)
returns table (connector_id uuid, documents_deleted integer)
language plpgsql
set search_path = ''
as $$
#variable_conflict use_column
declare
  connector_org uuid := tributary_private.connector_org_id(p_connector_id);
  live integer;
  running uuid;
begin
  perform 1 from public.connector_configs c where c.id = p_connector_id for update;
  select s.id into running from public.connector_sync_logs s
  where s.org_id = connector_org and s.connector_id = p_connector_id and s.status = 'running' and s.lease_expires_at > now()
  limit 1;
  if running is not null then
    raise exception using errcode = '55000',
      message = format('[tributary] connector %s has a sync running (run %s)', p_connector_id, running),
      hint = 'Wait for it to finish or cancel it, then remove the connector.';
  end if;
  select count(*)::integer into live from public.imported_documents d
  where d.org_id = connector_org and d.connector_id = p_connector_id and not d.is_deleted;
  delete from public.connector_configs c where c.id = p_connector_id;
  if not found then
    raise exception using errcode = '42501', message = format('[tributary] not allowed to remove connector %s', p_connector_id),
      hint = 'Owners and admins of the organisation manage its connectors.';
  end if;
  return query select p_connector_id, live;
end
$$;

-- What `tributary connector show` prints: the row's sync fields, document counts and the last run.
create or replace function public.get_connector_status(p_connector_id uuid)
returns table (
  live_documents integer, pending_documents integer, processing_documents integer, completed_documents integer,
  failed_documents integer, deleted_documents integer, total_chunks bigint, total_bytes bigint,
  has_credentials boolean, last_run jsonb
)
language plpgsql stable
set search_path = ''
as $$
declare
  connector_org uuid := tributary_private.connector_org_id(p_connector_id);
begin
  return query
  select
    (count(*) filter (where not d.is_deleted))::integer,
    (count(*) filter (where not d.is_deleted and d.processing_status = 'pending'))::integer,
    (count(*) filter (where not d.is_deleted and d.processing_status = 'processing'))::integer,
    (count(*) filter (where not d.is_deleted and d.processing_status = 'completed'))::integer,
    (count(*) filter (where not d.is_deleted and d.processing_status = 'failed'))::integer,
    (count(*) filter (where d.is_deleted))::integer,
    coalesce(sum(d.chunk_count) filter (where not d.is_deleted), 0)::bigint,
    coalesce(sum(d.file_size_bytes) filter (where not d.is_deleted), 0)::bigint,
    (select c.credentials_updated_at is not null from public.connector_configs c where c.id = p_connector_id),
    (select to_jsonb(r) from (
       select s.id, s.status, s.sync_type, s.sync_mode, s.started_at, s.completed_at, s.lease_expires_at,
              s.documents_synced, s.documents_updated, s.documents_skipped, s.documents_failed, s.documents_deleted,
              s.error_message
       from public.connector_sync_logs s
       where s.org_id = connector_org and s.connector_id = p_connector_id
       order by s.started_at desc limit 1) r)
  from public.imported_documents d
  where d.org_id = connector_org and d.connector_id = p_connector_id;
end
$$;

-- ---------------------------------------------------------------------------------------------
-- Grants
-- ---------------------------------------------------------------------------------------------
revoke all on function tributary_private.connector_org_id(uuid) from public, anon;
grant execute on function tributary_private.connector_org_id(uuid) to authenticated, service_role;

revoke all on function public.put_connector_secrets(uuid, jsonb) from public, anon, authenticated;
revoke all on function public.get_connector_secrets(uuid) from public, anon, authenticated;
revoke all on function public.list_connector_secrets_to_rotate(text, uuid, integer) from public, anon, authenticated;
revoke all on function public.rewrap_connector_secrets(jsonb) from public, anon, authenticated;
revoke all on function public.create_connector(uuid, text, text, jsonb, uuid, text, text, boolean) from public, anon;
revoke all on function public.update_connector(uuid, jsonb) from public, anon;
revoke all on function public.delete_connector(uuid) from public, anon;
revoke all on function public.get_connector_status(uuid) from public, anon;

grant execute on function public.put_connector_secrets(uuid, jsonb) to service_role;
grant execute on function public.get_connector_secrets(uuid) to service_role;
grant execute on function public.list_connector_secrets_to_rotate(text, uuid, integer) to service_role;
grant execute on function public.rewrap_connector_secrets(jsonb) to service_role;
grant execute on function public.create_connector(uuid, text, text, jsonb, uuid, text, text, boolean) to authenticated, service_role;
grant execute on function public.update_connector(uuid, jsonb) to authenticated, service_role;
grant execute on function public.delete_connector(uuid) to authenticated, service_role;
grant execute on function public.get_connector_status(uuid) to authenticated, service_role;
