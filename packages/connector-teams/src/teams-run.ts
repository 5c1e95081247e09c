import { randomUUID } from 'node:crypto';
import {
  AbortError,
  type ConnectorChange,
  isFatalError,
  RateLimitError,
  type SyncContext,
} from '@tributary/core';
import type { GraphApi } from './graph-api.js';
import { isDeltaExpired } from './graph-transport.js';
import { readScope, type ScopeState, writeScope } from './teams-cursor.js';
import type { ResolvedTeamsSettings, TeamsConfig, TeamsCredentials } from './teams-settings.js';

export type TeamsSyncContext = SyncContext<TeamsConfig, TeamsCredentials>;

/** What one sync run shares between its channel and meeting scopes. */
export interface TeamsRun {
  ctx: TeamsSyncContext;
  api: GraphApi;
  settings: ResolvedTeamsSettings;
  /** The full listing this run belongs to (a new id for a full sync, the cursor's when resuming). */
  runId: string;
  /** `fresh`: ignore stored links (full sync); `resume`: finish a listing; `delta`: read changes. */
  start: 'fresh' | 'resume' | 'delta';
  /** Scopes that failed: the listing is then incomplete (no sweep) and the run ends `partial`. */
  failures: string[];
}

/** A failure of one scope that stops the run instead: credentials, quota, cancellation, throttling. */
export function stopsTheRun(error: unknown): boolean {
  return isFatalError(error) || AbortError.isInstance(error) || RateLimitError.isInstance(error);
}

/**
 * Runs one scope; anything else than a run-stopping error is recorded as a `scope-failed` change
 * (the pipeline counts it as a failure and the run ends `partial`) and the next scope goes on.
 */
export async function* guardScope(
  run: TeamsRun,
  scope: string,
  body: () => AsyncGenerator<ConnectorChange>,
): AsyncGenerator<ConnectorChange> {
  try {
    yield* body();
  } catch (error) {
    yield scopeFailed(run, scope, error);
  }
}

/** `guardScope` for a step that yields nothing (listing a team's channels). */
export async function* guardStep(
  run: TeamsRun,
  scope: string,
  step: () => Promise<void>,
): AsyncGenerator<ConnectorChange> {
  try {
    await step();
  } catch (error) {
    yield scopeFailed(run, scope, error);
  }
}

function scopeFailed(run: TeamsRun, scope: string, error: unknown): ConnectorChange {
  if (stopsTheRun(error)) throw error;
  const message = error instanceof Error ? error.message : String(error);
  run.failures.push(`${scope}: ${message}`);
  run.ctx.logger.warn('a Teams scope failed; the rest of the run goes on', { scope, error: message });
  return { kind: 'scope-failed', scope, message };
}

/** The page to read first for a scope, by the run's start mode and the scope's stored state. */
export async function firstLink(
  run: TeamsRun,
  scope: string,
  freshLink: string,
): Promise<{ link: string; stored: ScopeState | undefined } | null> {
  if (run.start === 'fresh') return { link: freshLink, stored: undefined };
  const stored = await readScope(run.ctx.state, scope);
  if (run.start === 'resume') {
    // Finished in this listing: nothing left. Started in it: continue from the page after the last checkpoint.
    if (stored?.listedIn === run.runId) return stored.complete ? null : { link: stored.link, stored };
    return { link: freshLink, stored: undefined };
  }
  return stored ? { link: stored.link, stored } : { link: freshLink, stored: undefined };
}

export interface DeltaPage<T> {
  items: T[];
  /** True when this page comes from a fresh delta query started because the stored link expired. */
  resynced: boolean;
  /** Stamp for `rememberKnown`: the generation of the scope's last fresh read. */
  generation: string;
}

export interface DeltaOptions {
  /** Read the scope from a fresh delta query whatever is stored (its membership changed). */
  restart?: boolean | undefined;
  /** Called when a fresh read reached its delta link: deletes what it did not list (`sweepScope`). */
  sweep?: ((generation: string) => AsyncGenerator<ConnectorChange>) | undefined;
}

/**
 * Reads a scope's delta query page by page, from its stored link or a fresh one. A stored link
 * that Graph no longer knows (410 Gone, `syncStateNotFound`, `resyncRequired`) restarts the scope
 * from a fresh delta query. A fresh read (first sync, full sync, expired link, `restart`) stamps a
 * new generation on what it lists and, on reaching its delta link, runs `sweep` so deletes made
 * while the link was dead are found too. After each page the scope's next link is written to
 * `ctx.state` and a checkpoint is yielded, so a resumed run starts at the next page (and still
 * sweeps at the end of an interrupted fresh read).
 */
export async function* readDelta<T>(
  run: TeamsRun,
  scope: string,
  freshLink: string,
  read: (
    link: string,
  ) => Promise<{ items: T[]; nextLink: string | undefined; deltaLink: string | undefined }>,
  handle: (page: DeltaPage<T>) => AsyncGenerator<ConnectorChange>,
  checkpoint: () => ConnectorChange,
  options: DeltaOptions = {},
): AsyncGenerator<ConnectorChange> {
  const start = options.restart
    ? { link: freshLink, stored: undefined }
    : await firstLink(run, scope, freshLink);
  if (!start) return;
  let link = start.link;
  let fromStore = start.stored !== undefined;
  // A fresh read: from a fresh query's first page, or continuing one a checkpoint interrupted.
  let fresh = start.stored === undefined || start.stored.sweep === true;
  let generation = start.stored?.generation ?? randomUUID();
  let resynced = options.restart === true;
  for (;;) {
    let page: Awaited<ReturnType<typeof read>>;
    try {
      page = await read(link);
    } catch (error) {
      if (!fromStore || !isDeltaExpired(error)) throw error;
      run.ctx.logger.info('delta link expired; reading the scope again from a fresh delta query', { scope });
      link = freshLink;
      fromStore = false;
      fresh = true;
      generation = randomUUID();
      resynced = true;
      continue;
    }
    fromStore = false;
    yield* handle({ items: page.items, resynced, generation });
    const next = page.nextLink ?? page.deltaLink;
    if (!next)
      throw new Error(
        `[tributary] [teams] Graph returned a delta page without @odata.nextLink or @odata.deltaLink (${scope})`,
      );
    if (!page.nextLink && fresh && options.sweep) yield* options.sweep(generation);
    const value: ScopeState = {
      link: next,
      complete: !page.nextLink,
      listedIn: run.runId,
      generation,
      sweep: fresh && Boolean(page.nextLink),
    };
    writeScope(run.ctx.state, scope, value);
    yield checkpoint();
    if (!page.nextLink) return;
    link = next;
  }
}
