-- Scale-out (@tributary/worker): what many workers on one database must agree on, once, in SQL.
-- - claim_due_syncs: the scheduler's claim. Due connectors (sync_frequency <> 'manual',
--   next_sync_at <= now) are locked with SKIP LOCKED and moved to their next slot in the same
--   statement, so however many schedulers run, each due slot is handed to exactly one of them. The
--   worker enqueues the sync job in the same transaction, so a scheduler that dies after claiming
--   rolls the claim back with it.
-- - reserve_rate_tokens: a shared request budget per provider account (GCRA, the token bucket
--   written as one timestamp), used by every worker. It hands out send times rather than a yes/no,
--   so a worker reserves several requests in one round trip and waits locally.
-- - pending_webhook_events: the webhook events of a connector still to process (recorded, not
--   processed, attempts left), oldest first: the work queue of the webhook job.
-- Errors follow 0004_functions: 22004 null, 22023 invalid value.

-- Fail fast instead of queueing every reader behind a blocked DDL statement (the runner's
-- transaction scopes both settings to this file).
set local lock_timeout = '5s';
set local statement_timeout = '15min';


-- The next slot of a frequency, from a point in time. NULL for 'manual'.
create or replace function tributary_private.next_sync_slot(p_frequency text, p_from timestamptz)
returns timestamptz
language sql
immutable
set search_path = ''
as $$
  select case p_frequency
    when 'hourly' then p_from + interval '1 hour'
    when 'daily' then p_from + interval '1 day'
    when 'weekly' then p_from + interval '7 days'
    else null
  end
$$;

create or replace function public.claim_due_syncs(p_limit integer default 100, p_now timestamptz default now())
returns table (connector_id uuid, org_id uuid, connector_type text, sync_frequency text, due_at timestamptz)
language plpgsql
set search_path = ''
as $$
#variable_conflict use_column
begin
  if p_limit is null or p_now is null then
    raise exception using errcode = '22004', message = '[tributary] p_limit and p_now must not be null',
      hint = 'Pass how many connectors to claim at most (1-10000) and the current time.';
  end if;
  if p_limit < 1 or p_limit > 10000 then
    raise exception using errcode = '22023', message = format('[tributary] p_limit must be between 1 and 10000, got %s', p_limit),
      hint = 'Claim in pages: call again while it returns a full page.';
  end if;
  -- Oldest due first; rows another scheduler holds are skipped, not waited for. The slot moves
  -- from now (not from the old slot) so a connector that was due for days syncs once, not once
  -- per missed slot.
  return query
  with due as (
    select c.id, c.next_sync_at
    from public.connector_configs c
    where c.is_active and c.sync_frequency <> 'manual' and c.next_sync_at <= p_now
    order by c.next_sync_at, c.id
    limit p_limit
    for update skip locked
  )
  update public.connector_configs c
  set next_sync_at = tributary_private.next_sync_slot(c.sync_frequency, p_now)
  from due
  where c.id = due.id
  returning c.id, c.org_id, c.connector_type, c.sync_frequency, due.next_sync_at;
end
$$;
comment on function public.claim_due_syncs(integer, timestamptz) is
  'Claims up to p_limit due scheduled connectors (SKIP LOCKED) and moves each to its next slot; returns the claimed ones with the slot that was due. Enqueue their sync jobs in the same transaction. Service role only.';

-- ---------------------------------------------------------------------------------------------
-- Shared rate budgets. One row per budget key (a provider account: `notion:<workspace>`), holding
-- the theoretical arrival time (TAT) of the generic cell rate algorithm: a request may go at
-- `max(now, tat - tolerance)` and moves TAT on by one emission interval (1 / rate). That is a token
-- bucket of `burst` tokens refilled at `rate`, kept as one timestamp, updated under a row lock.
-- ---------------------------------------------------------------------------------------------
create table if not exists tributary_private.rate_budgets (
  key text primary key,
  tat timestamptz not null,
  updated_at timestamptz not null default now(),
  constraint rate_budgets_key_check check (char_length(key) between 1 and 200)
);
comment on table tributary_private.rate_budgets is
  'Shared request budgets of @tributary/worker (GCRA state per provider account). Safe to truncate: budgets restart full.';

create or replace function public.reserve_rate_tokens(
  p_key text,
  p_count integer,
  p_requests_per_second double precision,
  p_burst integer default 1
)
returns double precision[]
language plpgsql
set search_path = ''
as $$
declare
  now_ts timestamptz;
  emission interval;
  tolerance interval;
  current_tat timestamptz;
  slot timestamptz;
  waits double precision[] := '{}';
