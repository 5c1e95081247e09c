import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import pg from 'pg';
import {
  type Filter,
  type ParsedQuery,
  PostgrestError,
  type Preferences,
  parsePrefer,
  parseQuery,
  parseRange,
  type SelectItem,
  unsupported,
} from './postgrest-query.js';
import { createStorageApi, type StorageApiOptions } from './storage-api.js';
import { SupabaseJwt, type SupabaseJwtClaims } from './supabase-jwt.js';

export interface PostgrestServerOptions {
  /** Pool for the target database; its user must be able to `set role` to the API roles (e.g. a superuser). */
  pool: pg.Pool;
  /** HS256 secret for keys and user tokens; default: a random one. At least 32 characters. */
  jwtSecret?: string;
  /** The exposed schema (PostgREST's `db-schemas`); default `public`. */
  schema?: string;
  /** TCP port on 127.0.0.1; default: a free port picked by the OS. */
  port?: number;
  /**
   * Also serve the Supabase Storage API under `/storage/v1` (what `supabase.storage.from(bucket)`
   * calls), with object bytes in `storage.directory` and object rows in `storage.objects` under the
   * database's policies. Needs the `storage` schema (Supabase's, or @tributary/sql's shim).
   */
  storage?: StorageApiOptions;
}

export interface PostgrestServer {
  /** Base URL for `createClient(url, key)`; the REST API is served under `${url}/rest/v1`. */
  readonly url: string;
  /** A JWT with `role: anon`, like a Supabase project's anon key. */
  readonly anonKey: string;
  /** A JWT with `role: service_role`, like a Supabase project's service role key. */
  readonly serviceRoleKey: string;
  readonly jwtSecret: string;
  /** Where the Storage API keeps object bytes, when `storage` was given (absolute path). */
  readonly storageDirectory: string | undefined;
  /** An access token for a signed-in user (`role: authenticated`, `sub: userId`, one hour). */
  signUserToken(userId: string, extraClaims?: Record<string, unknown>): Promise<string>;
  /** Signs arbitrary claims (e.g. an already expired token: `expiresInSeconds: -60`). */
  signToken(claims: Record<string, unknown>, expiresInSeconds?: number): Promise<string>;
  /** Forgets the cached table and function definitions (like `notify pgrst, 'reload schema'`). */
  reloadSchemaCache(): void;
  /** Stops the HTTP server (the pool stays open: it belongs to the caller). */
  stop(): Promise<void>;
}

interface TableColumn {
  name: string;
}

interface TableInfo {
  schema: string;
  name: string;
  columns: Map<string, TableColumn>;
  primaryKey: string[];
}

interface FunctionInfo {
  schema: string;
  name: string;
  /** Input arguments (name, SQL type, has a default). */
  inputs: { name: string; type: string; hasDefault: boolean }[];
  returnsSet: boolean;
  /** Output columns when the function returns rows; `null` for a scalar. */
  outputColumns: string[] | null;
  returnsVoid: boolean;
}

const tableAlias = '_pgrst_t';
const quote = pg.escapeIdentifier;

/** PostgREST's HTTP status for a PostgreSQL SQLSTATE (docs.postgrest.org, "HTTP Status Codes"). */
export function httpStatusForSqlState(code: string, role: string): number {
  if (code === '42501') return role === 'anon' ? 401 : 403;
  if (code === '23503' || code === '23505') return 409;
  if (code === '25006') return 405;
  if (code === '53400') return 500;
  if (code === 'P0001') return 400;
  if (code === '42883' || code === '42P01') return 404;
  if (code === '42P17') return 500;
  if (/^PT\d{3}$/.test(code)) return Number(code.slice(2));
  const prefix = code.slice(0, 2);
  switch (prefix) {
    case '08':
    case '53':
      return 503;
    case '0L':
    case '0P':
    case '28':
      return 403;
    case '54':
      return 413;
    case '09':
    case '25':
    case '2D':
    case '38':
    case '39':
    case '3B':
    case '40':
    case '55':
    case '57':
    case '58':
    case 'F0':
    case 'HV':
    case 'P0':
    case 'XX':
      return 500;
    default:
      return 400;
  }
}

