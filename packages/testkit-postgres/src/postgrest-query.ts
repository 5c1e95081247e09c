// Parses the PostgREST query-string subset that supabase-js emits for plain table access:
// select lists, horizontal filters, order, limit/offset, the Prefer header and Range.
// Anything outside the subset is refused with a PostgREST-shaped 400, never ignored.

/** An error answered as PostgREST does: an HTTP status and `{ code, message, details, hint }`. */
export class PostgrestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: string | null = null,
    readonly hint: string | null = null,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'PostgrestError';
  }

  body(): { code: string; message: string; details: string | null; hint: string | null } {
    return { code: this.code, message: this.message, details: this.details, hint: this.hint };
  }
}

export function unsupported(what: string, details: string | null = null): PostgrestError {
  return new PostgrestError(
    400,
    'PGRST100',
    `"${what}" is not supported by the @tributary/testkit-postgres PostgREST server`,
    details,
    'Supported: select=col,alias:col,*; filters eq neq gt gte lt lte like ilike in is (with not.); order; limit; offset',
  );
}

function parseError(message: string, details: string | null = null): PostgrestError {
  return new PostgrestError(400, 'PGRST100', message, details);
}

export interface SelectItem {
  /** `null` for `*`. */
  column: string | null;
  alias: string;
}

export type FilterOperator = 'eq' | 'neq' | 'gt' | 'gte' | 'lt' | 'lte' | 'like' | 'ilike' | 'in' | 'is';

export interface Filter {
  column: string;
  operator: FilterOperator;
  negated: boolean;
  /** string for scalar operators, string[] for `in`, a keyword for `is`. */
  value: string | string[];
}

export interface OrderTerm {
  column: string;
  descending: boolean;
  nulls: 'first' | 'last' | null;
}

export interface ParsedQuery {
  select: SelectItem[];
  filters: Filter[];
  order: OrderTerm[];
  limit: number | null;
  offset: number;
  /** `columns=` for inserts (unquoted names). */
  columns: string[] | null;
  onConflict: string[] | null;
}

const reserved = new Set(['select', 'order', 'limit', 'offset', 'columns', 'on_conflict']);
const logical = new Set(['or', 'and', 'not.or', 'not.and']);
const operators = new Set<FilterOperator>([
  'eq',
  'neq',
  'gt',
  'gte',
  'lt',
  'lte',
  'like',
  'ilike',
  'in',
  'is',
]);
const isValues = new Set(['null', 'not_null', 'true', 'false', 'unknown']);

/** Splits on commas outside double quotes and parentheses; keeps quotes. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let current = '';
  for (let i = 0; i < text.length; i += 1) {
    const char = text[i] as string;
    if (quoted && char === '\\' && i + 1 < text.length) {
      current += char + (text[i + 1] as string);
      i += 1;
      continue;
    }
    if (char === '"') quoted = !quoted;
    else if (!quoted && char === '(') depth += 1;
    else if (!quoted && char === ')') depth -= 1;
    if (char === ',' && !quoted && depth === 0) {
      parts.push(current);
      current = '';
    } else {
      current += char;
    }
  }
  parts.push(current);
  return parts;
}

/**
 * Splits the inside of `in.(...)` like PostgREST: an element is either a double-quoted value
 * (backslash escapes) or everything up to the next comma; a quote inside an unquoted value is data.
 */
function splitList(text: string): string[] {
  const items: string[] = [];
  let i = 0;
  while (i <= text.length) {
    if (text[i] === '"') {
      let value = '';
      i += 1;
      while (i < text.length && text[i] !== '"') {
        if (text[i] === '\\' && i + 1 < text.length) i += 1;
        value += text[i] as string;
        i += 1;
      }
      if (i >= text.length) throw parseError(`"failed to parse in list (${text})"`, 'unterminated quote');
      i += 1;
      if (i < text.length && text[i] !== ',') {
        throw parseError(`"failed to parse in list (${text})"`, 'text after a closing quote');
      }
      items.push(value);
    } else {
      const end = text.indexOf(',', i);
      items.push(text.slice(i, end < 0 ? text.length : end));
      i = end < 0 ? text.length : end;
    }
    i += 1;
  }
  return items;
}

function unquote(text: string): string {
  if (text.length >= 2 && text.startsWith('"') && text.endsWith('"')) {
    return text.slice(1, -1).replace(/\\(.)/g, '$1');
  }
  return text;
}

export function parseSelect(raw: string | null): SelectItem[] {
  if (raw === null || raw.trim() === '' || raw === '*') return [{ column: null, alias: '*' }];
  return splitTopLevel(raw).map((part) => {
    const item = part.trim();
    if (item === '*') return { column: null, alias: '*' };
    if (item.includes('(')) throw unsupported(`select=${item}`, 'resource embedding and aggregates');
    if (item.includes('->')) throw unsupported(`select=${item}`, 'JSON path selection');
    if (item.includes('::')) throw unsupported(`select=${item}`, 'casts in select');
    if (item.startsWith('...')) throw unsupported(`select=${item}`, 'spread');
    const colon = item.indexOf(':');
    const alias = colon >= 0 ? unquote(item.slice(0, colon)) : null;
    const column = unquote(colon >= 0 ? item.slice(colon + 1) : item);
    if (column === '' || alias === '') throw parseError(`"failed to parse select parameter (${raw})"`);
    return { column, alias: alias ?? column };
  });
}

