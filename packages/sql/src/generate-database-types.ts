import type { SqlQueryable } from './sql-database.js';

export interface GenerateDatabaseTypesOptions {
  /** Schemas to describe (the schemas the Data API exposes). Default `['public']`. */
  schemas?: string[];
  /**
   * PostgREST version of the target project (e.g. `"13.0.5"`). When set, the output carries the
   * CLI's `__InternalSupabase: { PostgrestVersion }` entry, which makes `createClient<Database>`
   * pick that version's features; when omitted, supabase-js assumes its default.
   */
  postgrestVersion?: string;
}

interface RelationRow {
  oid: string;
  schema: string;
  name: string;
  kind: string;
  updatable: boolean;
}

interface FunctionRow {
  oid: string;
  schema: string;
  name: string;
  identity: string;
  rettype: string;
  retset: boolean;
  rows: number;
  argtypes: string[];
  argmodes: string[];
  argnames: string[] | null;
  ndefaults: number;
}

interface NamedTypeRow {
  oid: string;
  schema: string;
  name: string;
  relid: string;
  labels: string[] | null;
}

interface ColumnRow {
  rel: string;
  name: string;
  num: number;
  type: string;
  nullable: boolean;
  has_default: boolean;
  identity: string;
  generated: string;
  updatable: boolean;
}

interface TypeRow {
  oid: string;
  schema: string;
  name: string;
  kind: string;
  category: string;
  elem: string;
  base: string;
  relid: string;
  relkind: string | null;
  labels: string[] | null;
}

interface ForeignKeyRow {
  name: string;
  rel: string;
  referenced: string;
  columns: string[];
  referenced_columns: string[];
  one_to_one: boolean;
}

const notFromExtension = (catalog: 'pg_class' | 'pg_proc' | 'pg_type', alias: string) =>
  `not exists (select from pg_catalog.pg_depend d where d.classid = 'pg_catalog.${catalog}'::regclass and d.objid = ${alias}.oid and d.deptype = 'e')`;

const numberTypes = new Set(['int2', 'int4', 'int8', 'float4', 'float8', 'numeric', 'oid']);

const compareNames = (a: string, b: string) => a.localeCompare(b, 'en');

const identifier = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const key = (name: string) => (identifier.test(name) ? name : JSON.stringify(name));
const str = (value: string) => JSON.stringify(value);
const stringArray = (values: readonly string[]) => `[${values.map(str).join(', ')}]`;

const maxWidth = 80;

/** Lines of an object type with one member per line (the CLI's layout), or `{}` when empty. */
function objectLines(members: string[][]): string[] {
  if (members.length === 0) return ['{}'];
  return ['{', ...members.flat().map((line) => `  ${line}`), '}'];
}

/** `name: value`, where value spans one or more lines. */
function member(name: string, value: string[]): string[] {
  const [first = '', ...rest] = value;
  return [`${name}: ${first}`, ...rest];
}

function appendToLast(lines: string[], suffix: string): string[] {
  return lines.map((line, index) => (index === lines.length - 1 ? `${line}${suffix}` : line));
}

const neverMembers = [['[_ in never]: never']];

/**
 * Generates the `Database` type that `supabase gen types typescript` would generate for `schemas`,
 * from the live catalogs: per schema Tables (Row / Insert / Update / Relationships), Views,
 * Functions (Args / Returns / SetofOptions; overloads as unions), Enums and CompositeTypes, plus
 * `Json`, the `Tables` / `TablesInsert` / `TablesUpdate` / `Enums` / `CompositeTypes` helpers and
 * the `Constants` object. Objects that belong to extensions and trigger functions are left out.
 * The output is deterministic (sorted by name) and formatted like the CLI's.
 */
