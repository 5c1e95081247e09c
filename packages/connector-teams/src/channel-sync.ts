import { ConnectorApiError, type ConnectorChange } from '@tributary/core';
import pMap from 'p-map';
import {
  type ChangedTeams,
  changedTeams,
  channelMembership,
  membershipHandled,
  teamWide,
} from './channel-members.js';
import type { GraphApi, GraphPage } from './graph-api.js';
import {
  channelSchema,
  chatMessageSchema,
  type GraphChannel,
  type GraphChatMessage,
  type GraphTeam,
  memberSchema,
  teamSchema,
} from './graph-types.js';
import {
  isRemoved,
  isUserMessage,
  mapThread,
  memberPermissions,
  type ThreadContext,
  teamPermissions,
} from './map-thread.js';
import { forgetKnown, rememberKnown, sweepScope } from './scope-index.js';
import { scopeKey } from './teams-cursor.js';
import { segment, threadExternalId } from './teams-ids.js';
import { firstLink, guardScope, guardStep, readDelta, type TeamsRun } from './teams-run.js';

const RECENT = 'recent';
const HOUR_MS = 3_600_000;

/** Every team: the tenant's (app-only), or the signed-in user's (delegated: `GET /teams` is app-only). */
export function allTeamsPath(type: 'client_credentials' | 'delegated'): string {
  return type === 'delegated' ? '/me/joinedTeams' : '/teams';
}

/** The teams to sync: the configured ones (a team that cannot be read fails as a scope), or all. */
export async function* listTeams(run: TeamsRun, found: GraphTeam[]): AsyncGenerator<ConnectorChange> {
  const { api, ctx } = run;
  if (!ctx.config.teamIds) {
    found.push(
      ...(await api.all(`${allTeamsPath(ctx.credentials.type)}?$select=id,displayName`, teamSchema)),
    );
    return;
  }
  for (const teamId of ctx.config.teamIds) {
    yield* guardStep(run, `teams/${teamId}`, async () => {
      found.push(await api.get(`/teams/${segment(teamId)}?$select=id,displayName`, teamSchema));
    });
  }
}

type FirstPage = Promise<{ link: string; page: GraphPage<GraphChatMessage> } | null>;

/**
 * Every channel of every team: a team whose channels cannot be listed fails alone. Channels are
 * processed one after another (their changes and checkpoints stay in order), but the first delta
 * page of the next `concurrency` channels is requested ahead, so a re-sync with nothing new costs
 * about one round trip per `concurrency` channels instead of one per channel.
 */
export async function* syncChannels(
  run: TeamsRun,
  checkpoint: () => ConnectorChange,
): AsyncGenerator<ConnectorChange> {
  const teams: GraphTeam[] = [];
  yield* listTeams(run, teams);
  const membership: { teams: ChangedTeams } = { teams: 'all' };
  // With `channelPermissions: 'team'` no standard channel lists its members, so the groups delta
  // that tells which teams' members changed is not needed (private channels are read every time).
  if (run.ctx.config.channelPermissions === 'team') membership.teams = new Set();
  else if (run.ctx.config.includePermissions !== false && teams.length > 0)
    yield* changedTeams(run, new Set(teams.map((team) => team.id)), checkpoint, membership);
  const work: { team: GraphTeam; channel: GraphChannel }[] = [];
  for (const team of teams) {
    yield* guardStep(run, `teams/${team.id}`, async () => {
      const channels = await run.api.all(`/teams/${segment(team.id)}/channels`, channelSchema);
      for (const channel of channels) work.push({ team, channel });
    });
  }
  const ahead = new Map<string, FirstPage>();
  const prefetch = (index: number) => {
    const item = work[index];
    if (!item) return;
    const scope = scopeKey.channel(item.team.id, item.channel.id);
    if (ahead.has(scope)) return;
    const first: FirstPage = firstLink(run, scope, deltaUrl(run, item.team.id, item.channel.id)).then(
      async (start) =>
        start ? { link: start.link, page: await run.api.page(start.link, chatMessageSchema) } : null,
    );
    // Observed when the channel's turn comes; never an unhandled rejection before.
    first.catch(() => {});
    ahead.set(scope, first);
  };
  let teamFailures = run.failures.length;
  for (const [index, { team, channel }] of work.entries()) {
    for (let next = index; next <= index + run.settings.concurrency; next++) prefetch(next);
    const scope = scopeKey.channel(team.id, channel.id);
    const first = ahead.get(scope);
    ahead.delete(scope);
    if (work[index - 1]?.team.id !== team.id) teamFailures = run.failures.length;
    yield* guardScope(run, scope, () => syncChannel(run, team, channel, checkpoint, membership.teams, first));
    // The team's last channel: its membership change is handled if every channel was read.
    if (work[index + 1]?.team.id !== team.id && run.failures.length === teamFailures)
      membershipHandled(run, team.id);
  }
}

