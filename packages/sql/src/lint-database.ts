import type { SqlQueryable } from './sql-database.js';

/**
 * Database lints equivalent to Supabase's splinter lints (same rule names), plus `policy_role_public`.
 * Each rule is one set-based catalog query; see {@link lintDatabase}.
 */
export const lintRules = [
  'unindexed_foreign_keys',
  'auth_rls_initplan',
  'multiple_permissive_policies',
  'policy_exists_rls_disabled',
  'rls_enabled_no_policy',
  'rls_disabled_in_public',
  'duplicate_index',
  'security_definer_view',
  'function_search_path_mutable',
  'extension_in_public',
  'policy_role_public',
  'rls_policy_always_true',
  'anon_security_definer_function_executable',
  'authenticated_security_definer_function_executable',
  'sensitive_columns_exposed',
  'public_bucket_allows_listing',
] as const;

export type LintRule = (typeof lintRules)[number];

export interface LintFinding {
  /** The rule (splinter's name where splinter has one). */
  rule: LintRule;
  level: 'error' | 'warn';
  /**
   * The object at fault: `schema.table`, `schema.table.column`, `schema.table.policy`,
   * `schema.table.constraint`, `schema.function(argument types)`, an extension name, or
   * `storage.buckets.<bucket id>`.
   */
  object: string;
  /** What is wrong and how to fix it. */
  message: string;
}

export interface LintDatabaseOptions {
  /** Schemas the Data API (PostgREST) exposes. Default `['public']`. */
  schemas?: string[];
  /**
   * Other schemas the application owns but does not expose (e.g. `tributary_private`). Ownership
   * rules (indexes, search_path, policies, duplicate indexes) cover them too. Default `[]`.
   */
  privateSchemas?: string[];
  /**
   * Also lint the policies on `storage.objects` (initplan, overlapping, public-role and always-true
   * policies) and public buckets that allow listing, when a `storage` schema exists. Default `true`.
   */
  storage?: boolean;
}

interface RuleContext {
  exposed: string[];
  owned: string[];
  storage: boolean;
}

type Rule = (db: SqlQueryable, ctx: RuleContext) => Promise<LintFinding[]>;

/** `c` (a pg_class row) is not a member of an extension. */
const relationNotFromExtension = (alias: string) =>
  `not exists (select from pg_catalog.pg_depend d where d.classid = 'pg_catalog.pg_class'::regclass and d.objid = ${alias}.oid and d.deptype = 'e')`;

const functionNotFromExtension = (alias: string) =>
  `not exists (select from pg_catalog.pg_depend d where d.classid = 'pg_catalog.pg_proc'::regclass and d.objid = ${alias}.oid and d.deptype = 'e')`;

/** Tables whose policies are linted: every table in an owned schema, plus storage.objects when asked. */
const policyTableScope = (c: string, n: string) =>
  `(${n}.nspname = any($1::text[]) or ($2::boolean and ${c}.oid = pg_catalog.to_regclass('storage.objects')))`;

const commandName = (alias: string) =>
  `case ${alias}.polcmd when 'r' then 'SELECT' when 'a' then 'INSERT' when 'w' then 'UPDATE' when 'd' then 'DELETE' else 'ALL' end`;

const list = (names: readonly string[]) => names.join(', ');

// ---------------------------------------------------------------------------------------------
// unindexed_foreign_keys
// ---------------------------------------------------------------------------------------------
const unindexedForeignKeys: Rule = async (db, ctx) => {
  const { rows } = await db.query<{ schema: string; tbl: string; con: string; cols: string[] }>(
    `select n.nspname as schema, c.relname as tbl, con.conname as con,
            array(select a.attname::text
                  from unnest(con.conkey) with ordinality k(attnum, ord)
                  join pg_catalog.pg_attribute a on a.attrelid = con.conrelid and a.attnum = k.attnum
                  order by k.ord) as cols
     from pg_catalog.pg_constraint con
     join pg_catalog.pg_class c on c.oid = con.conrelid
     join pg_catalog.pg_namespace n on n.oid = c.relnamespace
     where con.contype = 'f'
       and con.conparentid = 0
       and n.nspname = any($1::text[])
       and ${relationNotFromExtension('c')}
       and not exists (
         select from pg_catalog.pg_index i
         where i.indrelid = con.conrelid
           and i.indisvalid
           and i.indpred is null
           and (string_to_array(i.indkey::text, ' ')::int2[])[1:cardinality(con.conkey)] @> con.conkey
           and (string_to_array(i.indkey::text, ' ')::int2[])[1:cardinality(con.conkey)] <@ con.conkey
       )`,
    [ctx.owned],
  );
  return rows.map((r) => ({
    rule: 'unindexed_foreign_keys',
    level: 'warn',
    object: `${r.schema}.${r.tbl}.${r.con}`,
    message:
      `Foreign key ${r.con} on ${r.schema}.${r.tbl} (${list(r.cols)}) has no index whose leading columns are ` +
      `its columns, so deletes/updates of the referenced rows and joins scan the table. Add ` +
      `\`create index on ${r.schema}.${r.tbl} (${list(r.cols)})\` (a non-partial index; the columns may come in any order ` +
      `but must lead the index).`,
  }));
};