export async function generateDatabaseTypes(
  db: SqlQueryable,
  options: GenerateDatabaseTypesOptions = {},
): Promise<string> {
  const schemas = [...new Set(options.schemas ?? ['public'])].sort(compareNames);

  const { rows: relations } = await db.query<RelationRow>(
    `select c.oid::text as oid, n.nspname as schema, c.relname as name, c.relkind::text as kind,
            case when c.relkind = 'v' then (pg_catalog.pg_relation_is_updatable(c.oid, false) & 20) = 20
                 else false end as updatable
     from pg_catalog.pg_class c
     join pg_catalog.pg_namespace n on n.oid = c.relnamespace
     where n.nspname = any($1::text[]) and c.relkind in ('r', 'p', 'f', 'v', 'm') and ${notFromExtension('pg_class', 'c')}`,
    [schemas],
  );

  const { rows: functions } = await db.query<FunctionRow>(
    `select p.oid::text as oid, n.nspname as schema, p.proname as name,
            pg_catalog.pg_get_function_identity_arguments(p.oid) as identity,
            p.prorettype::text as rettype, p.proretset as retset, p.prorows::float8 as rows,
            coalesce(p.proallargtypes, p.proargtypes::oid[])::text[] as argtypes,
            coalesce(p.proargmodes::text[], array_fill('i'::text, array[p.pronargs::int])) as argmodes,
            p.proargnames as argnames, p.pronargdefaults::int as ndefaults
     from pg_catalog.pg_proc p
     join pg_catalog.pg_namespace n on n.oid = p.pronamespace
     where n.nspname = any($1::text[]) and p.prokind = 'f'
       and p.prorettype not in ('pg_catalog.trigger'::regtype, 'pg_catalog.event_trigger'::regtype)
       and ${notFromExtension('pg_proc', 'p')}`,
    [schemas],
  );

  const { rows: namedTypes } = await db.query<NamedTypeRow>(
    `select t.oid::text as oid, n.nspname as schema, t.typname as name, t.typrelid::text as relid,
            (select array_agg(e.enumlabel::text order by e.enumsortorder) from pg_catalog.pg_enum e
             where e.enumtypid = t.oid) as labels
     from pg_catalog.pg_type t
     join pg_catalog.pg_namespace n on n.oid = t.typnamespace
     where n.nspname = any($1::text[]) and ${notFromExtension('pg_type', 't')}
       and (t.typtype = 'e'
            or (t.typtype = 'c' and (select c.relkind from pg_catalog.pg_class c where c.oid = t.typrelid) = 'c'))`,
    [schemas],
  );
  const enums = namedTypes.filter((t) => t.labels !== null);
  const composites = namedTypes.filter((t) => t.labels === null);

  // Function inputs and outputs, resolved through their types below.
  const signatures = functions.map((fn) => describeSignature(fn));

  const { rows: firstTypes } = await db.query<TypeRow>(typeClosureSql, [
    [...new Set([...functions.flatMap((fn) => [fn.rettype, ...fn.argtypes])])],
  ]);
  const returnRelations = firstTypes.filter((t) => t.kind === 'c' && t.relid !== '0').map((t) => t.relid);

  const { rows: columns } = await db.query<ColumnRow>(
    `select a.attrelid::text as rel, a.attname as name, a.attnum::int as num, a.atttypid::text as type,
            not (a.attnotnull or (t.typtype = 'd' and t.typnotnull)) as nullable,
            a.atthasdef as has_default, a.attidentity::text as identity, a.attgenerated::text as generated,
            pg_catalog.pg_column_is_updatable(a.attrelid, a.attnum, false) as updatable
     from pg_catalog.pg_attribute a
     join pg_catalog.pg_type t on t.oid = a.atttypid
     where a.attrelid = any($1::oid[]) and a.attnum > 0 and not a.attisdropped`,
    [[...new Set([...relations.map((r) => r.oid), ...composites.map((t) => t.relid), ...returnRelations])]],
  );

  const { rows: moreTypes } = await db.query<TypeRow>(typeClosureSql, [
    [...new Set(columns.map((c) => c.type))],
  ]);

  const { rows: foreignKeys } = await db.query<ForeignKeyRow>(
    `select con.conname as name, con.conrelid::text as rel, rc.relname as referenced,
            array(select a.attname::text from unnest(con.conkey) with ordinality k(num, ord)
                  join pg_catalog.pg_attribute a on a.attrelid = con.conrelid and a.attnum = k.num order by k.ord) as columns,
            array(select a.attname::text from unnest(con.confkey) with ordinality k(num, ord)
                  join pg_catalog.pg_attribute a on a.attrelid = con.confrelid and a.attnum = k.num order by k.ord)
              as referenced_columns,
            exists (select from pg_catalog.pg_index i
                    where i.indrelid = con.conrelid and i.indisunique and i.indexprs is null and i.indpred is null
                      and string_to_array(i.indkey::text, ' ')::int2[] @> con.conkey
                      and string_to_array(i.indkey::text, ' ')::int2[] <@ con.conkey) as one_to_one
     from pg_catalog.pg_constraint con
     join pg_catalog.pg_class c on c.oid = con.conrelid
     join pg_catalog.pg_namespace n on n.oid = c.relnamespace
     join pg_catalog.pg_class rc on rc.oid = con.confrelid
     where con.contype = 'f' and n.nspname = any($1::text[]) and rc.relnamespace = c.relnamespace`,
    [schemas],
  );

  const types = new Map<string, TypeRow>();
  for (const t of [...firstTypes, ...moreTypes]) types.set(t.oid, t);
  const relationsByOid = new Map(relations.map((r) => [r.oid, r]));
  const columnsByRelation = new Map<string, ColumnRow[]>();
  for (const column of columns) {
    const list = columnsByRelation.get(column.rel) ?? [];
    list.push(column);
    columnsByRelation.set(column.rel, list);
  }
  const sortedColumns = (rel: string) =>
    [...(columnsByRelation.get(rel) ?? [])].sort((a, b) => compareNames(a.name, b.name));
  const included = new Set(schemas);

  const tsType = (oid: string): string => {
    const t = types.get(oid);
    if (!t) return 'unknown';
    if (t.kind === 'd') return tsType(t.base);
    if (t.category === 'A' && t.elem !== '0') {
      const element = tsType(t.elem);
      return /[|&]/.test(element) ? `(${element})[]` : `${element}[]`;
    }
    if (t.kind === 'e') {
      if (included.has(t.schema)) return `Database[${str(t.schema)}]["Enums"][${str(t.name)}]`;
      return (t.labels ?? []).map(str).join(' | ') || 'string';
    }
    if (t.kind === 'c') {
      if (!included.has(t.schema)) return 'unknown';
      if (t.relkind === 'c') return `Database[${str(t.schema)}]["CompositeTypes"][${str(t.name)}]`;
      const section = t.relkind === 'v' || t.relkind === 'm' ? 'Views' : 'Tables';
      return relationsByOid.has(t.relid)
        ? `Database[${str(t.schema)}][${str(section)}][${str(t.name)}]["Row"]`
        : 'unknown';
    }
    if (t.kind === 'p') {
      if (t.name === 'void') return 'undefined';
      if (t.name === 'record') return 'Record<string, unknown>';
      return 'unknown';
    }
    if (t.name === 'bool') return 'boolean';
    if (numberTypes.has(t.name)) return 'number';
    if (t.name === 'json' || t.name === 'jsonb') return 'Json';
    // Every other scalar (text, uuid, dates and times, interval, inet, bytea, vector, halfvec,
    // tsvector, ranges, ...) reaches the client as its text form.
    return 'string';
  };

  /** The Row object of a relation, as used by Returns of functions returning its rows. */
  const relationRow = (rel: string, isView: boolean): string[] =>
    objectLines(
      sortedColumns(rel).map((c) => [
        `${key(c.name)}: ${tsType(c.type)}${c.nullable || isView ? ' | null' : ''}`,
      ]),
    );

  // ---- functions --------------------------------------------------------------------------------
  interface RenderedFunction {
    fn: FunctionRow;
    /** `name: type` of each argument. */
    args: string[];
    returns: string[];
    setof?: string[];
    /** Relation (same schema) whose row is the single argument: a computed field of it. */
    rowArgumentOf?: RelationRow;
  }
  const rendered: RenderedFunction[] = [];
  functions.forEach((fn, index) => {
    const signature = signatures[index];
    if (!signature) return;
    const inputs = signature.inputs;
    // PostgREST calls functions with named arguments, or with one unnamed argument.
    if (inputs.some((arg) => arg.name === '') && inputs.length !== 1) return;
    const args = inputs.map((arg) => `${key(arg.name)}${arg.optional ? '?' : ''}: ${tsType(arg.type)}`);

    let returns: string[];
    let setof: string[] | undefined;
    const returnType = types.get(fn.rettype);
    if (signature.outputs.length > 0 && returnType?.name === 'record') {
      returns = objectLines(signature.outputs.map((out) => [`${key(out.name)}: ${tsType(out.type)}`]));
    } else if (returnType?.kind === 'c' && returnType.relkind !== 'c' && returnType.relid !== '0') {
      const isView = returnType.relkind === 'v' || returnType.relkind === 'm';
      returns = relationRow(returnType.relid, isView);
      const target = relationsByOid.get(returnType.relid);
      if (target && target.schema === fn.schema) {
        const source = inputs.length === 1 ? rowRelation(inputs[0]?.type) : undefined;
        setof = objectLines([
          [`from: ${str(source && source.schema === fn.schema ? source.name : '*')}`],
          [`to: ${str(target.name)}`],
          [`isOneToOne: ${!fn.retset || fn.rows === 1}`],
          [`isSetofReturn: ${fn.retset}`],
        ]);
      }
    } else {
      returns = [tsType(fn.rettype)];
    }
    if (fn.retset) {
      returns =
        returns.length === 1 && /[|&]/.test(returns[0] ?? '')
          ? [`(${returns[0]})[]`]
          : appendToLast(returns, '[]');
    }
    const single = inputs.length === 1 ? rowRelation(inputs[0]?.type) : undefined;
    rendered.push({
      fn,
      args,
      returns,
      ...(setof ? { setof } : {}),
      ...(single && single.schema === fn.schema ? { rowArgumentOf: single } : {}),
    });
  });

  function rowRelation(typeOid: string | undefined): RelationRow | undefined {
    const t = typeOid ? types.get(typeOid) : undefined;
    return t?.kind === 'c' && t.relkind !== 'c' ? relationsByOid.get(t.relid) : undefined;
  }

  /** Element type of a function's Returns, for computed fields (`fn: T | null`). */
  const computedFieldType = (r: RenderedFunction): string[] => {
    let lines = r.returns;
    if (r.fn.retset) {
      const last = lines[lines.length - 1] ?? '';
      lines =
        lines.length === 1 && last.startsWith('(') && last.endsWith(')[]')
          ? [last.slice(1, -3)]
          : [...lines.slice(0, -1), last.slice(0, -2)];
    }
    return appendToLast(lines, ' | null');
  };

  /** A function's `{ Args; Returns; SetofOptions? }`, with its members at column `indent`. */
  const functionEntry = (r: RenderedFunction, indent: number): { inline?: string; lines: string[] } => {
    const inlineArgs = r.args.length === 0 ? 'Record<PropertyKey, never>' : `{ ${r.args.join('; ')} }`;
    const args =
      indent + 'Args: '.length + inlineArgs.length <= maxWidth
        ? [inlineArgs]
        : objectLines(r.args.map((arg) => [arg]));
    const inline =
      r.returns.length === 1 && !r.setof ? `{ Args: ${inlineArgs}; Returns: ${r.returns[0]} }` : undefined;
    const lines = objectLines([
      member('Args', args),
      member('Returns', r.returns),
      ...(r.setof ? [member('SetofOptions', r.setof)] : []),
    ]);
    return { ...(inline ? { inline } : {}), lines };
  };

  // ---- schema sections -------------------------------------------------------------------------
  const schemaMembers = schemas.map((schema) => {
    const schemaRelations = relations
      .filter((r) => r.schema === schema)
      .sort((a, b) => compareNames(a.name, b.name));
    const schemaFunctions = rendered
      .filter((r) => r.fn.schema === schema)
      .sort((a, b) => compareNames(a.fn.name, b.fn.name) || compareNames(a.fn.identity, b.fn.identity));

    const computedFields = (rel: RelationRow): string[][] =>
      schemaFunctions
        .filter((r) => r.rowArgumentOf?.oid === rel.oid)
        .filter((r, index, all) => all.findIndex((other) => other.fn.name === r.fn.name) === index)
        .map((r) => member(key(r.fn.name), computedFieldType(r)));

    const relationships = (rel: RelationRow): string[] => {
      const own = foreignKeys
        .filter((fk) => fk.rel === rel.oid)
        .sort(
          (a, b) =>
            compareNames(a.name, b.name) ||
            compareNames(a.referenced, b.referenced) ||
            compareNames(JSON.stringify(a.referenced_columns), JSON.stringify(b.referenced_columns)),
        );
      if (own.length === 0) return ['[]'];
      return [
        '[',
        ...own.flatMap((fk) =>
          appendToLast(
            objectLines([
              [`foreignKeyName: ${str(fk.name)}`],
              [`columns: ${stringArray(fk.columns)}`],
              [`isOneToOne: ${fk.one_to_one}`],
              [`referencedRelation: ${str(fk.referenced)}`],
              [`referencedColumns: ${stringArray(fk.referenced_columns)}`],
            ]),
            ',',
          ).map((line) => `  ${line}`),
        ),
        ']',
      ];
    };

    const tables = schemaRelations
      .filter((r) => r.kind === 'r' || r.kind === 'p' || r.kind === 'f')
      .map((table) => {
        const cols = sortedColumns(table.oid);
        const row = objectLines([
          ...cols.map((c) => [`${key(c.name)}: ${tsType(c.type)}${c.nullable ? ' | null' : ''}`]),
          ...computedFields(table),
        ]);
        const insert = objectLines(
          cols.map((c) => {
            if (c.generated !== '' || c.identity === 'a') return [`${key(c.name)}?: never`];
            const optional = c.nullable || c.has_default || c.identity !== '';
            return [`${key(c.name)}${optional ? '?' : ''}: ${tsType(c.type)}${c.nullable ? ' | null' : ''}`];
          }),
        );
        const update = objectLines(
          cols.map((c) => {
            if (c.generated !== '' || c.identity === 'a') return [`${key(c.name)}?: never`];
            return [`${key(c.name)}?: ${tsType(c.type)}${c.nullable ? ' | null' : ''}`];
          }),
        );
        return member(
          key(table.name),
          objectLines([
            member('Row', row),
            member('Insert', insert),
            member('Update', update),
            member('Relationships', relationships(table)),
          ]),
        );
      });

    const views = schemaRelations
      .filter((r) => r.kind === 'v' || r.kind === 'm')
      .map((view) => {
        const cols = sortedColumns(view.oid);
        const row = objectLines([
          ...cols.map((c) => [`${key(c.name)}: ${tsType(c.type)} | null`]),
          ...computedFields(view),
        ]);
        const writable = (c: ColumnRow) =>
          c.updatable ? [`${key(c.name)}?: ${tsType(c.type)} | null`] : [`${key(c.name)}?: never`];
        return member(
          key(view.name),
          objectLines([
            member('Row', row),
            ...(view.updatable
              ? [
                  member('Insert', objectLines(cols.map(writable))),
                  member('Update', objectLines(cols.map(writable))),
                ]
              : []),
            member('Relationships', ['[]']),
          ]),
        );
      });

    const byName = new Map<string, RenderedFunction[]>();
    for (const r of schemaFunctions) byName.set(r.fn.name, [...(byName.get(r.fn.name) ?? []), r]);
    const functionMembers = [...byName.entries()].map(([name, overloads]) => {
      // Members of a function sit at column 8; of an overload in a union, at column 12.
      const entries = overloads.map((r) => functionEntry(r, overloads.length === 1 ? 8 : 12));
      const [only] = entries;
      if (entries.length === 1 && only) {
        const inline = only.inline ? `${key(name)}: ${only.inline}` : undefined;
        return inline && inline.length + 6 <= maxWidth ? [inline] : member(key(name), only.lines);
      }
      return [
        `${key(name)}:`,
        ...entries.flatMap((entry) => {
          if (entry.inline && entry.inline.length + 10 <= maxWidth) return [`  | ${entry.inline}`];
          const [open = '{', ...rest] = entry.lines;
          return [`  | ${open}`, ...rest.map((line) => `    ${line}`)];
        }),
      ];
    });

    const enumMembers = enums
      .filter((t) => t.schema === schema)
      .sort((a, b) => compareNames(a.name, b.name))
      .map((t) => {
        const labels = (t.labels ?? []).map(str);
        const line = `${key(t.name)}: ${labels.join(' | ')}`;
        return line.length + 6 <= maxWidth
          ? [line]
          : [`${key(t.name)}:`, ...labels.map((label) => `  | ${label}`)];
      });

    const compositeMembers = composites
      .filter((t) => t.schema === schema)
      .sort((a, b) => compareNames(a.name, b.name))
      .map((t) =>
        member(
          key(t.name),
          objectLines(
            [...(columnsByRelation.get(t.relid) ?? [])]
              .sort((a, b) => a.num - b.num)
              .map((c) => [`${key(c.name)}: ${tsType(c.type)} | null`]),
          ),
        ),
      );

    const section = (name: string, members: string[][]) =>
      member(name, objectLines(members.length > 0 ? members : neverMembers));
    return member(
      key(schema),
      objectLines([
        section('Tables', tables),
        section('Views', views),
        section('Functions', functionMembers),
        section('Enums', enumMembers),
        section('CompositeTypes', compositeMembers),
      ]),
    );
  });

  const internal = options.postgrestVersion
    ? [
        [
          '// Allows to automatically instantiate createClient with right options',
          "// instead of createClient<Database, { PostgrestVersion: 'XX' }>(URL, KEY)",
          ...member(
            '__InternalSupabase',
            objectLines([[`PostgrestVersion: ${str(options.postgrestVersion)}`]]),
          ),
        ],
      ]
    : [];
  const database = [
    'export type Database = {',
    ...[...internal, ...schemaMembers].flat().map((l) => `  ${l}`),
    '}',
  ];

  const constants = [
    'export const Constants = {',
    ...schemas.flatMap((schema) => [
      `  ${key(schema)}: {`,
      '    Enums: {',
      ...enums
        .filter((t) => t.schema === schema)
        .sort((a, b) => compareNames(a.name, b.name))
        .map((t) => `      ${key(t.name)}: ${stringArray(t.labels ?? [])},`),
      '    },',
      '  },',
    ]),
    '} as const',
  ];

  const defaultSchema = schemas.includes('public') ? 'public' : (schemas[0] ?? 'public');
  return [jsonType, database.join('\n'), helperTypes(defaultSchema), constants.join('\n')]
    .join('\n\n')
    .concat('\n');
}

