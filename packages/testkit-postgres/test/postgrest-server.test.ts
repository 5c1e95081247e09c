import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createClient, type SupabaseClient } from '@supabase/supabase-js';
import type pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  httpStatusForSqlState,
  type PostgresServer,
  type PostgrestServer,
  startPostgresServer,
  startPostgrestServer,
} from '../src/index.js';

describe('httpStatusForSqlState', () => {
  it("follows PostgREST's documented SQLSTATE → HTTP status table", () => {
    const cases: [string, string, number][] = [
      ['42501', 'anon', 401],
      ['42501', 'authenticated', 403],
      ['42501', 'service_role', 403],
      ['23505', 'anon', 409],
      ['23503', 'anon', 409],
      ['23502', 'anon', 400],
      ['23514', 'anon', 400],
      ['22P02', 'anon', 400],
      ['42703', 'anon', 400],
      ['P0001', 'anon', 400],
      ['P0002', 'anon', 500],
      ['PT402', 'anon', 402],
      ['42883', 'anon', 404],
      ['42P01', 'anon', 404],
      ['42P17', 'anon', 500],
      ['25006', 'anon', 405],
      ['25P02', 'anon', 500],
      ['08006', 'anon', 503],
      ['53300', 'anon', 503],
      ['53400', 'anon', 500],
      ['54001', 'anon', 413],
      ['28000', 'anon', 403],
      ['0P000', 'anon', 403],
      ['40001', 'anon', 500],
      ['57014', 'anon', 500],
      ['XX000', 'anon', 500],
    ];
    for (const [code, role, status] of cases)
      expect([code, httpStatusForSqlState(code, role)]).toEqual([code, status]);
  });
});

function sortByTitle<T extends { title: string }>(rows: T[] | null): T[] {
  return [...(rows ?? [])].sort((a, b) => a.title.localeCompare(b.title));
}

const clientOptions = { auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false } };