// ---------------------------------------------------------------------------------------------
// auth_rls_initplan
// ---------------------------------------------------------------------------------------------

/** A node of a `pg_node_tree` as printed by PostgreSQL's outfuncs: `{TYPE :field value ...}`. */
interface TreeNode {
  type: string;
  fields: Map<string, TreeValue[]>;
}
type TreeValue = TreeNode | TreeValue[] | string | null;

function tokenizeNodeTree(text: string): string[] {
  const tokens: string[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i] as string;
    if (ch === ' ' || ch === '\n' || ch === '\t' || ch === '\r') {
      i += 1;
    } else if (ch === '{' || ch === '}' || ch === '(' || ch === ')' || ch === '[' || ch === ']') {
      tokens.push(ch);
      i += 1;
    } else if (ch === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      tokens.push(text.slice(i, j + 1));
      i = j + 1;
    } else {
      let j = i;
      while (j < text.length && !' \n\t\r{}()[]'.includes(text[j] as string)) j += text[j] === '\\' ? 2 : 1;
      tokens.push(text.slice(i, j));
      i = j;
    }
  }
  return tokens;
}

function parseNodeTree(text: string): TreeValue {
  const tokens = tokenizeNodeTree(text);
  let pos = 0;
  const parseValue = (): TreeValue => {
    const token = tokens[pos];
    if (token === '{') {
      pos += 1;
      const node: TreeNode = { type: tokens[pos] ?? '', fields: new Map() };
      pos += 1;
      let key = '';
      while (pos < tokens.length && tokens[pos] !== '}') {
        const t = tokens[pos] as string;
        if (t.startsWith(':')) {
          key = t.slice(1);
          node.fields.set(key, []);
          pos += 1;
        } else {
          const value = parseValue();
          node.fields.get(key)?.push(value);
        }
      }
      pos += 1;
      return node;
    }
    if (token === '(' || token === '[') {
      const close = token === '(' ? ')' : ']';
      pos += 1;
      const items: TreeValue[] = [];
      while (pos < tokens.length && tokens[pos] !== close) items.push(parseValue());
      pos += 1;
      return items;
    }
    pos += 1;
    return token === '<>' || token === undefined ? null : token;
  };
  return parseValue();
}

const isNode = (value: TreeValue): value is TreeNode =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

function* childValues(value: TreeValue): Generator<TreeValue> {
  if (Array.isArray(value)) {
    for (const item of value) yield item;
  } else if (isNode(value)) {
    for (const values of value.fields.values()) for (const item of values) yield item;
  }
}

/**
 * Lowest query level (0 = the policy expression itself) that any Var under `value` refers to,
 * where `depth` is the query level `value` sits at. `Infinity` when no Var is found.
 */
function lowestReferencedLevel(value: TreeValue, depth: number, cache: Map<TreeNode, number>): number {
  if (isNode(value)) {
    const cached = cache.get(value);
    if (cached !== undefined) return cached;
    let result = Number.POSITIVE_INFINITY;
    if (value.type === 'VAR') {
      const up = Number(value.fields.get('varlevelsup')?.[0] ?? 0);
      result = depth - up;
    } else {
      const inner = value.type === 'QUERY' ? depth + 1 : depth;
      for (const child of childValues(value))
        result = Math.min(result, lowestReferencedLevel(child, inner, cache));
    }
    cache.set(value, result);
    return result;
  }
  let result = Number.POSITIVE_INFINITY;
  for (const child of childValues(value))
    result = Math.min(result, lowestReferencedLevel(child, depth, cache));
  return result;
}

/**
 * Function ids called in `tree` outside any uncorrelated sub-select. An uncorrelated sub-select
 * (`(select auth.uid())`, `array(select ...)`) becomes an InitPlan that runs once per statement;
 * anything else runs once per row.
 */
