import {
  ConnectorApiError,
  type ConnectorChange,
  type JsonValue,
  type SourceDocument,
} from '@tributary/core';
import {
  type GraphMeetingArtifact,
  type GraphOnlineMeeting,
  meetingArtifactSchema,
  onlineMeetingSchema,
} from './graph-types.js';
import { mapRecording, mapTranscript, meetingPath } from './map-meeting.js';
import { scopeKey } from './teams-cursor.js';
import { segment } from './teams-ids.js';
import { guardScope, mapLimit, readDelta, type TeamsRun } from './teams-run.js';
import type { TeamsTranscriber } from './teams-transcriber.js';

/** `artifacts`: `<organizer>/<transcript or recording id>` → external id (delta removals carry only the id). */
const ARTIFACTS = 'artifacts';
/** `meetings`: meeting id → `{ transcript: boolean, recordings: string[] }` (external ids of transcribed recordings). */
const MEETINGS = 'meetings';

interface MeetingEntry {
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

async function meetingEntries(run: TeamsRun, ids: string[]): Promise<Map<string, MeetingEntry>> {
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
  organizerId: string,
  removed: GraphMeetingArtifact[],
): AsyncGenerator<ConnectorChange> {
  if (removed.length === 0) return;
  const keys = removed.map((artifact) => `${organizerId}/${artifact.id}`);
  const known = await run.ctx.state.get(ARTIFACTS, keys);
  for (const key of keys) {
    const externalId = known.get(key);
    if (typeof externalId === 'string') yield { kind: 'delete', externalId };
    run.ctx.state.delete(ARTIFACTS, key);
  }
}

async function* syncTranscripts(
  run: TeamsRun,
  organizerId: string,
  checkpoint: () => ConnectorChange,
): AsyncGenerator<ConnectorChange> {
  const { api, ctx } = run;
  const withPermissions = ctx.config.includePermissions !== false;
  yield* readDelta(
    run,
    scopeKey.transcripts(organizerId),
    artifactsUrl(run, organizerId, 'Transcripts'),
    (link) => api.page(link, meetingArtifactSchema),
    async function* (page) {
      const removed = page.items.filter((item) => item['@removed']);
      const added = page.items.filter((item) => !item['@removed'] && item.meetingId);
      yield* removals(run, organizerId, removed);
      const meetingIds = [...new Set(added.map((item) => item.meetingId as string))];
      const entries = await meetingEntries(run, meetingIds);
      const meetings = new Map<string, GraphOnlineMeeting | undefined>();
      await mapLimit(meetingIds, run.settings.concurrency, async (id) => {
        meetings.set(id, await readMeeting(run, organizerId, id));
      });
      for (const transcript of added) {
        const meetingId = transcript.meetingId as string;
        const document = mapTranscript(
          api,
          organizerId,
          meetings.get(meetingId),
          transcript,
          withPermissions,
        );
        ctx.state.set(ARTIFACTS, `${organizerId}/${transcript.id}`, document.externalId);
        yield { kind: 'upsert', document };
        const entry = entries.get(meetingId) as MeetingEntry;
        // A transcript supersedes a recording transcribed earlier for the same meeting.
        for (const externalId of entry.recordings) yield { kind: 'delete', externalId };
        entry.transcript = true;
        entry.recordings = [];
        ctx.state.set(MEETINGS, meetingId, entry as unknown as JsonValue);
      }
    },
    checkpoint,
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
  yield* readDelta(
    run,
    scopeKey.recordings(organizerId),
    artifactsUrl(run, organizerId, 'Recordings'),
    (link) => api.page(link, meetingArtifactSchema),
    async function* (page) {
      yield* removals(
        run,
        organizerId,
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
        ctx.state.set(ARTIFACTS, `${organizerId}/${recording.id}`, document.externalId);
        documents.push(document);
      }
      for (const document of documents) yield { kind: 'upsert', document };
    },
    checkpoint,
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
  const meeting = await readMeeting(run, organizerId, meetingId);
  const withPermissions = run.ctx.config.includePermissions !== false;
  const full = { ...artifact, meetingId: artifact.meetingId ?? meetingId };
  if (kind === 'transcripts') return mapTranscript(run.api, organizerId, meeting, full, withPermissions);
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
