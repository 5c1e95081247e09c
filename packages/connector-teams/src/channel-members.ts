import type { ConnectorChange, DocumentPermission, JsonValue } from '@tributary/core';
import { type GraphChannel, memberSchema, teamSchema } from './graph-types.js';
import { memberPermissions, permissionsFingerprint, teamPermissions } from './map-thread.js';
import { scopeKey } from './teams-cursor.js';
import { segment } from './teams-ids.js';
import { readDelta, stopsTheRun, type TeamsRun } from './teams-run.js';

/** `members`: channel scope key → the channel's members as permissions, as last read. */
const MEMBERS = 'members';
/** `members-pending`: team id → true while its channels' membership is still to be read again. */
const PENDING = 'members-pending';
/** Scope of the groups delta that reports team membership changes. */
export const GROUPS_SCOPE = 'groups/members';

/** Teams whose membership changed since the last run, or `all` when that is not known. */
export type ChangedTeams = Set<string> | 'all';

/**
 * Which teams' membership changed, from one delta query over groups (a team is a Microsoft 365
 * group; its standard channels have the team's members): a re-sync with no membership change
 * costs one call, not one per channel. A full sync reads every channel's members anyway and only
 * moves the delta link to the present. When the delta cannot be read (no `GroupMember.Read.All`
 * consent, say), every channel's members are read again: slower, never stale.
 */
export async function* changedTeams(
  run: TeamsRun,
  teamIds: ReadonlySet<string>,
  checkpoint: () => ConnectorChange,
  out: { teams: ChangedTeams },
): AsyncGenerator<ConnectorChange> {
  try {
    yield* readDelta(
      run,
      GROUPS_SCOPE,
      '/groups/delta?$select=id,displayName,members',
      (link) => run.api.page(link, teamSchema),
      // biome-ignore lint/correctness/useYield: a groups page changes no document, only state.
      async function* (page) {
        // Kept in state until the team's channels were read again, so a run stopped in between
        // (after this delta link was committed) still re-reads them next time. A fresh read lists
        // every group, so every synced team is then read again.
        if (run.start !== 'delta') return;
        for (const group of page.items) if (teamIds.has(group.id)) run.ctx.state.set(PENDING, group.id, true);
      },
      checkpoint,
    );
    const pending = new Set<string>();
    for await (const entry of run.ctx.state.iterate(PENDING)) pending.add(entry.key);
    out.teams = pending;
  } catch (error) {
    if (stopsTheRun(error)) throw error;
    run.ctx.logger.warn('team membership changes not readable; reading every channel membership again', {
      error: error instanceof Error ? error.message : String(error),
    });
    out.teams = 'all';
  }
}

/**
 * A channel's members as permissions. Incremental syncs read them again only when they may have
 * changed: a standard channel whose team's membership changed (`changedTeams`), and private and
 * shared channels (their own membership, not reported by the groups delta). `changed` is true when
 * the membership differs from the one stored: the channel's threads must be stored again with it,
 * then `save()` records it.
 */
export async function channelMembership(
  run: TeamsRun,
  teamId: string,
  channel: GraphChannel,
  teams: ChangedTeams,
): Promise<{ permissions: DocumentPermission[] | undefined; changed: boolean; save: () => void }> {
  const none = () => {};
  if (run.ctx.config.includePermissions === false)
    return { permissions: undefined, changed: false, save: none };
  const key = scopeKey.channel(teamId, channel.id);
  const stored = run.start === 'delta' ? (await run.ctx.state.get(MEMBERS, [key])).get(key) : undefined;
  const previous = Array.isArray(stored) ? (stored as unknown as DocumentPermission[]) : undefined;
  const save = (permissions: DocumentPermission[]) => () =>
    run.ctx.state.set(MEMBERS, key, permissions as unknown as JsonValue);
  if (teamWide(run.ctx.config.channelPermissions, channel)) {
    // The team's group, whatever its members: no call. A switch from `members` (or back) changes
    // the ACL, so the channel's threads are stored again with it.
    const permissions = teamPermissions(teamId);
    const changed =
      previous !== undefined && permissionsFingerprint(previous) !== permissionsFingerprint(permissions);
    return { permissions, changed, save: save(permissions) };
  }
  const mayHaveChanged =
    teams === 'all' || teams.has(teamId) || (channel.membershipType ?? 'standard') !== 'standard';
  if (previous && !mayHaveChanged) return { permissions: previous, changed: false, save: none };
  const members = await run.api.all(
    `/teams/${segment(teamId)}/channels/${segment(channel.id)}/members`,
    memberSchema,
  );
  const permissions = memberPermissions(members);
  const changed =
    previous !== undefined && permissionsFingerprint(previous) !== permissionsFingerprint(permissions);
  if (changed)
    run.ctx.logger.info('channel membership changed; its threads are stored again', { scope: key });
  return {
    permissions,
    changed,
    // Stored once the channel was read with it: a channel that fails half-way (its state may
    // still be committed by a later checkpoint) compares against the old members next time.
    save: save(permissions),
  };
}

/** `channelPermissions: 'team'` applies to standard channels (private and shared ones have their own members). */
export function teamWide(mode: 'members' | 'team' | undefined, channel: GraphChannel): boolean {
  return mode === 'team' && (channel.membershipType ?? 'standard') === 'standard';
}

/** The team's channels were all read again: its membership change is handled. */
export function membershipHandled(run: TeamsRun, teamId: string): void {
  run.ctx.state.delete(PENDING, teamId);
}