function callsEvaluatedPerRow(tree: TreeValue, watched: ReadonlySet<string>): Set<string> {
  const found = new Set<string>();
  const cache = new Map<TreeNode, number>();
  const walk = (value: TreeValue, depth: number, wrapped: boolean) => {
    if (isNode(value)) {
      if (value.type === 'FUNCEXPR') {
        const funcid = value.fields.get('funcid')?.[0];
        if (typeof funcid === 'string' && watched.has(funcid) && !wrapped) found.add(funcid);
      }
      if (value.type === 'SUBLINK') {
        // The sub-select runs once per statement unless it refers to the outer row; the test
        // expression (`x = any (select ...)`) still runs per row.
        const subselect = value.fields.get('subselect')?.[0] ?? null;
        const uncorrelated = lowestReferencedLevel(subselect, depth, cache) > depth;
        for (const [field, values] of value.fields) {
          for (const child of values) walk(child, depth, wrapped || (field === 'subselect' && uncorrelated));
        }
        return;
      }
      const inner = value.type === 'QUERY' ? depth + 1 : depth;
      for (const child of childValues(value)) walk(child, inner, wrapped);
      return;
    }
    for (const child of childValues(value)) walk(child, depth, wrapped);
  };
  walk(tree, 0, false);
  return found;
}

const authRlsInitplan: Rule = async (db, ctx) => {
  const { rows } = await db.query<{
    schema: string;
    tbl: string;
    policy: string;
    qual: string | null;
    with_check: string | null;
    watched: { oid: string; name: string }[] | null;
  }>(
    `select n.nspname as schema, c.relname as tbl, p.polname as policy,
            p.polqual::text as qual, p.polwithcheck::text as with_check,
            (select json_agg(json_build_object('oid', f.oid::text, 'name', fn.nspname || '.' || f.proname))
             from pg_catalog.pg_proc f join pg_catalog.pg_namespace fn on fn.oid = f.pronamespace
             where (fn.nspname = 'auth' and f.proname in ('uid', 'jwt', 'role', 'email'))
                or (fn.nspname = 'pg_catalog' and f.proname = 'current_setting')) as watched
     from pg_catalog.pg_policy p
     join pg_catalog.pg_class c on c.oid = p.polrelid
     join pg_catalog.pg_namespace n on n.oid = c.relnamespace
     where ${policyTableScope('c', 'n')} and ${relationNotFromExtension('c')}`,
    [ctx.owned, ctx.storage],
  );
  const findings: LintFinding[] = [];
  for (const r of rows) {
    const names = new Map((r.watched ?? []).map((w) => [w.oid, w.name]));
    const watched = new Set(names.keys());
    const calls = new Set<string>();
    for (const tree of [r.qual, r.with_check]) {
      if (tree)
        for (const oid of callsEvaluatedPerRow(parseNodeTree(tree), watched))
          calls.add(names.get(oid) ?? oid);
    }
    if (calls.size === 0) continue;
    const called = [...calls].sort().map((name) => `${name.replace(/^pg_catalog\./, '')}()`);
    findings.push({
      rule: 'auth_rls_initplan',
      level: 'warn',
      object: `${r.schema}.${r.tbl}.${r.policy}`,
      message:
        `Policy "${r.policy}" on ${r.schema}.${r.tbl} calls ${list(called)} once per row. Wrap each call in a ` +
        `sub-select so it runs once per statement, e.g. \`(select auth.uid())\`, ` +
        '`org_id = any (array(select tributary_private.user_org_ids()))`.',
    });
  }
  return findings;
};

