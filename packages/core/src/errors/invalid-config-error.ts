import { hasErrorMarker, TributaryError } from './tributary-error.js';

const marker = Symbol.for('tributary.error.invalid_config');

/** One problem found in a config or credentials object. */
export interface ConfigIssue {
  /** Path to the offending field, e.g. `folders[2].id`; empty for the object as a whole. */
  fieldPath: string;
  message: string;
}

/**
 * The shape of a schema validation failure: a zod `ZodError` (or `safeParse().error`), or any
 * Standard Schema result's issues. Typed structurally so core needs no particular zod copy.
 */
export interface SchemaIssuesLike {
  readonly issues: ReadonlyArray<{
    readonly message: string;
    readonly path?: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }> | undefined;
  }>;
}

export interface InvalidConfigErrorOptions {
  connector?: string | undefined;
  /** Which object was invalid: `config` (default), `credentials`, `settings`... */
  subject?: string | undefined;
  issues: readonly ConfigIssue[];
  hint?: string | undefined;
  cause?: unknown;
}

/**
 * A connector's config or credentials failed validation. Raised when the connector instance is
 * created (never halfway through a sync). `fieldPath` names the first offending field
 * (`folders[2].id`); `issues` lists them all. Fatal. Messages never echo field values, so
 * credentials cannot leak through them.
 */
export class InvalidConfigError extends TributaryError {
  readonly [marker] = true;
  /** Path of the first offending field, e.g. `folders[2].id` (empty string: the whole object). */
  readonly fieldPath: string;
  readonly issues: readonly ConfigIssue[];
  /** `config`, `credentials`... */
  readonly subject: string;
  readonly isRetryable = false;

  constructor(options: InvalidConfigErrorOptions) {
    const subject = options.subject ?? 'config';
    const [first, ...rest] = options.issues;
    const describe = (issue: ConfigIssue) =>
      issue.fieldPath
        ? `${subject} field "${issue.fieldPath}": ${issue.message}`
        : `${subject}: ${issue.message}`;
    const more =
      rest.length === 0
        ? ''
        : ` (and ${rest.length} more: ${rest
            .slice(0, 3)
            .map((issue) => describe(issue))
            .join('; ')}${rest.length > 3 ? '; ...' : ''})`;
    super({
      code: 'invalid_config',
      connector: options.connector,
      area: 'config',
      message: first ? `invalid ${describe(first)}${more}` : `invalid ${subject}`,
      hint: options.hint ?? `Fix the ${subject} and create the connector again`,
      cause: options.cause,
    });
    this.fieldPath = first?.fieldPath ?? '';
    this.issues = options.issues;
    this.subject = subject;
  }

  /** Builds the error from a zod error (or any Standard Schema failure). */
  static fromSchemaIssues(
    error: SchemaIssuesLike,
    options: { connector?: string | undefined; subject?: string | undefined; hint?: string | undefined } = {},
  ): InvalidConfigError {
    return new InvalidConfigError({
      ...options,
      issues: error.issues.map((issue) => ({
        fieldPath: formatFieldPath(issue.path ?? []),
        message: issue.message,
      })),
      cause: error,
    });
  }

  static override isInstance(error: unknown): error is InvalidConfigError {
    return hasErrorMarker(error, marker);
  }
}

/** `['folders', 2, 'id']` → `folders[2].id`; odd keys are quoted: `headers["x-api-key"]`. */
export function formatFieldPath(path: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }>): string {
  let result = '';
  for (const segment of path) {
    const key = typeof segment === 'object' && segment !== null ? segment.key : segment;
    if (typeof key === 'number') {
      result += `[${key}]`;
    } else if (typeof key === 'symbol') {
      result += `[${key.toString()}]`;
    } else if (/^[A-Za-z_$][\w$]*$/.test(key)) {
      result += result === '' ? key : `.${key}`;
    } else {
      result += `[${JSON.stringify(key)}]`;
    }
  }
  return result;
}
