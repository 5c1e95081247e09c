import { ConnectorApiError, type ConnectorChange, type SourceDocument } from '@tributary/core';
import { type GraphOnlineMeeting, meetingArtifactSchema, onlineMeetingSchema } from './graph-types.js';
import { mapRecording, mapTranscript, meetingPath } from './map-meeting.js';
import { meetingEntries, readRecordings, saveMeetingEntry, supersedeRecordings } from './meeting-sync.js';
import { segment } from './teams-ids.js';
import { guardScope, type TeamsRun } from './teams-run.js';
import { TEAMS_CONNECTOR_TYPE, type TeamsConfig } from './teams-settings.js';
import type { TeamsTranscriber } from './teams-transcriber.js';

/** `meeting-listed`: `<organizer>/<meeting id>` → external ids the meeting's last listing produced. */
const LISTED = 'meeting-listed';

export type ConfiguredMeeting = NonNullable<TeamsConfig['meetings']>[number];

/** Scope of one configured meeting (also the `scope` of its `scope-failed` change). */
export function meetingScope(meeting: ConfiguredMeeting): string {
  return `users/${meeting.organizerId}/onlineMeetings/${meeting.meetingId ?? meeting.joinWebUrl}`;
}

/**
 * The meetings configured one by one (`config.meetings`): each is listed whole on every sync (its
 * details, its transcripts and its recordings, paged), so a meeting costs three calls and needs no
 * delta link. What its last listing produced and this one did not is deleted. A meeting that
 * cannot be read fails alone (the run ends `partial`).
 */
export async function* syncMeetingList(
  run: TeamsRun,
  checkpoint: () => ConnectorChange,
): AsyncGenerator<ConnectorChange> {
  const transcriber = run.ctx.config.recordings === false ? undefined : run.settings.transcriber;
  for (const configured of run.ctx.config.meetings ?? []) {
    yield* guardScope(run, meetingScope(configured), () => syncMeeting(run, configured, transcriber));
    yield checkpoint();
  }
}

/** The meeting by id, or by join URL through the documented `$filter=JoinWebUrl eq '...'`. */
async function findMeeting(run: TeamsRun, configured: ConfiguredMeeting): Promise<GraphOnlineMeeting> {
  const { organizerId } = configured;
  if (configured.meetingId)
    return run.api.get(meetingPath(organizerId, configured.meetingId), onlineMeetingSchema);
  const url = configured.joinWebUrl as string;
  const filter = encodeURIComponent(`JoinWebUrl eq '${url.replace(/'/g, "''")}'`);
  const page = await run.api.page(
    `/users/${segment(organizerId)}/onlineMeetings?$filter=${filter}`,
    onlineMeetingSchema,
  );
  const found = page.items[0];
  if (!found) {
    throw new ConnectorApiError({
      connector: TEAMS_CONNECTOR_TYPE,
      status: 404,
      isRetryable: false,
      message: `no online meeting organised by ${organizerId} has the configured join URL`,
      hint: 'Check meetings[].joinWebUrl and that organizerId is the organiser (not an attendee)',
    });
  }
  return found;
}

async function* syncMeeting(
  run: TeamsRun,
  configured: ConfiguredMeeting,
  transcriber: TeamsTranscriber | undefined,
): AsyncGenerator<ConnectorChange> {
  const { api, ctx } = run;
  const { organizerId } = configured;
  const withPermissions = ctx.config.includePermissions !== false;
  const meeting = await findMeeting(run, configured);
  const base = meetingPath(organizerId, meeting.id);
  const [transcripts, recordings] = await Promise.all([
    api.all(`${base}/transcripts`, meetingArtifactSchema),
    readRecordings(run, organizerId, meeting.id),
  ]);
  const entry = (await meetingEntries(run, [meeting.id])).get(meeting.id) ?? {
    transcript: false,
    recordings: [],
  };
  const documents: SourceDocument[] = transcripts.map((transcript) =>
    mapTranscript(
      api,
      organizerId,
      meeting,
      { ...transcript, meetingId: transcript.meetingId ?? meeting.id },
      withPermissions,
      recordings,
    ),
  );
  const deleted = new Set<string>();
  if (transcripts.length > 0) {
    for await (const change of supersedeRecordings(run, organizerId, meeting.id, entry)) {
      if (change.kind === 'delete') deleted.add(change.externalId);
      yield change;
    }
  } else if (transcriber) {
    // No transcript: Teams did not transcribe it, the configured transcriber does.
    for (const recording of recordings ?? []) {
      const document = mapRecording(
        api,
        transcriber,
        organizerId,
        meeting,
        { ...recording, meetingId: recording.meetingId ?? meeting.id },
        withPermissions,
      );
      if (!entry.recordings.includes(document.externalId)) entry.recordings.push(document.externalId);
      documents.push(document);
    }
    saveMeetingEntry(run, meeting.id, entry);
  }
  for (const document of documents) yield { kind: 'upsert', document };

  // Deletes: what the meeting's last listing produced and this one did not.
  const key = `${organizerId}/${meeting.id}`;
  const previous = (await ctx.state.get(LISTED, [key])).get(key);
  const current = new Set(documents.map((document) => document.externalId));
  if (Array.isArray(previous)) {
    for (const externalId of previous)
      if (typeof externalId === 'string' && !current.has(externalId) && !deleted.has(externalId))
        yield { kind: 'delete', externalId };
  }
  ctx.state.set(LISTED, key, [...current]);
}