describe('startPostgrestServer with the real supabase-js client', () => {
  let postgres: PostgresServer;
  let pool: pg.Pool;
  let database: string;
  let api: PostgrestServer;
  let anon: SupabaseClient;
  let service: SupabaseClient;
  const alice = randomUUID();
  const bob = randomUUID();
  let asAlice: SupabaseClient;
  let asBob: SupabaseClient;

  const userClient = (token: string) =>
    createClient(api.url, api.anonKey, {
      ...clientOptions,
      global: { headers: { Authorization: `Bearer ${token}` } },
    });

  beforeAll(async () => {
    postgres = await startPostgresServer();
    database = await postgres.createDatabase();
    pool = postgres.pool(database, { max: 8 });
    await pool.query(await readFile(new URL('./fixtures/postgrest-schema.sql', import.meta.url), 'utf8'));
    api = await startPostgrestServer({ pool });
    anon = createClient(api.url, api.anonKey, clientOptions);
    service = createClient(api.url, api.serviceRoleKey, clientOptions);
    asAlice = userClient(await api.signUserToken(alice));
    asBob = userClient(await api.signUserToken(bob));
  });

  afterAll(async () => {
    await api?.stop();
    await postgres?.stop();
  });

  beforeEach(async () => {
    await pool.query('truncate public.notes restart identity');
    await pool.query(
      `insert into public.notes (owner, title, body, score) values
         ($1, 'a1', 'first', 10), ($1, 'a2', null, 20), ($1, 'a3', 'third', 30),
         ($2, 'b1', 'bob''s', 5)`,
      [alice, bob],
    );
  });

  describe('auth and row level security', () => {
    it('signs real HS256 JWTs with the role claims Supabase uses', async () => {
      const [, payload] = api.anonKey.split('.');
      expect(JSON.parse(Buffer.from(payload as string, 'base64url').toString())).toMatchObject({
        role: 'anon',
      });
      const token = await api.signUserToken(alice, { app_metadata: { plan: 'pro' } });
      const claims = JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString());
      expect(claims).toMatchObject({ role: 'authenticated', sub: alice, app_metadata: { plan: 'pro' } });
      expect(claims.exp).toBeGreaterThan(Date.now() / 1000);
    });

    it('filters rows by the JWT: anon sees none, a user their own, service_role all', async () => {
      const asAnon = await anon.from('notes').select('title');
      expect(asAnon.error).toBeNull();
      expect(asAnon.data).toEqual([]);

      const mine = await asAlice.from('notes').select('title').order('title');
      expect(mine.data).toEqual([{ title: 'a1' }, { title: 'a2' }, { title: 'a3' }]);
      const bobs = await asBob.from('notes').select('title,owner');
      expect(bobs.data).toEqual([{ title: 'b1', owner: bob }]);

      const all = await service.from('notes').select('title', { count: 'exact' });
      expect(all.data).toHaveLength(4);
      expect(all.count).toBe(4);
    });

    it('passes the JWT claims to SQL (auth.uid(), auth.jwt())', async () => {
      const token = await api.signUserToken(alice, { app_metadata: { org: 'acme' } });
      const { data, error } = await userClient(token).rpc('whoami');
      expect(error).toBeNull();
      expect(data).toMatchObject({
        uid: alice,
        role: 'authenticated',
        current_role: 'authenticated',
        claims: { sub: alice, app_metadata: { org: 'acme' } },
        method: 'POST',
        path: '/rpc/whoami',
        client_info: expect.stringContaining('supabase-js'),
      });
      const asService = await service.rpc('whoami');
      expect(asService.data).toMatchObject({ uid: null, role: 'service_role', current_role: 'service_role' });
    });

    it('keeps role and claims transaction-local: nothing leaks to the next request on a connection', async () => {
      const single = postgres.pool(database, { max: 1 });
      const narrow = await startPostgrestServer({ pool: single });
      try {
        const user = createClient(narrow.url, narrow.anonKey, {
          ...clientOptions,
          global: { headers: { Authorization: `Bearer ${await narrow.signUserToken(alice)}` } },
        });
        const nobody = createClient(narrow.url, narrow.anonKey, clientOptions);
        expect((await user.rpc('whoami')).data).toMatchObject({ uid: alice, current_role: 'authenticated' });
        expect((await nobody.rpc('whoami')).data).toMatchObject({
          uid: null,
          role: 'anon',
          current_role: 'anon',
        });
        const { rows } = await single.query(
          "select current_user as who, current_setting('request.jwt.claims', true) as claims",
        );
        expect(rows).toEqual([{ who: 'postgres', claims: '' }]);
      } finally {
        await narrow.stop();
        await single.end();
      }
    });

    it('serves concurrent requests from different users, each on its own connection and role', async () => {
      const results = await Promise.all(
        Array.from({ length: 12 }, (_, n) => (n % 2 === 0 ? asAlice : asBob).from('notes').select('owner')),
      );
      results.forEach((result, n) => {
        expect(result.error).toBeNull();
        const owners = new Set(result.data?.map((row) => row.owner));
        expect([...owners]).toEqual([n % 2 === 0 ? alice : bob]);
      });
    });

    it('refuses a token signed with another secret and an expired token with 401 PGRST301', async () => {
      const other = await startPostgrestServer({ pool });
      try {
        const forged = userClient(await other.signUserToken(alice));
        const { data, error, status } = await forged.from('notes').select('title');
        expect(status).toBe(401);
        expect(data).toBeNull();
        expect(error).toMatchObject({ code: 'PGRST301', message: 'JWSError JWSInvalidSignature' });
      } finally {
        await other.stop();
      }
      const expired = userClient(await api.signToken({ role: 'authenticated', sub: alice }, -60));
      const result = await expired.from('notes').select('title');
      expect(result.status).toBe(401);
      expect(result.error).toMatchObject({ code: 'PGRST301', message: 'JWT expired' });

      const response = await fetch(`${api.url}/rest/v1/notes`);
      expect(response.status).toBe(401);
      expect(await response.json()).toMatchObject({
        code: 'PGRST301',
        details: null,
        hint: expect.any(String),
      });
    });

    it('a denied insert is 42501: 403 for a user (RLS), 401 for anon (no grant)', async () => {
      const denied = await asAlice.from('notes').insert({ owner: bob, title: 'sneaky' }).select();
      expect(denied.status).toBe(403);
      expect(denied.error).toMatchObject({ code: '42501' });
      expect(denied.error?.message).toContain('row-level security');

      const anonymous = await anon.from('notes').insert({ owner: alice, title: 'anon' });
      expect(anonymous.status).toBe(401);
      expect(anonymous.error).toMatchObject({ code: '42501', message: 'permission denied for table notes' });
      const { rows } = await pool.query(
        "select count(*)::int as n from public.notes where title in ('sneaky', 'anon')",
      );
      expect(rows[0].n).toBe(0);
    });
  });

  describe('select', () => {
    it('applies eq, neq, in, is, gt/gte/lt/lte, like, not, order, limit and offset', async () => {
      const base = () => service.from('notes').select('title').order('title');
      const titles = async (build: (q: ReturnType<typeof base>) => ReturnType<typeof base>) => {
        const { data, error } = await build(base());
        expect(error).toBeNull();
        return (data ?? []).map((row) => row.title);
      };
      expect(await titles((q) => q.eq('title', 'a2'))).toEqual(['a2']);
      expect(await titles((q) => q.neq('owner', alice))).toEqual(['b1']);
      expect(await titles((q) => q.in('title', ['a1', 'b1', 'zz']))).toEqual(['a1', 'b1']);
      expect(await titles((q) => q.is('body', null))).toEqual(['a2']);
      expect(await titles((q) => q.not('body', 'is', null))).toEqual(['a1', 'a3', 'b1']);
      expect(await titles((q) => q.gt('score', 10))).toEqual(['a2', 'a3']);
      expect(await titles((q) => q.gte('score', 10).lt('score', 30))).toEqual(['a1', 'a2']);
      expect(await titles((q) => q.lte('score', 5))).toEqual(['b1']);
      expect(await titles((q) => q.like('title', 'a%'))).toEqual(['a1', 'a2', 'a3']);
      expect(await titles((q) => q.ilike('body', '%BOB%'))).toEqual(['b1']);
      expect(await titles((q) => q.in('title', ['with,comma', 'a"quote', 'a3', '(x)']))).toEqual(['a3']);

      const ordered = await service
        .from('notes')
        .select('title, score')
        .order('score', { ascending: false })
        .limit(2);
      expect(ordered.data).toEqual([
        { title: 'a3', score: 30 },
        { title: 'a2', score: 20 },
      ]);
      const page = await service.from('notes').select('title').order('score').range(1, 2);
      expect(page.data).toEqual([{ title: 'a1' }, { title: 'a2' }]);

      // Values with reserved characters are quoted by supabase-js; a quote inside a value is data.
      await pool.query(`insert into public.notes (owner, title) values ($1, 'with,comma'), ($1, 'a"quote')`, [
        bob,
      ]);
      expect(await titles((q) => q.in('title', ['with,comma', 'a"quote']))).toEqual([
        'a"quote',
        'with,comma',
      ]);
    });

    it('counts with Prefer: count=exact and a Content-Range header, also for HEAD and Range', async () => {
      const counted = await asAlice
        .from('notes')
        .select('title', { count: 'exact' })
        .order('title')
        .range(0, 1);
      expect(counted.count).toBe(3);
      expect(counted.data).toEqual([{ title: 'a1' }, { title: 'a2' }]);

      const head = await service.from('notes').select('*', { count: 'exact', head: true }).gt('score', 5);
      expect(head.count).toBe(3);
      expect(head.data).toBeNull();

      const response = await fetch(`${api.url}/rest/v1/notes?select=title&order=title`, {
        headers: { apikey: api.serviceRoleKey, Range: '1-2', Prefer: 'count=exact' },
      });
      expect(response.status).toBe(206);
      expect(response.headers.get('content-range')).toBe('1-2/4');
      expect(await response.json()).toEqual([{ title: 'a2' }, { title: 'a3' }]);
    });

    it('renames with alias:column and keeps JSON types as PostgreSQL renders them', async () => {
      const { data } = await service.from('notes').select('name:title,score,created_at').eq('title', 'a1');
      expect(data).toEqual([
        { name: 'a1', score: 10, created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) },
      ]);
    });

    it('.single() returns an object, 406 PGRST116 for several rows; .maybeSingle() gives null for none', async () => {
      const one = await asAlice.from('notes').select('title').eq('title', 'a1').single();
      expect(one.data).toEqual({ title: 'a1' });
      const several = await asAlice.from('notes').select('title').single();
      expect(several.status).toBe(406);
      expect(several.error).toMatchObject({ code: 'PGRST116', details: 'The result contains 3 rows' });
      const none = await asAlice.from('notes').select('title').eq('title', 'b1').maybeSingle();
      expect(none.error).toBeNull();
      expect(none.data).toBeNull();
    });
  });

  describe('writes', () => {
    it('inserts an object or an array with return=representation (defaults from auth.uid())', async () => {
      const single = await asAlice
        .from('notes')
        .insert({ title: 'new', score: 1 })
        .select('id, owner, title')
        .single();
      expect(single.error).toBeNull();
      expect(single.status).toBe(201);
      expect(single.data).toMatchObject({ owner: alice, title: 'new' });
      expect(typeof (single.data as { id: number }).id).toBe('number');

      const many = await asBob
        .from('notes')
        .insert([{ title: 'x', score: 1 }, { title: 'y' }])
        .select('title, score');
      expect(many.data).toEqual([
        { title: 'x', score: 1 },
        { title: 'y', score: null },
      ]);

      const minimal = await asBob.from('notes').insert({ title: 'quiet' });
      expect(minimal.status).toBe(201);
      expect(minimal.data).toBeNull();
      expect(minimal.error).toBeNull();
      const { rows } = await pool.query('select owner from public.notes where title = $1', ['quiet']);
      expect(rows).toEqual([{ owner: bob }]);
    });

    it('upserts with on_conflict: merge-duplicates updates, ignore-duplicates keeps', async () => {
      const merged = await asAlice
        .from('notes')
        .upsert(
          [
            { owner: alice, title: 'a1', score: 99 },
            { owner: alice, title: 'a9', score: 9 },
          ],
          { onConflict: 'owner,title' },
        )
        .select('title, score, body');
      expect(merged.error).toBeNull();
      expect(sortByTitle(merged.data)).toEqual([
        { title: 'a1', score: 99, body: 'first' },
        { title: 'a9', score: 9, body: null },
      ]);
      const ignored = await asAlice
        .from('notes')
        .upsert(
          { owner: alice, title: 'a2', score: 1 },
          { onConflict: 'owner,title', ignoreDuplicates: true },
        )
        .select('title');
      expect(ignored.data).toEqual([]);
      const { rows } = await pool.query("select score from public.notes where title = 'a2'");
      expect(rows).toEqual([{ score: 20 }]);
    });

    it('updates and deletes only what the filters and RLS allow', async () => {
      const updated = await asAlice
        .from('notes')
        .update({ body: 'edited' })
        .lt('score', 25)
        .select('title, body');
      expect(updated.status).toBe(200);
      expect(sortByTitle(updated.data)).toEqual([
        { title: 'a1', body: 'edited' },
        { title: 'a2', body: 'edited' },
      ]);
      const others = await asAlice.from('notes').update({ body: 'hacked' }).eq('title', 'b1').select();
      expect(others.data).toEqual([]);
      const counted = await asAlice.from('notes').update({ score: 0 }, { count: 'exact' }).eq('owner', alice);
      expect(counted.status).toBe(204);
      expect(counted.count).toBe(3);

      const deleted = await asBob.from('notes').delete().in('title', ['a1', 'b1']).select('title');
      expect(deleted.data).toEqual([{ title: 'b1' }]);
      const { rows } = await pool.query('select title, body from public.notes order by title');
      expect(rows).toEqual([
        { title: 'a1', body: 'edited' },
        { title: 'a2', body: 'edited' },
        { title: 'a3', body: 'third' },
      ]);
    });

    it('maps constraint errors: 23505 → 409, 23514 → 400, 23502 → 400, with details', async () => {
      const duplicate = await asAlice.from('notes').insert({ title: 'a1' });
      expect(duplicate.status).toBe(409);
      // PostgreSQL hides the key in `details` when row level security applies to the caller.
      expect(duplicate.error).toMatchObject({ code: '23505', details: null });
      const asService = await service.from('notes').insert({ owner: alice, title: 'a1' });
      expect(asService.status).toBe(409);
      expect(asService.error).toMatchObject({
        code: '23505',
        details: expect.stringContaining('already exists'),
      });
      const check = await asAlice.from('notes').insert({ title: 'neg', score: -1 });
      expect(check.status).toBe(400);
      expect(check.error).toMatchObject({ code: '23514' });
      const missing = await service.from('notes').insert({ title: null, owner: alice });
      expect(missing.status).toBe(400);
      expect(missing.error).toMatchObject({ code: '23502' });
    });

    it('runs a request in one transaction: a failing row rolls back the whole batch', async () => {
      const batch = await asAlice.from('notes').insert([{ title: 'ok1' }, { title: 'ok2' }, { title: 'a1' }]);
      expect(batch.error?.code).toBe('23505');
      const { rows } = await pool.query("select count(*)::int as n from public.notes where title like 'ok%'");
      expect(rows[0].n).toBe(0);
      const single = await asAlice.from('notes').update({ body: 'x' }).eq('owner', alice).select().single();
      expect(single.status).toBe(406);
      const after = await pool.query("select count(*)::int as n from public.notes where body = 'x'");
      expect(after.rows[0].n).toBe(0);
    });
  });

  describe('rpc', () => {
    it('returns a scalar, a set (filterable) and a single row as PostgREST does', async () => {
      const scalar = await asAlice.rpc('my_note_count');
      expect(scalar).toMatchObject({ data: 3, error: null });
      const defaults = await asAlice.rpc('add', { a: 2 });
      expect(defaults.data).toBe(3);
      const both = await asAlice.rpc('add', { a: 2, b: 40 });
      expect(both.data).toBe(42);

      const set = await asAlice.rpc('notes_above', { min_score: 15 }).select('title');
      expect(set.data).toEqual([{ title: 'a2' }, { title: 'a3' }]);
      const filtered = await asAlice
        .rpc('notes_above', { min_score: 0 })
        .select('title,score')
        .lt('score', 30)
        .order('score', { ascending: false });
      expect(filtered.data).toEqual([
        { title: 'a2', score: 20 },
        { title: 'a1', score: 10 },
      ]);
      const page = await asAlice
        .rpc('notes_above', { min_score: 0 }, { count: 'exact' })
        .select('title')
        .order('title')
        .range(1, 1);
      expect(page.data).toEqual([{ title: 'a2' }]);
      expect(page.count).toBe(3);
      const one = await asAlice.rpc('notes_above', { min_score: 25 }).select('title').single();
      expect(one.data).toEqual({ title: 'a3' });

      const row = await asAlice.rpc('note_stats', { owner_id: alice });
      expect(row.data).toEqual({ notes: 3, total_score: 60 });
      const titles = await service.rpc('titles_of', { owners: [alice, bob] });
      expect(titles.data).toEqual(['a1', 'a2', 'a3', 'b1']);
      const voided = await service.rpc('noop', { payload: { nested: [1, 2] } });
      expect(voided.error).toBeNull();
      expect(voided.data).toBeNull();
      const { rows } = await pool.query('select payload from public.noop_log');
      expect(rows).toEqual([{ payload: { nested: [1, 2] } }]);
    });

    it('maps raise exception to 400 P0001 with details and hint; unknown functions to 404 PGRST202', async () => {
      const failed = await asAlice.rpc('fail', { reason: 'nope' });
      expect(failed.status).toBe(400);
      expect(failed.error).toMatchObject({
        code: 'P0001',
        message: 'failed: nope',
        details: 'some detail',
        hint: 'a hint',
      });
      const unknown = await asAlice.rpc('no_such_function');
      expect(unknown.status).toBe(404);
      expect(unknown.error?.code).toBe('PGRST202');
      const wrongArgs = await asAlice.rpc('add', { x: 1 });
      expect(wrongArgs.error?.code).toBe('PGRST202');
      const notExecutable = await anon.rpc('my_note_count');
      expect(notExecutable.status).toBe(401);
      expect(notExecutable.error?.code).toBe('42501');
    });
  });

  describe('refusals', () => {
    it('answers unknown columns with 400 42703 and unknown tables with 404 PGRST205', async () => {
      const select = await service.from('notes').select('title,nope');
      expect(select.status).toBe(400);
      expect(select.error).toMatchObject({ code: '42703', message: 'column notes.nope does not exist' });
      const filter = await service.from('notes').select().eq('nope', 1);
      expect(filter.error?.code).toBe('42703');
      const order = await service.from('notes').select().order('nope');
      expect(order.error?.code).toBe('42703');
      const insert = await service.from('notes').insert({ title: 't', nope: 1 });
      expect(insert.error?.code).toBe('PGRST204');
      const table = await service.from('nowhere').select();
      expect(table.status).toBe(404);
      expect(table.error?.code).toBe('PGRST205');
    });

    it('refuses injection attempts through table, column and order names', async () => {
      const attempts = [
        await service.from('notes').select('title').eq('title" = title; drop table public.notes; --', 'x'),
        await service.from('notes').select('"title\\"; drop table public.notes; --"'),
        await service.from('notes').select().order('title;drop table public.notes'),
        await service.from('notes; drop table public.notes').select(),
        await service.rpc('add"(1); drop table public.notes; --', {}),
        await service.from('notes%E0%A4%A').select(),
      ];
      for (const attempt of attempts) {
        expect(attempt.data).toBeNull();
        expect(attempt.status).toBeGreaterThanOrEqual(400);
      }
      const { rows } = await pool.query(
        "select to_regclass('public.notes') is not null as present, count(*)::int as n from public.notes",
      );
      expect(rows).toEqual([{ present: true, n: 4 }]);
    });

    it('refuses syntax it does not support with 400 naming it, never ignoring a filter', async () => {
      const or = await service.from('notes').select().or('title.eq.a1,title.eq.a2');
      expect(or.status).toBe(400);
      expect(or.error?.message).toContain('not supported');
      const embed = await service.from('notes').select('title, owner_profile(name)');
      expect(embed.status).toBe(400);
      expect(embed.error?.message).toContain('not supported');
      const operator = await service.from('notes').select().contains('title', ['a']);
      expect(operator.status).toBe(400);
      expect(operator.error?.message).toContain('"cs" is not supported');
      const badFilter = await fetch(`${api.url}/rest/v1/notes?title=a1`, {
        headers: { apikey: api.serviceRoleKey },
      });
      expect(badFilter.status).toBe(400);
      expect(((await badFilter.json()) as { code: string }).code).toBe('PGRST100');
    });
  });
});
