import { randomUUID } from 'node:crypto';
import {
  ConnectorApiError,
  type ConnectorChange,
  type ConnectorContext,
  type ConnectorV1,
  defineConnector,
} from '@tributary/core';
import { allTeamsPath, fetchThread, syncChannels } from './channel-sync.js';
import { createGraphApi } from './graph-api.js';
import { teamSchema } from './graph-types.js';
import { syncMeetingList } from './meeting-list.js';
import { fetchMeetingArtifact, syncMeetings } from './meeting-sync.js';
import { cursorJson, parseTeamsCursor, type TeamsCursor } from './teams-cursor.js';
import { parseExternalId } from './teams-ids.js';
import type { TeamsRun, TeamsSyncContext } from './teams-run.js';
import {
  DEFAULT_RATE_LIMIT,
  resolveSettings,
  TEAMS_CONNECTOR_TYPE,
  type TeamsConfig,
  type TeamsConnectorSettings,
  type TeamsCredentials,
  teamsConfigSchema,
  teamsCredentialsSchema,
} from './teams-settings.js';
import { teamsWebhooks } from './teams-webhooks.js';

/** The Microsoft Teams connector (`ConnectorV1`). */
export type TeamsConnector = ConnectorV1<TeamsConfig, TeamsCredentials>;

/**
 * Microsoft Teams through Microsoft Graph: channel threads (root message and replies as one
 * Markdown document) from each channel's messages delta, meeting transcripts (WebVTT, speakers and
 * timestamps kept) from each organiser's `getAllTranscripts` delta, recordings without a transcript
 * through a configured transcriber, channel members and meeting participants as `permissions`,
 * change notifications through `webhooks`.
 *
 * @example
 * const teams = createTeamsConnector();
 * await runSync({
 *   connector: teams, connectorId, repository, embedder,
 *   config: { meetingOrganizerIds: ['5f0c...'] },
 *   credentials: { type: 'client_credentials', tenantId, clientId, clientSecret },
 * });
 */
export function createTeamsConnector(settings: TeamsConnectorSettings = {}): TeamsConnector {
  const resolved = resolveSettings(settings);

  const runFor = (ctx: ConnectorContext<TeamsConfig, TeamsCredentials>) =>
    createGraphApi({
      http: ctx.http,
      metrics: ctx.metrics,
      signal: ctx.signal,
      logger: ctx.logger,
      credentials: ctx.credentials,
      settings: resolved,
    });

  return defineConnector<TeamsConfig, TeamsCredentials>({
    type: TEAMS_CONNECTOR_TYPE,
    displayName: 'Microsoft Teams',
    capabilities: {
      incremental: true,
      deletions: true,
      permissions: true,
      binaryContent: false,
      webhooks: true,
    },
    configSchema: teamsConfigSchema,
    credentialsSchema: teamsCredentialsSchema,
    rateLimit: settings.rateLimit ?? DEFAULT_RATE_LIMIT,
    webhooks: teamsWebhooks,

    // One token request and one small Graph read: proves the tenant, the app and its consent.
    async check(ctx) {
      const api = runFor(ctx);
      const teamId = ctx.config.teamIds?.[0];
      if (teamId) await api.get(`/teams/${encodeURIComponent(teamId)}?$select=id`, teamSchema);
      else await api.page(`${allTeamsPath(ctx.credentials.type)}?$select=id&$top=1`, teamSchema);
    },

    async *sync(ctx) {
      const cursor = parseTeamsCursor(ctx.cursor);
      const incremental = ctx.mode === 'incremental' && cursor !== undefined;
      const run: TeamsRun = {
        ctx: ctx as TeamsSyncContext,
        api: runFor(ctx),
        settings: resolved,
        runId: incremental ? cursor.runId : randomUUID(),
        start: !incremental ? 'fresh' : cursor.phase === 'listing' ? 'resume' : 'delta',
        failures: [],
      };
      yield* syncAll(run, incremental ? cursor : undefined);
    },

    async fetchDocument(ctx, externalId) {
      const parsed = parseExternalId(externalId);
      if (!parsed) return null;
      const run = { api: runFor(ctx), ctx: ctx as unknown as TeamsSyncContext };
      try {
        if (parsed.kind === 'thread') {
          return await fetchThread(
            run.api,
            parsed.teamId,
            parsed.channelId,
            parsed.rootId,
            ctx.config.includePermissions !== false,
            ctx.config.channelPermissions,
          );
        }
        return await fetchMeetingArtifact(
          run,
          resolved.transcriber,
          parsed.kind === 'transcript' ? 'transcripts' : 'recordings',
          parsed.organizerId,
          parsed.meetingId,
          parsed.kind === 'transcript' ? parsed.transcriptId : parsed.recordingId,
        );
      } catch (error) {
        // Deleted, or the app lost access to it: gone from the knowledge base.
        if (ConnectorApiError.isInstance(error) && error.status === 404) return null;
        throw error;
      }
    },
  });
}

async function* syncAll(run: TeamsRun, previous: TeamsCursor | undefined): AsyncGenerator<ConnectorChange> {
  const phase = previous?.phase === 'delta' ? 'delta' : 'listing';
  const checkpoint = (): ConnectorChange => ({
    kind: 'checkpoint',
    cursor: cursorJson({ version: 1, phase, runId: run.runId }),
  });
  if (run.ctx.config.channels !== false) yield* syncChannels(run, checkpoint);
  yield* syncMeetings(run, checkpoint);
  yield* syncMeetingList(run, checkpoint);
  if (run.start === 'fresh') {
    const complete = run.failures.length === 0;
    yield {
      kind: 'listing-complete',
      complete,
      ...(complete
        ? {}
        : { reason: `${run.failures.length} scope(s) failed: ${run.failures.slice(0, 3).join('; ')}` }),
    };
  }
  yield { kind: 'checkpoint', cursor: cursorJson({ version: 1, phase: 'delta', runId: run.runId }) };
}