// ---------------------------------------------------------------------------------------------
// multiple_permissive_policies
// ---------------------------------------------------------------------------------------------
const multiplePermissivePolicies: Rule = async (db, ctx) => {
  const { rows } = await db.query<{
    schema: string;
    tbl: string;
    role: string;
    action: string;
    policies: string[];
  }>(
    `with tables as (
       select c.oid, n.nspname, c.relname
       from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
       where c.relkind in ('r', 'p') and ${policyTableScope('c', 'n')} and ${relationNotFromExtension('c')}
     ),
     policies as (
       select p.polrelid, p.polname, p.polroles, a.action
       from pg_catalog.pg_policy p
       join tables t on t.oid = p.polrelid
       cross join lateral unnest(case p.polcmd
         when 'r' then array['SELECT'] when 'a' then array['INSERT'] when 'w' then array['UPDATE']
         when 'd' then array['DELETE'] else array['SELECT', 'INSERT', 'UPDATE', 'DELETE'] end) a(action)
       where p.polpermissive
     ),
     -- A policy for PUBLIC applies to every role: the API roles and every role named on the table.
     table_roles as (
       select distinct p.polrelid, r.role
       from pg_catalog.pg_policy p join tables t on t.oid = p.polrelid
       cross join lateral unnest(p.polroles) r(role)
       where r.role <> 0
       union
       select t.oid, r.oid from tables t join pg_catalog.pg_roles r on r.rolname in ('anon', 'authenticated')
     )
     select t.nspname as schema, t.relname as tbl, ro.rolname as role, p.action,
            array_agg(p.polname::text order by p.polname) as policies
     from policies p
     join table_roles tr on tr.polrelid = p.polrelid and (tr.role = any (p.polroles) or 0 = any (p.polroles))
     join pg_catalog.pg_roles ro on ro.oid = tr.role and not ro.rolbypassrls
     join tables t on t.oid = p.polrelid
     group by t.nspname, t.relname, ro.rolname, p.action
     having count(*) > 1`,
    [ctx.owned, ctx.storage],
  );
  return rows.map((r) => ({
    rule: 'multiple_permissive_policies',
    level: 'warn',
    object: `${r.schema}.${r.tbl}`,
    message:
      `${r.schema}.${r.tbl} has ${r.policies.length} permissive policies for role ${r.role} and ${r.action} ` +
      `(${list(r.policies)}); PostgreSQL evaluates every one of them for each row. Merge them into one policy per ` +
      `role and action (a FOR ALL policy counts for every action; a policy without TO applies to every role).`,
  }));
};

// ---------------------------------------------------------------------------------------------
// policy_exists_rls_disabled, rls_enabled_no_policy, rls_disabled_in_public
// ---------------------------------------------------------------------------------------------
const policyExistsRlsDisabled: Rule = async (db, ctx) => {
  const { rows } = await db.query<{ schema: string; tbl: string; policies: string[] }>(
    `select n.nspname as schema, c.relname as tbl, array_agg(p.polname::text order by p.polname) as policies
     from pg_catalog.pg_class c
     join pg_catalog.pg_namespace n on n.oid = c.relnamespace
     join pg_catalog.pg_policy p on p.polrelid = c.oid
     where c.relkind in ('r', 'p') and not c.relrowsecurity
       and ${policyTableScope('c', 'n')} and ${relationNotFromExtension('c')}
     group by n.nspname, c.relname`,
    [ctx.owned, ctx.storage],
  );
  return rows.map((r) => ({
    rule: 'policy_exists_rls_disabled',
    level: 'error',
    object: `${r.schema}.${r.tbl}`,
    message:
      `${r.schema}.${r.tbl} has policies (${list(r.policies)}) but row level security is disabled, so they are ` +
      `ignored. Run \`alter table ${r.schema}.${r.tbl} enable row level security\`.`,
  }));
};

const rlsEnabledNoPolicy: Rule = async (db, ctx) => {
  const { rows } = await db.query<{ schema: string; tbl: string }>(
    `select n.nspname as schema, c.relname as tbl
     from pg_catalog.pg_class c
     join pg_catalog.pg_namespace n on n.oid = c.relnamespace
     where c.relkind in ('r', 'p') and c.relrowsecurity
       and n.nspname = any($1::text[]) and ${relationNotFromExtension('c')}
       and not exists (select from pg_catalog.pg_policy p where p.polrelid = c.oid)`,
    [ctx.exposed],
  );
  return rows.map((r) => ({
    rule: 'rls_enabled_no_policy',
    level: 'warn',
    object: `${r.schema}.${r.tbl}`,
    message:
      `${r.schema}.${r.tbl} is in an exposed schema with row level security enabled but no policies, so the API ` +
      `roles can never see or change a row. Add a policy for each role that needs access (\`to authenticated\`), ` +
      `or move a service-only table to a schema the API does not expose.`,
  }));
};

const rlsDisabledInPublic: Rule = async (db, ctx) => {
  const { rows } = await db.query<{ schema: string; tbl: string }>(
    `select n.nspname as schema, c.relname as tbl
     from pg_catalog.pg_class c
     join pg_catalog.pg_namespace n on n.oid = c.relnamespace
     where c.relkind in ('r', 'p') and not c.relrowsecurity
       and n.nspname = any($1::text[]) and ${relationNotFromExtension('c')}`,
    [ctx.exposed],
  );
  return rows.map((r) => ({
    rule: 'rls_disabled_in_public',
    level: 'error',
    object: `${r.schema}.${r.tbl}`,
    message:
      `${r.schema}.${r.tbl} is in a schema the Data API exposes but row level security is disabled: any role ` +
      `with a grant reads and writes every row. Run \`alter table ${r.schema}.${r.tbl} enable row level security\` ` +
      `and add policies.`,
  }));
};