interface Signature {
  inputs: { name: string; type: string; optional: boolean }[];
  outputs: { name: string; type: string }[];
}

function describeSignature(fn: FunctionRow): Signature {
  const names = fn.argnames ?? [];
  const all = fn.argtypes.map((type, index) => ({
    type,
    mode: fn.argmodes[index] ?? 'i',
    name: names[index] ?? '',
  }));
  const inputs = all.filter((arg) => arg.mode === 'i' || arg.mode === 'b' || arg.mode === 'v');
  const firstDefault = inputs.length - fn.ndefaults;
  return {
    inputs: inputs.map((arg, index) => ({ name: arg.name, type: arg.type, optional: index >= firstDefault })),
    outputs: all
      .filter((arg) => arg.mode === 'o' || arg.mode === 'b' || arg.mode === 't')
      .map((arg) => ({ name: arg.name, type: arg.type })),
  };
}

/** The given types plus the element and base types they are built from, recursively. */
const typeClosureSql = `
  with recursive closure(oid) as (
    select unnest($1::oid[])
    union
    select x.oid
    from closure
    join pg_catalog.pg_type t on t.oid = closure.oid
    cross join lateral (values (t.typelem), (t.typbasetype)) x(oid)
    where x.oid <> 0
  )
  select t.oid::text as oid, n.nspname as schema, t.typname as name, t.typtype::text as kind,
         t.typcategory::text as category, t.typelem::text as elem, t.typbasetype::text as base,
         t.typrelid::text as relid,
         (select c.relkind::text from pg_catalog.pg_class c where c.oid = t.typrelid) as relkind,
         (select array_agg(e.enumlabel::text order by e.enumsortorder) from pg_catalog.pg_enum e
          where e.enumtypid = t.oid) as labels
  from pg_catalog.pg_type t
  join pg_catalog.pg_namespace n on n.oid = t.typnamespace
  where t.oid in (select oid from closure)`;

