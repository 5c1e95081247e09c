import { InvalidConfigError } from '../errors/invalid-config-error.js';
import type { ConnectorV1 } from '../spec/v1/connector-v1.js';

/**
 * What a host writes as a connector's config or credentials: the plugin's parsed type with every
 * field optional (defaults fill them; the plugin's schema still rejects a missing required field at
 * run time). Excess property checks make a misspelt field (`maxPage` for `maxPages`) a compile error.
 */
export type SettingsInput<T> = T extends readonly (infer Item)[]
  ? readonly SettingsInput<Item>[]
  : T extends Date
    ? T | string
    : T extends object
      ? { [Key in keyof T]?: SettingsInput<T[Key]> }
      : T;

export type ConfigOf<C> = C extends ConnectorV1<infer Config, unknown> ? Config : never;
export type CredentialsOf<C> = C extends ConnectorV1<unknown, infer Credentials> ? Credentials : never;

interface ZodInternals {
  _zod?: { def?: Record<string, unknown> & { type?: string } };
}

/**
 * The keys an object schema knows, unwrapping defaults, pipes and unions; `undefined` when the
 * schema accepts any key (passthrough/catchall) or is not an object schema we can read.
 */
function knownKeys(schema: unknown, depth = 0): Set<string> | undefined {
  const def = (schema as ZodInternals | undefined)?._zod?.def;
  if (!def || depth > 8) return undefined;
  switch (def.type) {
    case 'object': {
      const catchall = (def.catchall as ZodInternals | undefined)?._zod?.def?.type;
      if (catchall !== undefined && catchall !== 'never') return undefined;
      return new Set(Object.keys((def.shape as Record<string, unknown>) ?? {}));
    }
    case 'default':
    case 'prefault':
    case 'optional':
    case 'nullable':
    case 'readonly':
    case 'catch':
      return knownKeys(def.innerType, depth + 1);
    case 'pipe':
      return knownKeys(def.in, depth + 1);
    case 'union': {
      const union = new Set<string>();
      for (const option of (def.options as unknown[]) ?? []) {
        const keys = knownKeys(option, depth + 1);
        if (!keys) return undefined;
        for (const key of keys) union.add(key);
      }
      return union;
    }
    default:
      return undefined;
  }
}

/**
 * Rejects top-level fields the schema does not know. zod objects strip unknown keys silently, so
 * without this a typo would be stored and ignored; with it the host learns which field and what
 * it probably meant. Values are never echoed (credentials pass through here too).
 */
export function assertKnownFields(
  connector: ConnectorV1<unknown, unknown>,
  subject: 'config' | 'credentials',
  value: unknown,
): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return;
  const keys = knownKeys(subject === 'config' ? connector.configSchema : connector.credentialsSchema);
  if (!keys) return;
  const unknown = Object.keys(value).filter((key) => !keys.has(key));
  if (unknown.length === 0) return;
  throw new InvalidConfigError({
    connector: connector.type,
    subject,
    issues: unknown.map((key) => {
      const guess = closest(key, [...keys]);
      return {
        fieldPath: key,
        message: `is not a ${connector.displayName} ${subject} field${guess ? ` (did you mean "${guess}"?)` : ''}`,
      };
    }),
    hint: `Known fields: ${[...keys].sort().join(', ') || 'none'}`,
  });
}

function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(word.length / 3)) + 1;
  for (const candidate of candidates) {
    const distance = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      current[j] = Math.min(
        (previous[j] as number) + 1,
        (current[j - 1] as number) + 1,
        (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length] as number;
}