function deltaUrl(run: TeamsRun, teamId: string, channelId: string): string {
  const params = [`$top=${run.settings.pageSize}`];
  if (run.ctx.config.messagesSince)
    params.push(`$filter=lastModifiedDateTime gt ${run.ctx.config.messagesSince}`);
  return `/teams/${segment(teamId)}/channels/${segment(channelId)}/messages/delta?${params.join('&')}`;
}

export async function listReplies(api: GraphApi, teamId: string, channelId: string, rootId: string) {
  return api.all(
    `/teams/${segment(teamId)}/channels/${segment(channelId)}/messages/${segment(rootId)}/replies?$top=50`,
    chatMessageSchema,
  );
}

function lastActivity(root: GraphChatMessage, replies: readonly GraphChatMessage[]): number {
  let latest = Date.parse(root.lastModifiedDateTime ?? root.createdDateTime ?? '') || 0;
  for (const reply of replies)
    latest = Math.max(latest, Date.parse(reply.lastModifiedDateTime ?? reply.createdDateTime ?? '') || 0);
  return latest;
}

/**
 * One channel: its messages delta (root messages), each changed root with its replies as one
 * thread document, deleted roots as deletes. The delta does not report replies; on incremental
 * syncs, threads active within `replyRecheckHours` have their replies read again (change
 * notifications cover the rest in real time).
 */