const jsonType = `export type Json =
  | string
  | number
  | boolean
  | null
  | { [key: string]: Json | undefined }
  | Json[]`;

function helperTypes(defaultSchema: string): string {
  const s = str(defaultSchema);
  return `type DatabaseWithoutInternals = Omit<Database, "__InternalSupabase">

type DefaultSchema = DatabaseWithoutInternals[Extract<keyof Database, ${s}>]

export type Tables<
  DefaultSchemaTableNameOrOptions extends
    | keyof (DefaultSchema["Tables"] & DefaultSchema["Views"])
    | { schema: keyof DatabaseWithoutInternals },
  TableName extends DefaultSchemaTableNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof (DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"] &
        DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Views"])
    : never = never,
> = DefaultSchemaTableNameOrOptions extends {
  schema: keyof DatabaseWithoutInternals
}
  ? (DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"] &
      DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Views"])[TableName] extends {
      Row: infer R
    }
    ? R
    : never
  : DefaultSchemaTableNameOrOptions extends keyof (DefaultSchema["Tables"] &
        DefaultSchema["Views"])
    ? (DefaultSchema["Tables"] &
        DefaultSchema["Views"])[DefaultSchemaTableNameOrOptions] extends {
        Row: infer R
      }
      ? R
      : never
    : never

export type TablesInsert<
  DefaultSchemaTableNameOrOptions extends
    | keyof DefaultSchema["Tables"]
    | { schema: keyof DatabaseWithoutInternals },
  TableName extends DefaultSchemaTableNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"]
    : never = never,
> = DefaultSchemaTableNameOrOptions extends {
  schema: keyof DatabaseWithoutInternals
}
  ? DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"][TableName] extends {
      Insert: infer I
    }
    ? I
    : never
  : DefaultSchemaTableNameOrOptions extends keyof DefaultSchema["Tables"]
    ? DefaultSchema["Tables"][DefaultSchemaTableNameOrOptions] extends {
        Insert: infer I
      }
      ? I
      : never
    : never

export type TablesUpdate<
  DefaultSchemaTableNameOrOptions extends
    | keyof DefaultSchema["Tables"]
    | { schema: keyof DatabaseWithoutInternals },
  TableName extends DefaultSchemaTableNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"]
    : never = never,
> = DefaultSchemaTableNameOrOptions extends {
  schema: keyof DatabaseWithoutInternals
}
  ? DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"][TableName] extends {
      Update: infer U
    }
    ? U
    : never
  : DefaultSchemaTableNameOrOptions extends keyof DefaultSchema["Tables"]
    ? DefaultSchema["Tables"][DefaultSchemaTableNameOrOptions] extends {
        Update: infer U
      }
      ? U
      : never
    : never

export type Enums<
  DefaultSchemaEnumNameOrOptions extends
    | keyof DefaultSchema["Enums"]
    | { schema: keyof DatabaseWithoutInternals },
  EnumName extends DefaultSchemaEnumNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof DatabaseWithoutInternals[DefaultSchemaEnumNameOrOptions["schema"]]["Enums"]
    : never = never,
> = DefaultSchemaEnumNameOrOptions extends {
  schema: keyof DatabaseWithoutInternals
}
  ? DatabaseWithoutInternals[DefaultSchemaEnumNameOrOptions["schema"]]["Enums"][EnumName]
  : DefaultSchemaEnumNameOrOptions extends keyof DefaultSchema["Enums"]
    ? DefaultSchema["Enums"][DefaultSchemaEnumNameOrOptions]
    : never

export type CompositeTypes<
  PublicCompositeTypeNameOrOptions extends
    | keyof DefaultSchema["CompositeTypes"]
    | { schema: keyof DatabaseWithoutInternals },
  CompositeTypeName extends PublicCompositeTypeNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof DatabaseWithoutInternals[PublicCompositeTypeNameOrOptions["schema"]]["CompositeTypes"]
    : never = never,
> = PublicCompositeTypeNameOrOptions extends {
  schema: keyof DatabaseWithoutInternals
}
  ? DatabaseWithoutInternals[PublicCompositeTypeNameOrOptions["schema"]]["CompositeTypes"][CompositeTypeName]
  : PublicCompositeTypeNameOrOptions extends keyof DefaultSchema["CompositeTypes"]
    ? DefaultSchema["CompositeTypes"][PublicCompositeTypeNameOrOptions]
    : never`;
}