class SchemaCache {
  readonly #tables = new Map<string, TableInfo>();
  readonly #functions = new Map<string, FunctionInfo[]>();

  constructor(
    private readonly pool: pg.Pool,
    readonly schema: string,
  ) {}

  clear(): void {
    this.#tables.clear();
    this.#functions.clear();
  }

  async table(name: string): Promise<TableInfo> {
    const cached = this.#tables.get(name);
    if (cached) return cached;
    const relation = await this.pool.query<{ oid: number }>(
      `select c.oid from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
        where n.nspname = $1 and c.relname = $2 and c.relkind in ('r', 'v', 'm', 'p', 'f')`,
      [this.schema, name],
    );
    const oid = relation.rows[0]?.oid;
    if (oid === undefined) {
      throw new PostgrestError(
        404,
        'PGRST205',
        `Could not find the table '${this.schema}.${name}' in the schema cache`,
      );
    }
    const columns = await this.pool.query<{ attname: string }>(
      `select attname from pg_catalog.pg_attribute
        where attrelid = $1 and attnum > 0 and not attisdropped order by attnum`,
      [oid],
    );
    const primaryKey = await this.pool.query<{ attname: string }>(
      `select a.attname from pg_catalog.pg_index i
         join pg_catalog.pg_attribute a on a.attrelid = i.indrelid and a.attnum = any (i.indkey)
        where i.indrelid = $1 and i.indisprimary order by array_position(i.indkey::int2[], a.attnum)`,
      [oid],
    );
    const info: TableInfo = {
      schema: this.schema,
      name,
      columns: new Map(columns.rows.map((row) => [row.attname, { name: row.attname }])),
      primaryKey: primaryKey.rows.map((row) => row.attname),
    };
    this.#tables.set(name, info);
    return info;
  }

  async functions(name: string): Promise<FunctionInfo[]> {
    const cached = this.#functions.get(name);
    if (cached) return cached;
    const { rows } = await this.pool.query<{
      argnames: string[] | null;
      argmodes: string[] | null;
      argtypes: string[];
      nargdefaults: number;
      retset: boolean;
      rettype: string;
      typtype: string;
      typrelid: number;
      relcolumns: string[] | null;
    }>(
      `select p.proargnames as argnames,
              p.proargmodes::text[] as argmodes,
              array(select pg_catalog.format_type(t, null)
                      from unnest(coalesce(p.proallargtypes, p.proargtypes::oid[])) with ordinality as u(t, i)
                     order by i) as argtypes,
              p.pronargdefaults as nargdefaults,
              p.proretset as retset,
              pg_catalog.format_type(p.prorettype, null) as rettype,
              t.typtype::text as typtype,
              t.typrelid::int as typrelid,
              case when t.typrelid <> 0 then array(
                select a.attname::text from pg_catalog.pg_attribute a
                 where a.attrelid = t.typrelid and a.attnum > 0 and not a.attisdropped order by a.attnum)
              end as relcolumns
         from pg_catalog.pg_proc p
         join pg_catalog.pg_namespace n on n.oid = p.pronamespace
         join pg_catalog.pg_type t on t.oid = p.prorettype
        where n.nspname = $1 and p.proname = $2 and p.prokind = 'f'`,
      [this.schema, name],
    );
    const infos = rows.map((row): FunctionInfo => {
      const argtypes = row.argtypes;
      const modes = row.argmodes ?? argtypes.map(() => 'i');
      const names = row.argnames ?? argtypes.map(() => '');
      const inputs: FunctionInfo['inputs'] = [];
      const outputs: string[] = [];
      argtypes.forEach((type, index) => {
        const mode = modes[index] ?? 'i';
        const argName = names[index] ?? '';
        if (mode === 'i' || mode === 'b' || mode === 'v')
          inputs.push({ name: argName, type, hasDefault: false });
        if (mode === 'o' || mode === 'b' || mode === 't') outputs.push(argName);
      });
      inputs.forEach((input, index) => {
        input.hasDefault = index >= inputs.length - row.nargdefaults;
      });
      let outputColumns: string[] | null = null;
      if (row.relcolumns) outputColumns = row.relcolumns;
      else if (row.rettype === 'record' && outputs.length > 0) outputColumns = outputs;
      else if (row.typtype === 'p' && row.rettype !== 'void') outputColumns = []; // anonymous record: unsupported
      return {
        schema: this.schema,
        name,
        inputs,
        returnsSet: row.retset,
        outputColumns,
        returnsVoid: row.rettype === 'void',
      };
    });
    if (infos.length > 0) this.#functions.set(name, infos);
    return infos;
  }
}