// ---------------------------------------------------------------------------------------------
// duplicate_index
// ---------------------------------------------------------------------------------------------
const duplicateIndex: Rule = async (db, ctx) => {
  const { rows } = await db.query<{ schema: string; tbl: string; indexes: string[] }>(
    `select n.nspname as schema, c.relname as tbl, array_agg(ic.relname::text order by ic.relname) as indexes
     from pg_catalog.pg_index i
     join pg_catalog.pg_class ic on ic.oid = i.indexrelid
     join pg_catalog.pg_class c on c.oid = i.indrelid
     join pg_catalog.pg_namespace n on n.oid = c.relnamespace
     where c.relkind in ('r', 'p', 'm') and n.nspname = any($1::text[]) and ${relationNotFromExtension('c')}
     group by n.nspname, c.relname, i.indrelid, ic.relam, i.indisunique, i.indkey::text, i.indclass::text,
              i.indcollation::text, i.indoption::text,
              coalesce(pg_catalog.pg_get_expr(i.indexprs, i.indrelid), ''),
              coalesce(pg_catalog.pg_get_expr(i.indpred, i.indrelid), '')
     having count(*) > 1`,
    [ctx.owned],
  );
  return rows.map((r) => ({
    rule: 'duplicate_index',
    level: 'warn',
    object: `${r.schema}.${r.tbl}`,
    message:
      `${r.schema}.${r.tbl} has identical indexes ${list(r.indexes)}; each write maintains all of them. ` +
      `Drop all but one (\`drop index ${r.schema}.${r.indexes[r.indexes.length - 1]}\`).`,
  }));
};

// ---------------------------------------------------------------------------------------------
// security_definer_view
// ---------------------------------------------------------------------------------------------
const securityDefinerView: Rule = async (db, ctx) => {
  const { rows } = await db.query<{ schema: string; view: string }>(
    `select n.nspname as schema, c.relname as view
     from pg_catalog.pg_class c
     join pg_catalog.pg_namespace n on n.oid = c.relnamespace
     where c.relkind = 'v' and n.nspname = any($1::text[]) and ${relationNotFromExtension('c')}
       and not exists (
         select from unnest(coalesce(c.reloptions, '{}')) o
         where lower(o) in ('security_invoker=true', 'security_invoker=on', 'security_invoker=1', 'security_invoker=yes')
       )`,
    [ctx.exposed],
  );
  return rows.map((r) => ({
    rule: 'security_definer_view',
    level: 'error',
    object: `${r.schema}.${r.view}`,
    message:
      `View ${r.schema}.${r.view} is in an exposed schema and runs with its owner's privileges, bypassing the ` +
      `caller's row level security. Recreate it \`with (security_invoker = true)\` (or ` +
      `\`alter view ${r.schema}.${r.view} set (security_invoker = true)\`).`,
  }));
};

// ---------------------------------------------------------------------------------------------
// function_search_path_mutable
// ---------------------------------------------------------------------------------------------
const functionSearchPathMutable: Rule = async (db, ctx) => {
  const { rows } = await db.query<{ schema: string; fn: string; args: string }>(
    `select n.nspname as schema, p.proname as fn, pg_catalog.pg_get_function_identity_arguments(p.oid) as args
     from pg_catalog.pg_proc p
     join pg_catalog.pg_namespace n on n.oid = p.pronamespace
     where p.prokind in ('f', 'p') and n.nspname = any($1::text[]) and ${functionNotFromExtension('p')}
       and not exists (select from unnest(coalesce(p.proconfig, '{}')) cfg where cfg like 'search_path=%')`,
    [ctx.owned],
  );
  return rows.map((r) => ({
    rule: 'function_search_path_mutable',
    level: 'warn',
    object: `${r.schema}.${r.fn}(${r.args})`,
    message:
      `Function ${r.schema}.${r.fn}(${r.args}) has no fixed search_path, so it resolves names through the ` +
      `caller's search_path (a security definer function can be hijacked this way). Add \`set search_path = ''\` ` +
      `and qualify every name in the body.`,
  }));
};