async function* syncChannel(
  run: TeamsRun,
  team: GraphTeam,
  channel: GraphChannel,
  checkpoint: () => ConnectorChange,
  teams: ChangedTeams,
  first?: FirstPage,
): AsyncGenerator<ConnectorChange> {
  const { api, ctx } = run;
  let prefetched = first;
  const read = async (link: string) => {
    const ready = prefetched;
    prefetched = undefined;
    const hit = ready ? await ready : null;
    return hit && hit.link === link ? hit.page : api.page(link, chatMessageSchema);
  };
  const scope = scopeKey.channel(team.id, channel.id);
  const membership = await channelMembership(run, team.id, channel, teams);
  const context: ThreadContext = {
    teamId: team.id,
    teamName: team.displayName ?? team.id,
    channelId: channel.id,
    channelName: channel.displayName ?? channel.id,
    permissions: membership.permissions,
  };
  const windowMs = (ctx.config.replyRecheckHours ?? 24) * HOUR_MS;
  const recentPrefix = `${team.id}/${channel.id}/`;
  const handled = new Set<string>();

  const toThreads = async (roots: GraphChatMessage[]) =>
    pMap(
      roots,
      async (root) => {
        const replies = await listReplies(api, team.id, channel.id, root.id);
        const activity = lastActivity(root, replies);
        if (windowMs > 0 && Date.now() - activity < windowMs)
          ctx.state.set(RECENT, recentPrefix + root.id, activity);
        return mapThread(context, root, replies);
      },
      { concurrency: run.settings.concurrency },
    );

  yield* readDelta(
    run,
    scope,
    deltaUrl(run, team.id, channel.id),
    read,
    async function* (page) {
      const live: GraphChatMessage[] = [];
      for (const root of page.items) {
        handled.add(root.id);
        if (isRemoved(root) || !isUserMessage(root)) {
          // A system message was never a document; deleting an unknown id is a no-op.
          yield { kind: 'delete', externalId: threadExternalId(team.id, channel.id, root.id) };
          ctx.state.delete(RECENT, recentPrefix + root.id);
          forgetKnown(ctx.state, scope, root.id);
        } else {
          live.push(root);
        }
      }
      const threads = await toThreads(live);
      for (const [index, document] of threads.entries()) {
        rememberKnown(
          ctx.state,
          scope,
          (live[index] as GraphChatMessage).id,
          document.externalId,
          page.generation,
        );
        yield { kind: 'upsert', document };
      }
    },
    checkpoint,
    // A membership change re-reads the channel: every thread is stored again with the new ACL.
    { restart: membership.changed, sweep: (generation) => sweepScope(run, scope, generation) },
  );
  membership.save();

  if (run.start !== 'delta' || windowMs === 0) return;
  const recheck: string[] = [];
  for await (const entry of ctx.state.iterate(RECENT, { prefix: recentPrefix })) {
    const rootId = entry.key.slice(recentPrefix.length);
    if (handled.has(rootId)) continue;
    if (typeof entry.value !== 'number' || Date.now() - entry.value >= windowMs)
      ctx.state.delete(RECENT, entry.key);
    else recheck.push(rootId);
  }
  if (recheck.length === 0) return;
  const roots = await pMap(
    recheck,
    async (rootId) => {
      try {
        return await api.get(
          `/teams/${segment(team.id)}/channels/${segment(channel.id)}/messages/${segment(rootId)}`,
          chatMessageSchema,
        );
      } catch (error) {
        // Gone since it was last seen: its thread leaves too.
        if (ConnectorApiError.isInstance(error) && error.status === 404)
          return { id: rootId, deletedDateTime: 'gone' };
        throw error;
      }
    },
    { concurrency: run.settings.concurrency },
  );
  for (const root of roots) {
    if (!isRemoved(root)) continue;
    ctx.state.delete(RECENT, recentPrefix + root.id);
    forgetKnown(ctx.state, scope, root.id);
    yield { kind: 'delete', externalId: threadExternalId(team.id, channel.id, root.id) };
  }
  for (const document of await toThreads(roots.filter((root) => !isRemoved(root))))
    yield { kind: 'upsert', document };
  yield checkpoint();
}

/** `fetchDocument` for a thread: the root, its replies, the team and channel names, the membership. */
export async function fetchThread(
  api: GraphApi,
  teamId: string,
  channelId: string,
  rootId: string,
  withPermissions: boolean,
  channelPermissions?: 'members' | 'team',
) {
  const base = `/teams/${segment(teamId)}/channels/${segment(channelId)}`;
  const root = await api.get(`${base}/messages/${segment(rootId)}`, chatMessageSchema);
  if (isRemoved(root) || !isUserMessage(root)) return null;
  const [team, channel, replies, members] = await Promise.all([
    api.get(`/teams/${segment(teamId)}?$select=id,displayName`, teamSchema),
    api.get(base, channelSchema),
    listReplies(api, teamId, channelId, rootId),
    withPermissions && channelPermissions !== 'team'
      ? api.all(`${base}/members`, memberSchema)
      : Promise.resolve(undefined),
  ]);
  // A standard channel under `channelPermissions: 'team'` records the team's group; a private one
  // (its own members) is listed after all.
  const byTeam = withPermissions && teamWide(channelPermissions, channel);
  const listed =
    withPermissions && !byTeam ? (members ?? (await api.all(`${base}/members`, memberSchema))) : undefined;
  return mapThread(
    {
      teamId,
      teamName: team.displayName ?? teamId,
      channelId,
      channelName: channel.displayName ?? channelId,
      permissions: byTeam ? teamPermissions(teamId) : listed ? memberPermissions(listed) : undefined,
    },
    root,
    replies,
  );
}
