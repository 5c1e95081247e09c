import type { ConnectorChange, ConnectorState, JsonValue } from '@tributary/core';
import type { TeamsRun } from './teams-run.js';

/**
 * `known`: `<scope>/<item id>` → `{ externalId, generation }` for every document a scope produced.
 * A delta query reports removals only relative to its own link; when the link expired (410,
 * `syncStateNotFound`, `resyncRequired`) or the scope is read again for another reason (its
 * membership changed), the fresh query lists what exists and says nothing about what was deleted
 * meanwhile. Each fresh read of a scope starts a new generation and stamps every item it lists;
 * at its end, items still carrying an older generation are gone from the source and are deleted
 * (under a coverage guard). Keys live in `ctx.state`, so memory stays flat however large the scope.
 */
const KNOWN = 'known';

/** A fresh read may delete at most this share of a scope's known documents (when it has at least `GUARD_MIN_TOTAL`). */
export const SCOPE_SWEEP_MAX_FRACTION = 0.5;
const GUARD_MIN_TOTAL = 10;

interface KnownEntry {
  externalId: string;
  generation: string;
}

const keyOf = (scope: string, itemId: string) => `${scope}/${itemId}`;

export function rememberKnown(
  state: ConnectorState,
  scope: string,
  itemId: string,
  externalId: string,
  generation: string,
): void {
  state.set(KNOWN, keyOf(scope, itemId), { externalId, generation } satisfies KnownEntry as JsonValue);
}

/** External ids of known items (delta removals carry only the item id). */
export async function knownExternalIds(
  state: ConnectorState,
  scope: string,
  itemIds: readonly string[],
): Promise<Map<string, string>> {
  const found = await state.get(
    KNOWN,
    itemIds.map((id) => keyOf(scope, id)),
  );
  const result = new Map<string, string>();
  for (const id of itemIds) {
    const entry = found.get(keyOf(scope, id)) as Partial<KnownEntry> | undefined;
    if (typeof entry?.externalId === 'string') result.set(id, entry.externalId);
  }
  return result;
}

export function forgetKnown(state: ConnectorState, scope: string, itemId: string): void {
  state.delete(KNOWN, keyOf(scope, itemId));
}

/**
 * After a fresh read of `scope` reached its delta link in an incremental sync: deletes the documents it did not list
 * (still stamped with an older generation). A read that lists less than half of a scope of ten or
 * more documents looks truncated rather than emptied: nothing is deleted, the scope is reported
 * failed (the run ends `partial`, saying why) and a full sync, with the pipeline's own guard,
 * settles it.
 */
export async function* sweepScope(
  run: TeamsRun,
  scope: string,
  generation: string,
): AsyncGenerator<ConnectorChange> {
  const prefix = `${scope}/`;
  if (run.start !== 'delta') {
    // A full listing: the pipeline's own sweep deletes what it did not see (under its guard over
    // the whole connector); the stale entries only go.
    const stale: string[] = [];
    for await (const entry of run.ctx.state.iterate(KNOWN, { prefix }))
      if ((entry.value as Partial<KnownEntry> | null)?.generation !== generation) stale.push(entry.key);
    for (const key of stale) run.ctx.state.delete(KNOWN, key);
    return;
  }
  let total = 0;
  let unseen = 0;
  for await (const entry of run.ctx.state.iterate(KNOWN, { prefix })) {
    total += 1;
    if ((entry.value as Partial<KnownEntry> | null)?.generation !== generation) unseen += 1;
  }
  if (unseen === 0) return;
  if (total >= GUARD_MIN_TOTAL && unseen > SCOPE_SWEEP_MAX_FRACTION * total) {
    const message = `[tributary] [teams] a fresh read of ${scope} listed ${total - unseen} of ${total} known documents; nothing was deleted (coverage guard). Run a full sync to settle it`;
    run.failures.push(`${scope}: coverage guard`);
    run.ctx.logger.warn('scope sweep refused by the coverage guard', { scope, total, unseen });
    yield { kind: 'scope-failed', scope, message };
    return;
  }
  const gone: string[] = [];
  for await (const entry of run.ctx.state.iterate(KNOWN, { prefix })) {
    const value = entry.value as Partial<KnownEntry> | null;
    if (value?.generation === generation) continue;
    gone.push(entry.key);
    if (typeof value?.externalId === 'string') yield { kind: 'delete', externalId: value.externalId };
  }
  for (const key of gone) run.ctx.state.delete(KNOWN, key);
  run.ctx.logger.info('deletes found by a fresh read of a scope', { scope, deleted: gone.length });
}