// ---------------------------------------------------------------------------------------------
// extension_in_public
// ---------------------------------------------------------------------------------------------
const extensionInPublic: Rule = async (db, ctx) => {
  const { rows } = await db.query<{ ext: string; schema: string }>(
    `select e.extname as ext, n.nspname as schema
     from pg_catalog.pg_extension e
     join pg_catalog.pg_namespace n on n.oid = e.extnamespace
     where n.nspname = any($1::text[]) or n.nspname = 'public'`,
    [ctx.exposed],
  );
  return rows.map((r) => ({
    rule: 'extension_in_public',
    level: 'warn',
    object: r.ext,
    message:
      `Extension ${r.ext} is installed in schema ${r.schema}, so its functions and types are exposed through the ` +
      `API and clutter it. Install it in schema \`extensions\` (\`create extension ${r.ext} with schema extensions\`, ` +
      `or \`alter extension ${r.ext} set schema extensions\`).`,
  }));
};

// ---------------------------------------------------------------------------------------------
// policy_role_public
// ---------------------------------------------------------------------------------------------
const policyRolePublic: Rule = async (db, ctx) => {
  const { rows } = await db.query<{ schema: string; tbl: string; policy: string; command: string }>(
    `select n.nspname as schema, c.relname as tbl, p.polname as policy, ${commandName('p')} as command
     from pg_catalog.pg_policy p
     join pg_catalog.pg_class c on c.oid = p.polrelid
     join pg_catalog.pg_namespace n on n.oid = c.relnamespace
     where 0 = any (p.polroles) and ${policyTableScope('c', 'n')} and ${relationNotFromExtension('c')}`,
    [ctx.owned, ctx.storage],
  );
  return rows.map((r) => ({
    rule: 'policy_role_public',
    level: 'warn',
    object: `${r.schema}.${r.tbl}.${r.policy}`,
    message:
      `Policy "${r.policy}" (${r.command}) on ${r.schema}.${r.tbl} has no TO clause, so it applies to every role ` +
      `(PUBLIC), including anon. Name the roles it is for (\`to authenticated\`, \`to service_role\`).`,
  }));
};

// ---------------------------------------------------------------------------------------------
// rls_policy_always_true
// ---------------------------------------------------------------------------------------------
const rlsPolicyAlwaysTrue: Rule = async (db, ctx) => {
  const { rows } = await db.query<{
    schema: string;
    tbl: string;
    policy: string;
    command: string;
    roles: string[];
    using_true: boolean;
    check_true: boolean;
  }>(
    `with policies as (
       select n.nspname as schema, c.relname as tbl, p.polname as policy, p.polcmd, p.polroles, ${commandName('p')} as command,
              regexp_replace(lower(coalesce(pg_catalog.pg_get_expr(p.polqual, p.polrelid), '')), '\\s', '', 'g') as qual,
              regexp_replace(lower(coalesce(pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid), '')), '\\s', '', 'g') as with_check,
              p.polwithcheck is null as no_check
       from pg_catalog.pg_policy p
       join pg_catalog.pg_class c on c.oid = p.polrelid
       join pg_catalog.pg_namespace n on n.oid = c.relnamespace
       where p.polpermissive and ${policyTableScope('c', 'n')} and ${relationNotFromExtension('c')}
     )
     select schema, tbl, policy, command,
            array(select case when r.role = 0 then 'public' else pg_catalog.pg_get_userbyid(r.role)::text end
                  from unnest(polroles) r(role) order by 1) as roles,
            qual in ('true', '(true)', '1=1', '(1=1)') as using_true,
            with_check in ('true', '(true)', '1=1', '(1=1)') or (polcmd = 'a' and no_check) as check_true
     from policies
     where (qual in ('true', '(true)', '1=1', '(1=1)') or with_check in ('true', '(true)', '1=1', '(1=1)')
            or (polcmd = 'a' and no_check))
       and (0 = any (polroles) or exists (
             select from unnest(polroles) r(role) join pg_catalog.pg_roles ro on ro.oid = r.role
             where not ro.rolbypassrls and ro.rolname <> 'service_role'))`,
    [ctx.owned, ctx.storage],
  );
  return rows.map((r) => {
    const which =
      r.using_true && r.check_true ? 'USING and WITH CHECK are' : r.using_true ? 'USING is' : 'WITH CHECK is';
    return {
      rule: 'rls_policy_always_true',
      level: 'warn',
      object: `${r.schema}.${r.tbl}.${r.policy}`,
      message:
        `Policy "${r.policy}" (${r.command}) on ${r.schema}.${r.tbl} for ${list(r.roles)}: ${which} always true, ` +
        `so row level security does not restrict these roles. Restrict it to the caller's rows (e.g. ` +
        '`org_id = any (array(select tributary_private.user_org_ids()))`), or make it `to service_role` only.',
    };
  });
};

