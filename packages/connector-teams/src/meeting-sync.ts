import {
  ConnectorApiError,
  type ConnectorChange,
  type JsonValue,
  type SourceDocument,
} from '@tributary/core';
import pMap from 'p-map';
import {
  type GraphMeetingArtifact,
  type GraphOnlineMeeting,
  meetingArtifactSchema,
  onlineMeetingSchema,
} from './graph-types.js';
import { mapRecording, mapTranscript, meetingPath } from './map-meeting.js';
import { forgetKnown, knownExternalIds, rememberKnown, sweepScope } from './scope-index.js';
import { scopeKey } from './teams-cursor.js';
import { segment } from './teams-ids.js';
import { guardScope, readDelta, type TeamsRun } from './teams-run.js';
import type { TeamsTranscriber } from './teams-transcriber.js';

/** `meetings`: meeting id → `{ transcript: boolean, recordings: string[] }` (external ids of transcribed recordings). */
const MEETINGS = 'meetings';

export interface MeetingEntry {
  transcript: boolean;
  recordings: string[];
}

/**
 * Reads a meeting's details (subject, participants). Its artifacts are still synced when they
 * cannot be read (a meeting deleted since, a policy that hides it): without title and permissions,
 * and with a warning.
 */
export async function readMeeting(
  run: Pick<TeamsRun, 'api' | 'ctx'>,
  organizerId: string,
  meetingId: string,
): Promise<GraphOnlineMeeting | undefined> {
  try {
    return await run.api.get(meetingPath(organizerId, meetingId), onlineMeetingSchema);
  } catch (error) {
    if (!ConnectorApiError.isInstance(error) || (error.status !== 404 && error.status !== 403)) throw error;
    run.ctx.logger.warn(
      'meeting details not readable; its transcript is stored without title or participants',
      {
        organizerId,
        status: error.status,
      },
    );
    return undefined;
  }
}

/** A transcript supersedes recordings transcribed earlier for the same meeting. */
export async function* supersedeRecordings(
  run: TeamsRun,
  organizerId: string,
  meetingId: string,
  entry: MeetingEntry,
): AsyncGenerator<ConnectorChange> {
  for (const externalId of entry.recordings) {
    yield { kind: 'delete', externalId };
    forgetKnown(run.ctx.state, scopeKey.recordings(organizerId), externalId.split('/').at(-1) as string);
  }
  entry.transcript = true;
  entry.recordings = [];
  saveMeetingEntry(run, meetingId, entry);
}

export function saveMeetingEntry(run: Pick<TeamsRun, 'ctx'>, meetingId: string, entry: MeetingEntry): void {
  run.ctx.state.set(MEETINGS, meetingId, entry as unknown as JsonValue);
}

/**
 * A meeting's recordings (their metadata goes with its transcript). `undefined` when they cannot be
 * read (no `OnlineMeetingRecording.Read.All`, a policy): the transcript is stored without them.
 */
export async function readRecordings(
  run: Pick<TeamsRun, 'api' | 'ctx'>,
  organizerId: string,
  meetingId: string,
): Promise<GraphMeetingArtifact[] | undefined> {
  try {
    return await run.api.all(`${meetingPath(organizerId, meetingId)}/recordings`, meetingArtifactSchema);
  } catch (error) {
    if (!ConnectorApiError.isInstance(error) || (error.status !== 404 && error.status !== 403)) throw error;
    run.ctx.logger.warn('meeting recordings not readable; the transcript is stored without them', {
      organizerId,
      status: error.status,
    });
    return undefined;
  }
}

export async function meetingEntries(run: TeamsRun, ids: string[]): Promise<Map<string, MeetingEntry>> {
  const stored = await run.ctx.state.get(MEETINGS, ids);
  const entries = new Map<string, MeetingEntry>();
  for (const id of ids) {
    const value = stored.get(id) as { transcript?: unknown; recordings?: unknown } | undefined;
    entries.set(id, {
      transcript: value?.transcript === true,
      recordings: Array.isArray(value?.recordings) ? (value.recordings as string[]) : [],
    });
  }
  return entries;
}

function artifactsUrl(run: TeamsRun, organizerId: string, kind: 'Transcripts' | 'Recordings'): string {
  const since = run.ctx.config.meetingsSince;
  const args = [`meetingOrganizerUserId='${organizerId}'`, ...(since ? [`startDateTime=${since}`] : [])];
  return `/users/${segment(organizerId)}/onlineMeetings/getAll${kind}(${args.join(',')})/delta`;
}

/** Transcripts, then (with a transcriber) recordings of meetings without one, for every organiser. */
export async function* syncMeetings(
  run: TeamsRun,
  checkpoint: () => ConnectorChange,
): AsyncGenerator<ConnectorChange> {
  const transcriber = run.ctx.config.recordings === false ? undefined : run.settings.transcriber;
  for (const organizerId of run.ctx.config.meetingOrganizerIds ?? []) {
    yield* guardScope(run, scopeKey.transcripts(organizerId), () =>
      syncTranscripts(run, organizerId, checkpoint),
    );
    if (transcriber) {
      yield* guardScope(run, scopeKey.recordings(organizerId), () =>
        syncRecordings(run, transcriber, organizerId, checkpoint),
      );
    }
  }
}