interface RequestContext {
  claims: SupabaseJwtClaims;
  role: string;
  method: string;
  path: string;
  /** JSON of the request headers (lower-case names), as PostgREST sets `request.headers`. */
  headers: string;
}

interface Outcome {
  status: number;
  /** JSON text, or null for no body. */
  body: string | null;
  headers: Record<string, string>;
  /** Rows in the result (for the singular-object check). */
  rowCount: number;
  /** Checked before commit: a failing singular request is rolled back. */
  singular: boolean;
  /** JSON text of the first row when `singular`. */
  first: string | null;
}

class Params {
  readonly values: unknown[] = [];
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

function columnMissing(table: TableInfo, column: string): PostgrestError {
  return new PostgrestError(400, '42703', `column ${table.name}.${column} does not exist`);
}

function requireColumn(table: TableInfo, column: string): string {
  if (!table.columns.has(column)) throw columnMissing(table, column);
  return quote(column);
}

function selectList(items: SelectItem[], known: (column: string) => string): string {
  return items
    .map((item) => (item.column === null ? '*' : `${known(item.column)} as ${quote(item.alias)}`))
    .join(', ');
}

function whereClause(filters: Filter[], known: (column: string) => string, params: Params): string {
  if (filters.length === 0) return '';
  const conditions = filters.map((filter) => {
    const column = `${tableAlias}.${known(filter.column)}`;
    let condition: string;
    switch (filter.operator) {
      case 'eq':
        condition = `${column} = ${params.add(filter.value)}`;
        break;
      case 'neq':
        condition = `${column} <> ${params.add(filter.value)}`;
        break;
      case 'gt':
        condition = `${column} > ${params.add(filter.value)}`;
        break;
      case 'gte':
        condition = `${column} >= ${params.add(filter.value)}`;
        break;
      case 'lt':
        condition = `${column} < ${params.add(filter.value)}`;
        break;
      case 'lte':
        condition = `${column} <= ${params.add(filter.value)}`;
        break;
      case 'like':
        condition = `${column} like ${params.add(filter.value)}`;
        break;
      case 'ilike':
        condition = `${column} ilike ${params.add(filter.value)}`;
        break;
      case 'in':
        condition = `${column} = any (${params.add(filter.value)})`;
        break;
      case 'is':
        condition = `${column} is ${filter.value === 'not_null' ? 'not null' : (filter.value as string)}`;
        break;
    }
    return filter.negated ? `not (${condition})` : condition;
  });
  return ` where ${conditions.join(' and ')}`;
}

function orderClause(query: ParsedQuery, known: (column: string) => string): string {
  if (query.order.length === 0) return '';
  return ` order by ${query.order
    .map(
      (term) =>
        `${tableAlias}.${known(term.column)} ${term.descending ? 'desc' : 'asc'}${term.nulls ? ` nulls ${term.nulls}` : ''}`,
    )
    .join(', ')}`;
}

function limitClause(limit: number | null, offset: number): string {
  return `${limit === null ? '' : ` limit ${limit}`}${offset > 0 ? ` offset ${offset}` : ''}`;
}

/**
 * Wraps a row source (`source` yields rows named like the output columns) into one row with the
 * JSON array, its length, its first element, and optionally the total count before limit/offset.
 */
function jsonEnvelope(source: string, shaped: string, withTotal: boolean): string {
  return `with _pgrst_source as (${source}),
    _pgrst_body as (select coalesce(json_agg(_pgrst_row), '[]'::json) as body from (${shaped}) _pgrst_row)
    select body::text as body, json_array_length(body) as n, (body -> 0)::text as first,
      ${withTotal ? '(select count(*) from _pgrst_source)' : 'null'}::bigint as total
    from _pgrst_body`;
}

interface Envelope {
  body: string;
  n: number;
  first: string | null;
  total: string | null;
}

function contentRange(offset: number, n: number, total: number | null): string {
  const range = n === 0 ? '*' : `${offset}-${offset + n - 1}`;
  return `${range}/${total === null ? '*' : total}`;
}

function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

function parseJsonBody(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new PostgrestError(
      400,
      'PGRST102',
      'Empty or invalid json',
      error instanceof Error ? error.message : null,
    );
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Starts a local HTTP endpoint that speaks the PostgREST subset supabase-js uses, under
 * `/rest/v1` like Supabase's API gateway, so `createClient(url, anonKey)` works against a real
 * database. Every request runs in one transaction as the JWT's role with `request.jwt.claims` set,
 * so grants and row level security apply exactly as on Supabase.
 */
export async function startPostgrestServer(options: PostgrestServerOptions): Promise<PostgrestServer> {
  const { pool } = options;
  const jwt = new SupabaseJwt(options.jwtSecret);
  const cache = new SchemaCache(pool, options.schema ?? 'public');
  const tenYears = 10 * 365 * 24 * 3600;
  const anonKey = await jwt.sign({ iss: 'supabase', role: 'anon' }, tenYears);
  const serviceRoleKey = await jwt.sign({ iss: 'supabase', role: 'service_role' }, tenYears);

  async function authenticate(request: IncomingMessage): Promise<SupabaseJwtClaims> {
    const authorization = request.headers.authorization;
    const apikey = header(request, 'apikey');
    const bearer = authorization?.match(/^Bearer\s+(.+)$/i)?.[1];
    const token = bearer ?? (typeof apikey === 'string' ? apikey : undefined);
    if (token === undefined) {
      throw new PostgrestError(
        401,
        'PGRST301',
        'No API key found in request',
        null,
        'No `apikey` request header or url param was found.',
        { 'WWW-Authenticate': 'Bearer' },
      );
    }
    const tokens = typeof apikey === 'string' && apikey !== token ? [apikey, token] : [token];
    let claims: SupabaseJwtClaims | undefined;
    for (const candidate of tokens) {
      const verified = await jwt.verify(candidate);
      if ('error' in verified) {
        throw new PostgrestError(401, 'PGRST301', verified.error, null, null, {
          'WWW-Authenticate': `Bearer error="invalid_token", error_description="${verified.error}"`,
        });
      }
      claims = verified.claims;
    }
    return claims as SupabaseJwtClaims;
  }

  async function inTransaction(
    context: RequestContext,
    readOnly: boolean,
    preferences: Preferences | null,
    run: (client: pg.PoolClient) => Promise<Outcome>,
  ): Promise<Outcome> {
    const client = await pool.connect();
    let broken: Error | undefined;
    try {
      await client.query(readOnly ? 'begin read only' : 'begin');
      try {
        // Transaction-local, like PostgREST: nothing leaks to the next request on this connection.
        await client.query(
          `select set_config('request.jwt.claims', $1, true), set_config('request.method', $2, true),
                  set_config('request.path', $3, true), set_config('request.headers', $4, true),
                  set_config('role', $5, true)`,
          [JSON.stringify(context.claims), context.method, context.path, context.headers, context.role],
        );
        const outcome = await run(client);
        if (outcome.singular && outcome.rowCount !== 1) {
          throw new PostgrestError(
            406,
            'PGRST116',
            'Cannot coerce the result to a single JSON object',
            `The result contains ${outcome.rowCount} rows`,
          );
        }
        await client.query(preferences?.rollback ? 'rollback' : 'commit');
        return outcome;
      } catch (error) {
        await client.query('rollback').catch((rollbackError: Error) => {
          broken = rollbackError;
        });
        throw error;
      }
    } finally {
      client.release(broken);
    }
  }

  function finish(outcome: Outcome, query: { offset: number } | null, total: number | null): Outcome {
    if (outcome.singular && outcome.rowCount === 1) {
      if (outcome.body !== null) outcome.body = outcome.first;
      outcome.headers['Content-Type'] = 'application/vnd.pgrst.object+json; charset=utf-8';
    }
    if (query) outcome.headers['Content-Range'] = contentRange(query.offset, outcome.rowCount, total);
    return outcome;
  }

  async function handleTable(
    method: string,
    tableName: string,
    url: URL,
    request: IncomingMessage,
    context: RequestContext,
    singular: boolean,
  ): Promise<Outcome> {
    const table = await cache.table(tableName);
    const query = parseQuery(url.searchParams);
    const preferences = parsePrefer(header(request, 'prefer'));
    const known = (column: string) => requireColumn(table, column);
    const target = `${quote(table.schema)}.${quote(table.name)}`;
    const params = new Params();
    const columns = selectList(query.select, known);

    if (method === 'GET' || method === 'HEAD') {
      if (query.columns || query.onConflict) throw unsupported('columns/on_conflict on GET');
      const range = parseRange(header(request, 'range'));
      let limit = query.limit;
      let offset = query.offset;
      if (range && url.searchParams.get('limit') === null && url.searchParams.get('offset') === null) {
        limit = range.limit;
        offset = range.offset;
      }
      const source = `select * from ${target} as ${tableAlias}${whereClause(query.filters, known, params)}`;
      const shaped = `select ${columns} from _pgrst_source as ${tableAlias}${orderClause(query, known)}${limitClause(limit, offset)}`;
      return inTransaction(context, true, preferences, async (client) => {
        const result = await client.query<Envelope>(
          jsonEnvelope(source, shaped, preferences.count),
          params.values,
        );
        const row = result.rows[0] as Envelope;
        const total = row.total === null ? null : Number(row.total);
        const outcome: Outcome = {
          status: total !== null && row.n < total && (offset > 0 || limit !== null) ? 206 : 200,
          body: method === 'HEAD' ? null : row.body,
          headers: {},
          rowCount: row.n,
          singular,
          first: row.first,
        };
        return finish(outcome, { offset }, total);
      });
    }

    if (query.order.length > 0 || query.limit !== null || query.offset > 0) {
      throw unsupported(`order/limit/offset on ${method}`);
    }
    const representation = preferences.return === 'representation';

    const run = async (client: pg.PoolClient, statement: string, status: number): Promise<Outcome> => {
      if (!representation) {
        const result = await client.query(statement, params.values);
        const n = result.rowCount ?? 0;
        return finish(
          {
            status: status === 201 ? 201 : 204,
            body: null,
            headers: {},
            rowCount: n,
            singular: false,
            first: null,
          },
          null,
          null,
        );
      }
      const shaped = `select ${columns} from _pgrst_source as ${tableAlias}`;
      const result = await client.query<Envelope>(
        jsonEnvelope(`${statement} returning ${tableAlias}.*`, shaped, false),
        params.values,
      );
      const row = result.rows[0] as Envelope;
      return finish(
        { status, body: row.body, headers: {}, rowCount: row.n, singular, first: row.first },
        null,
        null,
      );
    };
    const withCount = (outcome: Outcome): Outcome => {
      if (preferences.count) outcome.headers['Content-Range'] = `*/${outcome.rowCount}`;
      return outcome;
    };

    if (method === 'POST') {
      if (query.filters.length > 0) throw unsupported('filters on POST (insert)');
      const body = parseJsonBody(await readBody(request));
      const rows = Array.isArray(body) ? body : [body];
      if (!rows.every(isPlainObject)) {
        throw new PostgrestError(
          400,
          'PGRST102',
          'Empty or invalid json',
          'expected an object or an array of objects',
        );
      }
      const keys = [...new Set(rows.flatMap((row) => Object.keys(row)))];
      const insertColumns = query.columns ?? keys;
      for (const column of insertColumns) {
        if (!table.columns.has(column)) {
          throw new PostgrestError(
            400,
            'PGRST204',
            `Could not find the '${column}' column of '${table.name}' in the schema cache`,
          );
        }
      }
      if (
        preferences.missingDefault &&
        !rows.every((row) => insertColumns.every((column) => Object.hasOwn(row, column)))
      ) {
        throw unsupported('Prefer: missing=default', 'with rows that lack some of the inserted columns');
      }
      let statement: string;
      if (rows.length === 0) {
        return withCount(
          finish(
            {
              status: 201,
              body: representation ? '[]' : null,
              headers: {},
              rowCount: 0,
              singular,
              first: null,
            },
            null,
            null,
          ),
        );
      }
      if (insertColumns.length === 0) {
        if (rows.length > 1) throw unsupported('inserting several rows without columns');
        statement = `insert into ${target} as ${tableAlias} default values`;
      } else {
        const list = insertColumns.map(quote).join(', ');
        statement = `insert into ${target} as ${tableAlias} (${list}) select ${list} from json_populate_recordset(null::${target}, ${params.add(JSON.stringify(rows))}::json)`;
      }
      if (preferences.resolution) {
        const conflict = query.onConflict ?? table.primaryKey;
        if (conflict.length === 0) {
          throw new PostgrestError(400, 'PGRST100', `"${table.name}" has no primary key: pass on_conflict`);
        }
        const target = conflict.map((column) => requireColumn(table, column)).join(', ');
        if (preferences.resolution === 'ignore-duplicates' || insertColumns.length === 0) {
          statement += ` on conflict (${target}) do nothing`;
        } else {
          const updates = insertColumns.map((column) => `${quote(column)} = excluded.${quote(column)}`);
          statement += ` on conflict (${target}) do update set ${updates.join(', ')}`;
        }
      } else if (query.onConflict) {
        throw unsupported('on_conflict without Prefer: resolution=merge-duplicates or ignore-duplicates');
      }
      return inTransaction(context, false, preferences, async (client) =>
        withCount(await run(client, statement, 201)),
      );
    }

    if (method === 'PATCH') {
      if (query.columns || query.onConflict) throw unsupported('columns/on_conflict on PATCH');
      const body = parseJsonBody(await readBody(request));
      if (!isPlainObject(body)) {
        throw new PostgrestError(400, 'PGRST102', 'Empty or invalid json', 'PATCH expects a JSON object');
      }
      const updateColumns = Object.keys(body);
      for (const column of updateColumns) {
        if (!table.columns.has(column)) {
          throw new PostgrestError(
            400,
            'PGRST204',
            `Could not find the '${column}' column of '${table.name}' in the schema cache`,
          );
        }
      }
      if (updateColumns.length === 0) {
        return finish(
          {
            status: representation ? 200 : 204,
            body: representation ? '[]' : null,
            headers: {},
            rowCount: 0,
            singular: false,
            first: null,
          },
          null,
          null,
        );
      }
      const record = params.add(JSON.stringify(body));
      const sets = updateColumns.map((column) => `${quote(column)} = _pgrst_new.${quote(column)}`);
      const statement = `update ${target} as ${tableAlias} set ${sets.join(', ')} from json_populate_record(null::${target}, ${record}::json) as _pgrst_new${whereClause(query.filters, known, params)}`;
      return inTransaction(context, false, preferences, async (client) =>
        withCount(await run(client, statement, 200)),
      );
    }

    if (method === 'DELETE') {
      if (query.columns || query.onConflict) throw unsupported('columns/on_conflict on DELETE');
      const statement = `delete from ${target} as ${tableAlias}${whereClause(query.filters, known, params)}`;
      return inTransaction(context, false, preferences, async (client) =>
        withCount(await run(client, statement, 200)),
      );
    }

    throw new PostgrestError(405, 'PGRST117', `Unsupported HTTP method: ${method}`);
  }

  async function handleRpc(
    method: string,
    name: string,
    url: URL,
    request: IncomingMessage,
    context: RequestContext,
    singular: boolean,
  ): Promise<Outcome> {
    if (method !== 'POST') {
      throw unsupported(
        `${method} /rpc/${name}`,
        'call functions with POST and a JSON object of named arguments',
      );
    }
    const query = parseQuery(url.searchParams);
    if (query.columns || query.onConflict) throw unsupported('columns/on_conflict on rpc');
    const preferences = parsePrefer(header(request, 'prefer'));
    const body = parseJsonBody(await readBody(request)) ?? {};
    if (!isPlainObject(body)) {
      throw unsupported('positional or non-object rpc arguments', 'send a JSON object of named arguments');
    }
    const given = Object.keys(body);
    const candidates = (await cache.functions(name)).filter(
      (fn) =>
        given.every((arg) => fn.inputs.some((input) => input.name === arg)) &&
        fn.inputs.every((input) => input.hasDefault || given.includes(input.name)),
    );
    if (candidates.length === 0) {
      throw new PostgrestError(
        404,
        'PGRST202',
        `Could not find the function ${cache.schema}.${name}(${given.join(', ')}) in the schema cache`,
        null,
        'If a new function was created in the database with this name and parameters, try reloading the schema cache.',
      );
    }
    if (candidates.length > 1) {
      throw new PostgrestError(
        300,
        'PGRST203',
        `Could not choose the best candidate function between several ${cache.schema}.${name} overloads`,
      );
    }
    const fn = candidates[0] as FunctionInfo;
    const params = new Params();
    const args = fn.inputs
      .filter((input) => given.includes(input.name))
      .map((input) => {
        const value = body[input.name];
        const json = input.type === 'json' || input.type === 'jsonb';
        const bound =
          value === null || value === undefined
            ? null
            : json || (isPlainObject(value) && !input.type.endsWith('[]'))
              ? JSON.stringify(value)
              : value;
        // The type comes from the catalog (format_type), never from the request.
        return `${quote(input.name)} => ${params.add(bound)}::${input.type}`;
      });
    const call = `${quote(fn.schema)}.${quote(fn.name)}(${args.join(', ')})`;

    if (fn.outputColumns === null) {
      if (query.filters.length > 0 || query.order.length > 0 || query.limit !== null || query.offset > 0) {
        throw unsupported('filters, order, limit or offset on a scalar function');
      }
      if (url.searchParams.get('select') !== null && url.searchParams.get('select') !== '*') {
        throw unsupported('select on a scalar function');
      }
      const sql = fn.returnsSet
        ? `select coalesce(json_agg(_pgrst_v), '[]'::json)::text as body, count(*)::int as n from ${call} as _pgrst_v`
        : `select to_json(${call})::text as body, 1 as n`;
      return inTransaction(context, false, preferences, async (client) => {
        const result = await client.query<{ body: string | null; n: number }>(sql, params.values);
        const row = result.rows[0] as { body: string | null; n: number };
        if (fn.returnsVoid) {
          return { status: 204, body: null, headers: {}, rowCount: 0, singular: false, first: null };
        }
        return {
          status: 200,
          body: row.body ?? 'null',
          headers: {},
          rowCount: row.n,
          singular: false,
          first: null,
        };
      });
    }
    const outputs = fn.outputColumns;
    if (outputs.length === 0) {
      throw unsupported(
        `${cache.schema}.${name} returning an anonymous record`,
        'declare OUT parameters or RETURNS TABLE',
      );
    }
    const known = (column: string) => {
      if (!outputs.includes(column)) {
        throw new PostgrestError(400, '42703', `column ${name}.${column} does not exist`);
      }
      return quote(column);
    };
    const columns = selectList(query.select, known);
    const source = `select * from ${call} as ${tableAlias}${whereClause(query.filters, known, params)}`;
    const shaped = `select ${columns} from _pgrst_source as ${tableAlias}${orderClause(query, known)}${limitClause(query.limit, query.offset)}`;
    return inTransaction(context, false, preferences, async (client) => {
      const result = await client.query<Envelope>(
        jsonEnvelope(source, shaped, preferences.count),
        params.values,
      );
      const row = result.rows[0] as Envelope;
      const total = row.total === null ? null : Number(row.total);
      if (!fn.returnsSet) {
        // A single composite comes back as an object, like PostgREST.
        return {
          status: 200,
          body: row.first ?? 'null',
          headers: {},
          rowCount: row.n,
          singular: false,
          first: row.first,
        };
      }
      const outcome: Outcome = {
        status: 200,
        body: row.body,
        headers: {},
        rowCount: row.n,
        singular,
        first: row.first,
      };
      return finish(outcome, preferences.count ? { offset: query.offset } : null, total);
    });
  }

  async function handle(request: IncomingMessage): Promise<Outcome> {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const method = (request.method ?? 'GET').toUpperCase();
    const match = /^\/rest\/v1\/(?:(rpc)\/)?([^/]+)\/?$/.exec(url.pathname);
    if (!match) {
      throw new PostgrestError(404, 'PGRST125', `Invalid path specified in request URL: ${url.pathname}`);
    }
    const claims = await authenticate(request);
    const role = typeof claims.role === 'string' && claims.role !== '' ? claims.role : 'anon';
    for (const name of ['accept-profile', 'content-profile']) {
      const profile = header(request, name);
      if (typeof profile === 'string' && profile !== cache.schema) {
        throw new PostgrestError(406, 'PGRST106', `The schema must be one of the following: ${cache.schema}`);
      }
    }
    const accept = request.headers.accept ?? '';
    if (accept.includes('nulls=stripped')) throw unsupported('Accept: ...;nulls=stripped');
    if (/text\/csv|geo\+json|vnd\.pgrst\.plan/.test(accept)) throw unsupported(`Accept: ${accept}`);
    const singular = accept.includes('application/vnd.pgrst.object+json');
    let name: string;
    try {
      name = decodeURIComponent(match[2] as string);
    } catch {
      throw new PostgrestError(400, 'PGRST125', `Invalid path specified in request URL: ${url.pathname}`);
    }
    const context: RequestContext = {
      claims,
      role,
      method,
      path: url.pathname.slice('/rest/v1'.length),
      headers: JSON.stringify(request.headers),
    };
    try {
      return match[1]
        ? await handleRpc(method, name, url, request, context, singular)
        : await handleTable(method, name, url, request, context, singular);
    } catch (error) {
      if (error instanceof pg.DatabaseError && error.code) {
        throw new PostgrestError(
          httpStatusForSqlState(error.code, role),
          error.code,
          error.message,
          error.detail ?? null,
          error.hint ?? null,
        );
      }
      throw error;
    }
  }

  function respond(response: ServerResponse, outcome: Outcome): void {
    const headers: Record<string, string> = {
      'Content-Type': 'application/json; charset=utf-8',
      ...outcome.headers,
    };
    response.writeHead(outcome.status, headers);
    response.end(outcome.body === null || outcome.status === 204 ? undefined : outcome.body);
  }

  const storage = options.storage ? createStorageApi(pool, jwt, options.storage) : undefined;

  const server = createServer((request, response) => {
    if (request.url?.startsWith('/storage/v1/')) {
      if (storage) {
        void storage.handle(request, response);
      } else {
        response.writeHead(404, { 'Content-Type': 'application/json; charset=utf-8' });
        response.end(
          JSON.stringify({
            statusCode: '404',
            error: 'Not Found',
            message:
              'the Storage API is off: start the server with startPostgrestServer({ storage: { directory } })',
          }),
        );
      }
      return;
    }
    handle(request).then(
      (outcome) => respond(response, outcome),
      (error: unknown) => {
        const failure =
          error instanceof PostgrestError
            ? error
            : new PostgrestError(500, 'PGRSTX00', error instanceof Error ? error.message : String(error));
        response.writeHead(failure.status, {
          'Content-Type': 'application/json; charset=utf-8',
          ...failure.headers,
        });
        response.end(JSON.stringify(failure.body()));
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    anonKey,
    serviceRoleKey,
    jwtSecret: jwt.secret,
    storageDirectory: options.storage ? resolve(options.storage.directory) : undefined,
    signUserToken: (userId, extraClaims = {}) =>
      jwt.sign({ aud: 'authenticated', role: 'authenticated', ...extraClaims, sub: userId }),
    signToken: (claims, expiresInSeconds) => jwt.sign(claims, expiresInSeconds),
    reloadSchemaCache: () => cache.clear(),
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