// ---------------------------------------------------------------------------------------------
// anon_/authenticated_security_definer_function_executable
// ---------------------------------------------------------------------------------------------
const securityDefinerExecutable: Rule = async (db, ctx) => {
  const { rows } = await db.query<{ schema: string; fn: string; args: string; role: string }>(
    `select n.nspname as schema, p.proname as fn, pg_catalog.pg_get_function_identity_arguments(p.oid) as args,
            r.rolname as role
     from pg_catalog.pg_proc p
     join pg_catalog.pg_namespace n on n.oid = p.pronamespace
     join pg_catalog.pg_roles r on r.rolname in ('anon', 'authenticated')
     where p.prosecdef and p.prokind in ('f', 'p')
       and p.prorettype not in ('pg_catalog.trigger'::regtype, 'pg_catalog.event_trigger'::regtype)
       and n.nspname = any($1::text[]) and ${functionNotFromExtension('p')}
       and pg_catalog.has_function_privilege(r.oid, p.oid, 'EXECUTE')`,
    [ctx.exposed],
  );
  return rows.map((r) => {
    const anon = r.role === 'anon';
    return {
      rule: anon
        ? 'anon_security_definer_function_executable'
        : 'authenticated_security_definer_function_executable',
      level: anon ? 'error' : 'warn',
      object: `${r.schema}.${r.fn}(${r.args})`,
      message:
        `Security definer function ${r.schema}.${r.fn}(${r.args}) is in an exposed schema and executable by ` +
        `${r.role}, who can call it through /rest/v1/rpc/${r.fn} with its owner's privileges (bypassing RLS). ` +
        `\`revoke execute on function ${r.schema}.${r.fn}(${r.args}) from public, ${r.role}\`, make it security ` +
        `invoker, or move it to a schema the API does not expose.`,
    };
  });
};

// ---------------------------------------------------------------------------------------------
// sensitive_columns_exposed
// ---------------------------------------------------------------------------------------------

/**
 * Column names that hold credentials: a credential word as the whole name or its last
 * `_`-separated part (optionally followed by a representation suffix like `_hash`), so
 * `password`, `client_secret`, `refresh_token`, `api_key`, `password_hash` match while
 * `token_count`, `max_tokens` and `secret_id` (a Vault reference) do not. Names saying the value
 * is encrypted (`encrypted_credentials`) are exempt.
 */
const sensitiveColumnPattern =
  '(^|_)(password|passwd|pwd|passphrase|secret|secrets|token|credential|credentials|creds|api_?key|api_?keys|private_?key|private_?keys|secret_?key|access_?key|jwt)(_(hash|hashed|digest|plain|plaintext|value|raw|data|json|text))?$';
const encryptedColumnPattern = '(^|_)(encrypted|ciphertext|sealed)(_|$)';

const sensitiveColumnsExposed: Rule = async (db, ctx) => {
  const { rows } = await db.query<{ schema: string; tbl: string; col: string; roles: string[] }>(
    `select n.nspname as schema, c.relname as tbl, a.attname as col,
            array_agg(r.rolname::text order by r.rolname) as roles
     from pg_catalog.pg_class c
     join pg_catalog.pg_namespace n on n.oid = c.relnamespace
     join pg_catalog.pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
     join pg_catalog.pg_roles r on r.rolname in ('anon', 'authenticated')
     where c.relkind in ('r', 'p', 'v', 'm', 'f') and n.nspname = any($1::text[]) and ${relationNotFromExtension('c')}
       and replace(lower(a.attname), '-', '_') ~ $2
       and replace(lower(a.attname), '-', '_') !~ $3
       and pg_catalog.has_column_privilege(r.oid, c.oid, a.attnum, 'SELECT')
     group by n.nspname, c.relname, a.attname`,
    [ctx.exposed, sensitiveColumnPattern, encryptedColumnPattern],
  );
  return rows.map((r) => ({
    rule: 'sensitive_columns_exposed',
    level: 'error',
    object: `${r.schema}.${r.tbl}.${r.col}`,
    message:
      `Column ${r.col} of ${r.schema}.${r.tbl} looks like a credential and ${list(r.roles)} can select it through ` +
      `the API. Keep credentials out of client-readable tables (a private schema or Vault secret ids), encrypt them ` +
      `with a key the database never sees, or \`revoke select (${r.col}) on ${r.schema}.${r.tbl} from ` +
      `${list(r.roles)}\` (revoke the table-level SELECT and grant the other columns).`,
  }));
};