async function* removals(
  run: TeamsRun,
  scope: string,
  removed: GraphMeetingArtifact[],
): AsyncGenerator<ConnectorChange> {
  if (removed.length === 0) return;
  const known = await knownExternalIds(
    run.ctx.state,
    scope,
    removed.map((artifact) => artifact.id),
  );
  for (const { id } of removed) {
    const externalId = known.get(id);
    if (externalId) yield { kind: 'delete', externalId };
    forgetKnown(run.ctx.state, scope, id);
  }
}

async function* syncTranscripts(
  run: TeamsRun,
  organizerId: string,
  checkpoint: () => ConnectorChange,
): AsyncGenerator<ConnectorChange> {
  const { api, ctx } = run;
  const withPermissions = ctx.config.includePermissions !== false;
  const scope = scopeKey.transcripts(organizerId);
  yield* readDelta(
    run,
    scope,
    artifactsUrl(run, organizerId, 'Transcripts'),
    (link) => api.page(link, meetingArtifactSchema),
    async function* (page) {
      const removed = page.items.filter((item) => item['@removed']);
      const added = page.items.filter((item) => !item['@removed'] && item.meetingId);
      yield* removals(run, scope, removed);
      const meetingIds = [...new Set(added.map((item) => item.meetingId as string))];
      const entries = await meetingEntries(run, meetingIds);
      const meetings = new Map<string, GraphOnlineMeeting | undefined>();
      const recordings = new Map<string, GraphMeetingArtifact[] | undefined>();
      await pMap(
        meetingIds,
        async (id) => {
          const [meeting, found] = await Promise.all([
            readMeeting(run, organizerId, id),
            readRecordings(run, organizerId, id),
          ]);
          meetings.set(id, meeting);
          recordings.set(id, found);
        },
        { concurrency: run.settings.concurrency },
      );
      for (const transcript of added) {
        const meetingId = transcript.meetingId as string;
        const document = mapTranscript(
          api,
          organizerId,
          meetings.get(meetingId),
          transcript,
          withPermissions,
          recordings.get(meetingId),
        );
        rememberKnown(ctx.state, scope, transcript.id, document.externalId, page.generation);
        yield { kind: 'upsert', document };
        yield* supersedeRecordings(run, organizerId, meetingId, entries.get(meetingId) as MeetingEntry);
      }
    },
    checkpoint,
    { sweep: (generation) => sweepScope(run, scope, generation) },
  );
}

async function* syncRecordings(
  run: TeamsRun,
  transcriber: TeamsTranscriber,
  organizerId: string,
  checkpoint: () => ConnectorChange,
): AsyncGenerator<ConnectorChange> {
  const { api, ctx } = run;
  const withPermissions = ctx.config.includePermissions !== false;
  const scope = scopeKey.recordings(organizerId);
  yield* readDelta(
    run,
    scope,
    artifactsUrl(run, organizerId, 'Recordings'),
    (link) => api.page(link, meetingArtifactSchema),
    async function* (page) {
      yield* removals(
        run,
        scope,
        page.items.filter((item) => item['@removed']),
      );
      const added = page.items.filter((item) => !item['@removed'] && item.meetingId);
      const entries = await meetingEntries(run, [...new Set(added.map((item) => item.meetingId as string))]);
      const documents: SourceDocument[] = [];
      for (const recording of added) {
        const entry = entries.get(recording.meetingId as string) as MeetingEntry;
        if (entry.transcript) continue; // Teams transcribed it already: that transcript is the document.
        const meeting = await readMeeting(run, organizerId, recording.meetingId as string);
        const document = mapRecording(api, transcriber, organizerId, meeting, recording, withPermissions);
        if (!entry.recordings.includes(document.externalId)) entry.recordings.push(document.externalId);
        ctx.state.set(MEETINGS, recording.meetingId as string, entry as unknown as JsonValue);
        rememberKnown(ctx.state, scope, recording.id, document.externalId, page.generation);
        documents.push(document);
      }
      for (const document of documents) yield { kind: 'upsert', document };
    },
    checkpoint,
    { sweep: (generation) => sweepScope(run, scope, generation) },
  );
}

/** `fetchDocument` for a transcript or a recording. `null` when Graph no longer has it. */
export async function fetchMeetingArtifact(
  run: Pick<TeamsRun, 'api' | 'ctx'>,
  transcriber: TeamsTranscriber | undefined,
  kind: 'transcripts' | 'recordings',
  organizerId: string,
  meetingId: string,
  artifactId: string,
): Promise<SourceDocument | null> {
  const artifact = await run.api.get(
    `${meetingPath(organizerId, meetingId)}/${kind}/${segment(artifactId)}`,
    meetingArtifactSchema,
  );
  const [meeting, recordings] = await Promise.all([
    readMeeting(run, organizerId, meetingId),
    kind === 'transcripts' ? readRecordings(run, organizerId, meetingId) : undefined,
  ]);
  const withPermissions = run.ctx.config.includePermissions !== false;
  const full = { ...artifact, meetingId: artifact.meetingId ?? meetingId };
  if (kind === 'transcripts')
    return mapTranscript(run.api, organizerId, meeting, full, withPermissions, recordings);
  if (!transcriber) {
    throw new ConnectorApiError({
      connector: 'teams',
      isRetryable: false,
      message: 'a recording was asked for but no transcriber is configured',
      hint: 'Pass `transcriber` to createTeamsConnector to sync recordings',
    });
  }
  return mapRecording(run.api, transcriber, organizerId, meeting, full, withPermissions);
}