begin
  if p_key is null or p_count is null or p_requests_per_second is null or p_burst is null then
    raise exception using errcode = '22004', message = '[tributary] p_key, p_count, p_requests_per_second and p_burst must not be null',
      hint = 'Pass the budget key, how many requests to reserve, the rate and the burst.';
  end if;
  if char_length(p_key) not between 1 and 200 then
    raise exception using errcode = '22023', message = '[tributary] p_key must be 1-200 characters',
      hint = 'Use a short key per provider account, e.g. notion:<workspace id>.';
  end if;
  if p_count < 1 or p_count > 1000 then
    raise exception using errcode = '22023', message = format('[tributary] p_count must be between 1 and 1000, got %s', p_count),
      hint = 'Reserve what the waiting requests need.';
  end if;
  if not (p_requests_per_second > 0 and p_requests_per_second <= 100000) or p_burst < 1 or p_burst > 100000 then
    raise exception using errcode = '22023',
      message = format('[tributary] p_requests_per_second must be in (0, 100000] and p_burst in [1, 100000], got %s and %s', p_requests_per_second, p_burst),
      hint = 'Pass the provider''s documented rate and burst.';
  end if;
  emission := make_interval(secs => 1.0 / p_requests_per_second);
  tolerance := emission * (p_burst - 1);

  insert into tributary_private.rate_budgets as b (key, tat) values (p_key, clock_timestamp())
  on conflict (key) do nothing;
  select b.tat into current_tat from tributary_private.rate_budgets b where b.key = p_key for update;
  -- Read the clock after the lock: waiting for another worker's reservation takes time.
  now_ts := clock_timestamp();
  for i in 1..p_count loop
    slot := greatest(now_ts, current_tat - tolerance);
    current_tat := greatest(current_tat, slot) + emission;
    waits := waits || (extract(epoch from (slot - now_ts)) * 1000)::double precision;
  end loop;
  update tributary_private.rate_budgets b set tat = current_tat, updated_at = now_ts where b.key = p_key;
  return waits;
end
$$;
comment on function public.reserve_rate_tokens(text, integer, double precision, integer) is
  'Reserves p_count requests of a shared budget (GCRA: p_requests_per_second, p_burst) and returns, for each, the milliseconds from now after which it may be sent. Service role only.';

-- ---------------------------------------------------------------------------------------------
-- The webhook job's queue of work: events recorded but not processed, with attempts left.
-- ---------------------------------------------------------------------------------------------
create index if not exists connector_webhook_events_pending_idx
  on public.connector_webhook_events (connector_id, received_at) where not processed;

create or replace function public.pending_webhook_events(
  p_connector_id uuid,
  p_limit integer default 500,
  p_max_attempts integer default 5
)
returns table (webhook_event_id uuid, event_id text, event_type text, payload jsonb, retry_count integer)
language plpgsql
stable
set search_path = ''
as $$
#variable_conflict use_column
begin
  if p_connector_id is null or p_limit is null or p_max_attempts is null then
    raise exception using errcode = '22004', message = '[tributary] p_connector_id, p_limit and p_max_attempts must not be null',
      hint = 'Pass the connector whose pending webhook events you want.';
  end if;
  if p_limit < 1 or p_limit > 10000 or p_max_attempts < 1 then
    raise exception using errcode = '22023', message = '[tributary] p_limit must be 1-10000 and p_max_attempts at least 1',
      hint = 'Read in pages of at most 10000.';
  end if;
  return query
  select e.id, e.event_id, e.event_type, e.payload, e.retry_count
  from public.connector_webhook_events e
  where e.connector_id = p_connector_id and not e.processed and e.retry_count < p_max_attempts
  order by e.received_at, e.id
  limit p_limit;
end
$$;
comment on function public.pending_webhook_events(uuid, integer, integer) is
  'Webhook events of a connector recorded but not yet processed, with fewer than p_max_attempts failed attempts, oldest first. Events at the limit stay visible in connector_webhook_events (processing_error, retry_count). Service role only.';

revoke all on table tributary_private.rate_budgets from public, anon, authenticated;
grant select, insert, update, delete on table tributary_private.rate_budgets to service_role;
revoke all on function tributary_private.next_sync_slot(text, timestamptz) from public, anon, authenticated;
revoke all on function public.claim_due_syncs(integer, timestamptz) from public, anon, authenticated;
revoke all on function public.reserve_rate_tokens(text, integer, double precision, integer) from public, anon, authenticated;
revoke all on function public.pending_webhook_events(uuid, integer, integer) from public, anon, authenticated;
grant execute on function tributary_private.next_sync_slot(text, timestamptz) to service_role;
grant execute on function public.claim_due_syncs(integer, timestamptz) to service_role;
grant execute on function public.reserve_rate_tokens(text, integer, double precision, integer) to service_role;
grant execute on function public.pending_webhook_events(uuid, integer, integer) to service_role;