// ---------------------------------------------------------------------------------------------
// public_bucket_allows_listing
// ---------------------------------------------------------------------------------------------
const publicBucketAllowsListing: Rule = async (db, ctx) => {
  if (!ctx.storage) return [];
  const { rows: present } = await db.query<{ ok: boolean }>(
    `select pg_catalog.to_regclass('storage.buckets') is not null
        and pg_catalog.to_regclass('storage.objects') is not null
        and exists (select from pg_catalog.pg_attribute a
                    where a.attrelid = pg_catalog.to_regclass('storage.buckets') and a.attname = 'public'
                      and not a.attisdropped) as ok`,
  );
  if (!present[0]?.ok) return [];
  const { rows } = await db.query<{ bucket: string; policies: string[] }>(
    `select b.id::text as bucket, array_agg(p.polname::text order by p.polname) as policies
     from storage.buckets b
     join pg_catalog.pg_policy p on p.polrelid = 'storage.objects'::regclass
     where b.public and p.polpermissive and p.polcmd in ('r', '*')
       and (0 = any (p.polroles) or exists (
             select from unnest(p.polroles) r(role) join pg_catalog.pg_roles ro on ro.oid = r.role
             where ro.rolname in ('anon', 'authenticated')))
       and (p.polqual is null
            or regexp_replace(lower(pg_catalog.pg_get_expr(p.polqual, p.polrelid)), '\\s', '', 'g')
               in ('true', '(true)', '1=1', '(1=1)')
            or regexp_replace(pg_catalog.pg_get_expr(p.polqual, p.polrelid), '\\s', '', 'g')
               in ('(bucket_id=' || quote_literal(b.id::text) || '::text)', '(bucket_id=' || quote_literal(b.id::text) || ')'))
     group by b.id`,
  );
  return rows.map((r) => ({
    rule: 'public_bucket_allows_listing',
    level: 'warn',
    object: `storage.buckets.${r.bucket}`,
    message:
      `Public bucket ${r.bucket} has a broad SELECT policy on storage.objects (${list(r.policies)}) that lets ` +
      `clients list every file in it. Public object URLs do not need it: drop the policy or restrict it to the ` +
      `caller's folder.`,
  }));
};

/** In the order of {@link lintRules}; one query reports both security definer rules. */
const rules: Rule[] = [
  unindexedForeignKeys,
  authRlsInitplan,
  multiplePermissivePolicies,
  policyExistsRlsDisabled,
  rlsEnabledNoPolicy,
  rlsDisabledInPublic,
  duplicateIndex,
  securityDefinerView,
  functionSearchPathMutable,
  extensionInPublic,
  policyRolePublic,
  rlsPolicyAlwaysTrue,
  securityDefinerExecutable,
  sensitiveColumnsExposed,
  publicBucketAllowsListing,
];

/**
 * Lints a database the way Supabase's splinter does, for the rules in {@link lintRules}. Exposed
 * `schemas` get the API-surface rules (RLS on, security invoker views, no security definer RPCs
 * for anon/authenticated, no readable credential columns); exposed and `privateSchemas` get the
 * ownership rules (indexed foreign keys, fixed search_path, no duplicate indexes, well-formed
 * policies). Objects that belong to extensions are ignored. Findings are sorted by rule and object.
 */
export async function lintDatabase(
  db: SqlQueryable,
  options: LintDatabaseOptions = {},
): Promise<LintFinding[]> {
  const exposed = [...new Set(options.schemas ?? ['public'])];
  const owned = [...new Set([...exposed, ...(options.privateSchemas ?? [])])];
  const ctx: RuleContext = { exposed, owned, storage: options.storage ?? true };
  const findings: LintFinding[] = [];
  // Sequential on purpose: a SqlQueryable may be a single connection.
  for (const rule of rules) findings.push(...(await rule(db, ctx)));
  const order = new Map<string, number>(lintRules.map((rule, index) => [rule, index]));
  return findings.sort(
    (a, b) =>
      (order.get(a.rule) ?? 0) - (order.get(b.rule) ?? 0) ||
      compare(a.object, b.object) ||
      compare(a.message, b.message),
  );
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