export function parseOrder(raw: string | null): OrderTerm[] {
  if (raw === null || raw === '') return [];
  return splitTopLevel(raw).map((part) => {
    const pieces = part.split('.');
    const column = unquote(pieces[0] ?? '');
    let descending = false;
    let nulls: OrderTerm['nulls'] = null;
    for (const modifier of pieces.slice(1)) {
      if (modifier === 'asc') descending = false;
      else if (modifier === 'desc') descending = true;
      else if (modifier === 'nullsfirst') nulls = 'first';
      else if (modifier === 'nullslast') nulls = 'last';
      else throw parseError(`"failed to parse order (${raw})"`, `unexpected "${modifier}"`);
    }
    if (column === '') throw parseError(`"failed to parse order (${raw})"`);
    return { column, descending, nulls };
  });
}

function parseInteger(name: string, raw: string | null): number | null {
  if (raw === null) return null;
  if (!/^\d+$/.test(raw)) throw parseError(`"failed to parse ${name} (${raw})"`);
  return Number(raw);
}

export function parseFilter(column: string, raw: string): Filter {
  let rest = raw;
  let negated = false;
  if (rest.startsWith('not.')) {
    negated = true;
    rest = rest.slice(4);
  }
  const dot = rest.indexOf('.');
  const operatorText = dot >= 0 ? rest.slice(0, dot) : rest;
  const value = dot >= 0 ? rest.slice(dot + 1) : '';
  if (dot < 0) throw parseError(`"failed to parse filter (${raw})"`, `filter on "${column}" has no operator`);
  if (!operators.has(operatorText as FilterOperator)) {
    throw unsupported(`${operatorText}`, `filter operator in ${column}=${raw}`);
  }
  const operator = operatorText as FilterOperator;
  if (operator === 'in') {
    if (!value.startsWith('(') || !value.endsWith(')')) {
      throw parseError(`"failed to parse filter (${raw})"`, 'in. expects a list like (a,b)');
    }
    const inner = value.slice(1, -1);
    const items = inner === '' ? [] : splitList(inner);
    return { column, operator, negated, value: items };
  }
  if (operator === 'is') {
    const keyword = value.toLowerCase();
    if (!isValues.has(keyword)) {
      throw parseError(
        `"failed to parse filter (${raw})"`,
        'is. accepts null, not_null, true, false, unknown',
      );
    }
    return { column, operator, negated, value: keyword };
  }
  if (operator === 'like' || operator === 'ilike') {
    return { column, operator, negated, value: value.replace(/\*/g, '%') };
  }
  return { column, operator, negated, value };
}

export function parseQuery(params: URLSearchParams): ParsedQuery {
  const filters: Filter[] = [];
  for (const [key, value] of params) {
    if (reserved.has(key)) continue;
    if (logical.has(key)) throw unsupported(`${key}=${value}`, 'logical operators (or/and)');
    filters.push(parseFilter(key, value));
  }
  for (const key of reserved) {
    if (params.getAll(key).length > 1) throw parseError(`"${key}" given more than once`);
  }
  const columnsRaw = params.get('columns');
  const onConflictRaw = params.get('on_conflict');
  return {
    select: parseSelect(params.get('select')),
    filters,
    order: parseOrder(params.get('order')),
    limit: parseInteger('limit', params.get('limit')),
    offset: parseInteger('offset', params.get('offset')) ?? 0,
    columns: columnsRaw === null ? null : splitTopLevel(columnsRaw).map((c) => unquote(c.trim())),
    onConflict: onConflictRaw === null ? null : splitTopLevel(onConflictRaw).map((c) => unquote(c.trim())),
  };
}

export interface Preferences {
  return: 'minimal' | 'representation';
  count: boolean;
  resolution: 'merge-duplicates' | 'ignore-duplicates' | null;
  missingDefault: boolean;
  rollback: boolean;
}

/** Parses `Prefer` (several headers are joined with ", " by fetch). */
export function parsePrefer(header: string | undefined): Preferences {
  const preferences: Preferences = {
    return: 'minimal',
    count: false,
    resolution: null,
    missingDefault: false,
    rollback: false,
  };
  if (!header) return preferences;
  for (const part of header.split(',')) {
    const item = part.trim();
    if (item === '') continue;
    const [name, value] = item.split('=', 2) as [string, string | undefined];
    if (name === 'return' && (value === 'minimal' || value === 'representation')) preferences.return = value;
    else if (name === 'count' && (value === 'exact' || value === 'planned' || value === 'estimated')) {
      preferences.count = true;
    } else if (name === 'resolution' && (value === 'merge-duplicates' || value === 'ignore-duplicates')) {
      preferences.resolution = value;
    } else if (name === 'missing' && value === 'default') preferences.missingDefault = true;
    else if (name === 'missing' && value === 'null') preferences.missingDefault = false;
    else if (name === 'tx' && (value === 'rollback' || value === 'commit')) {
      preferences.rollback = value === 'rollback';
    } else if (name === 'handling' && value === 'lenient') {
      // the default
    } else {
      throw unsupported(`Prefer: ${item}`);
    }
  }
  return preferences;
}

/** `Range: 0-9` → offset/limit. */
export function parseRange(header: string | undefined): { offset: number; limit: number | null } | null {
  if (!header) return null;
  const match = /^(?:items=)?(\d+)-(\d*)$/.exec(header.trim());
  if (!match)
    throw new PostgrestError(416, 'PGRST103', 'Requested range not satisfiable', `Range: ${header}`);
  const from = Number(match[1]);
  const to = match[2] === '' ? null : Number(match[2]);
  if (to !== null && to < from) {
    throw new PostgrestError(416, 'PGRST103', 'Requested range not satisfiable', `Range: ${header}`);
  }
  return { offset: from, limit: to === null ? null : to - from + 1 };
}
