import type { ConnectorState, JsonValue } from '@tributary/core';

/**
 * The cursor stays small: which phase, and the id of the full listing it belongs to. Delta links
 * (one per channel and per organiser, each a long URL) live in `ctx.state`, committed with each
 * checkpoint, so a tenant with thousands of channels never outgrows the 64 KB cursor.
 */
export interface TeamsCursor {
  version: 1;
  /** `listing`: a full listing is under way (resumable); `delta`: incremental syncs read delta links. */
  phase: 'listing' | 'delta';
  /** The full listing this cursor belongs to. */
  runId: string;
}

export function parseTeamsCursor(value: JsonValue | undefined): TeamsCursor | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const { version, phase, runId } = value as Record<string, JsonValue>;
  if (version !== 1 || (phase !== 'listing' && phase !== 'delta') || typeof runId !== 'string')
    return undefined;
  return { version, phase, runId };
}

export function cursorJson(cursor: TeamsCursor): JsonValue {
  return { version: cursor.version, phase: cursor.phase, runId: cursor.runId };
}

/** Where one scope (a channel's messages, an organiser's transcripts or recordings) stands. */
export interface ScopeState {
  /** The link to read next: an `@odata.nextLink` mid-way, the `@odata.deltaLink` when caught up. */
  link: string;
  /** `link` is a delta link: the scope was read to its end. */
  complete: boolean;
  /** The full listing that last read this scope. */
  listedIn: string;
  /** Stamp of the scope's last fresh read (see `scope-index.ts`); items it listed carry it. */
  generation?: string | undefined;
  /** A fresh read is under way: when it reaches its delta link, what it did not list is deleted. */
  sweep?: boolean | undefined;
}

const SCOPES = 'scopes';

export async function readScope(state: ConnectorState, scope: string): Promise<ScopeState | undefined> {
  const value = (await state.get(SCOPES, [scope])).get(scope);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const { link, complete, listedIn, generation, sweep } = value as Record<string, JsonValue>;
  if (typeof link !== 'string' || typeof complete !== 'boolean' || typeof listedIn !== 'string')
    return undefined;
  return {
    link,
    complete,
    listedIn,
    generation: typeof generation === 'string' ? generation : undefined,
    sweep: sweep === true,
  };
}

export function writeScope(state: ConnectorState, scope: string, value: ScopeState): void {
  state.set(SCOPES, scope, {
    link: value.link,
    complete: value.complete,
    listedIn: value.listedIn,
    ...(value.generation ? { generation: value.generation } : {}),
    ...(value.sweep ? { sweep: true } : {}),
  });
}

/** Scope keys: also the `scope` of a `scope-failed` change. */
export const scopeKey = {
  channel: (teamId: string, channelId: string) => `teams/${teamId}/channels/${channelId}`,
  transcripts: (organizerId: string) => `users/${organizerId}/transcripts`,
  recordings: (organizerId: string) => `users/${organizerId}/recordings`,
};
