import type { DocumentPermission, SourceDocument } from '@tributary/core';
import type { GraphApi } from './graph-api.js';
import type { GraphMeetingArtifact, GraphOnlineMeeting } from './graph-types.js';
import { recordingExternalId, segment, transcriptExternalId } from './teams-ids.js';
import type { TeamsTranscriber } from './teams-transcriber.js';

/** Organiser (owner) and attendees (readers) of a meeting, by user id and UPN. */
export function participantPermissions(
  meeting: GraphOnlineMeeting | undefined,
): DocumentPermission[] | undefined {
  if (!meeting?.participants) return undefined;
  const permissions: DocumentPermission[] = [];
  const seen = new Set<string>();
  const add = (
    participant: NonNullable<NonNullable<GraphOnlineMeeting['participants']>['organizer']>,
    role: 'owner' | 'reader',
  ) => {
    const id = participant.identity?.user?.id ?? undefined;
    const email = participant.upn?.toLowerCase() ?? undefined;
    const key = id ?? email;
    if (!key || seen.has(key)) return;
    seen.add(key);
    const displayName = participant.identity?.user?.displayName ?? undefined;
    permissions.push({
      type: 'user',
      ...(id ? { id } : {}),
      ...(email ? { email } : {}),
      ...(displayName ? { displayName } : {}),
      role,
    });
  };
  if (meeting.participants.organizer) add(meeting.participants.organizer, 'owner');
  for (const attendee of meeting.participants.attendees ?? []) add(attendee, 'reader');
  return permissions;
}

export function meetingPath(organizerId: string, meetingId: string): string {
  return `/users/${segment(organizerId)}/onlineMeetings/${segment(meetingId)}`;
}

function meetingTitle(
  meeting: GraphOnlineMeeting | undefined,
  artifact: GraphMeetingArtifact,
  kind: string,
): string {
  const day = (meeting?.startDateTime ?? artifact.createdDateTime ?? '').slice(0, 10);
  const subject = meeting?.subject?.trim() || 'Teams meeting';
  return `${subject}${day ? ` (${day})` : ''}: ${kind}`;
}

function meetingMetadata(
  organizerId: string,
  meeting: GraphOnlineMeeting | undefined,
  artifact: GraphMeetingArtifact,
) {
  return {
    organizerId,
    meetingId: artifact.meetingId ?? null,
    subject: meeting?.subject ?? null,
    startDateTime: meeting?.startDateTime ?? null,
    endDateTime: meeting?.endDateTime ?? artifact.endDateTime ?? null,
    joinWebUrl: meeting?.joinWebUrl ?? null,
    createdAt: artifact.createdDateTime ?? null,
    participants: (participantPermissions(meeting) ?? []).map((p) => p.displayName ?? p.email ?? p.id ?? ''),
  };
}

/** What a transcript document says about the meeting's recordings (no content: links and times). */
export function recordingMetadata(recording: GraphMeetingArtifact) {
  return {
    id: recording.id,
    createdDateTime: recording.createdDateTime ?? null,
    endDateTime: recording.endDateTime ?? null,
    contentUrl: recording.recordingContentUrl ?? null,
  };
}

/**
 * A meeting transcript. Transcripts are immutable once created, so the version is their creation
 * and end time; the WebVTT content is downloaded only when the pipeline needs it, and core's WebVTT
 * extractor turns it into `[hh:mm:ss] Speaker: text` lines.
 */
export function mapTranscript(
  api: GraphApi,
  organizerId: string,
  meeting: GraphOnlineMeeting | undefined,
  transcript: GraphMeetingArtifact,
  withPermissions: boolean,
  /** The meeting's recordings, kept as metadata (`undefined`: not read). */
  recordings?: readonly GraphMeetingArtifact[] | undefined,
): SourceDocument {
  const meetingId = transcript.meetingId ?? '';
  const permissions = withPermissions ? participantPermissions(meeting) : undefined;
  return {
    externalId: transcriptExternalId(organizerId, meetingId, transcript.id),
    parentExternalId: `users/${organizerId}/onlineMeetings/${meetingId}`,
    title: meetingTitle(meeting, transcript, 'transcript'),
    mimeType: 'text/vtt',
    externalUrl: meeting?.joinWebUrl ?? undefined,
    version: `${transcript.createdDateTime ?? ''}|${transcript.endDateTime ?? ''}`,
    modifiedAt: transcript.endDateTime ?? transcript.createdDateTime ?? undefined,
    metadata: {
      source: 'meeting_transcript',
      transcriptId: transcript.id,
      ...meetingMetadata(organizerId, meeting, transcript),
      ...(recordings ? { recordings: recordings.map(recordingMetadata) } : {}),
    },
    ...(permissions ? { permissions } : {}),
    content: {
      kind: 'lazy',
      load: async () => ({
        kind: 'text',
        text: await api.text(
          `${meetingPath(organizerId, meetingId)}/transcripts/${segment(transcript.id)}/content?$format=text/vtt`,
        ),
      }),
    },
  };
}

/** A recording of a meeting without a transcript, turned into text by the configured transcriber. */
export function mapRecording(
  api: GraphApi,
  transcriber: TeamsTranscriber,
  organizerId: string,
  meeting: GraphOnlineMeeting | undefined,
  recording: GraphMeetingArtifact,
  withPermissions: boolean,
): SourceDocument {
  const meetingId = recording.meetingId ?? '';
  const permissions = withPermissions ? participantPermissions(meeting) : undefined;
  return {
    externalId: recordingExternalId(organizerId, meetingId, recording.id),
    parentExternalId: `users/${organizerId}/onlineMeetings/${meetingId}`,
    title: meetingTitle(meeting, recording, 'recording transcript'),
    mimeType: 'text/plain',
    externalUrl: meeting?.joinWebUrl ?? undefined,
    version: `${recording.createdDateTime ?? ''}|${recording.endDateTime ?? ''}`,
    modifiedAt: recording.endDateTime ?? recording.createdDateTime ?? undefined,
    metadata: {
      source: 'meeting_recording',
      recordingId: recording.id,
      transcription: 'transcriber',
      ...meetingMetadata(organizerId, meeting, recording),
    },
    ...(permissions ? { permissions } : {}),
    content: {
      kind: 'lazy',
      load: async ({ signal }) => {
        const response = await api.download(
          `${meetingPath(organizerId, meetingId)}/recordings/${segment(recording.id)}/content`,
        );
        const length = Number(response.headers.get('content-length'));
        const text = await transcriber.transcribe({
          stream: response.body ?? new ReadableStream(),
          mimeType: response.headers.get('content-type') ?? 'video/mp4',
          fileName: `${recording.id}.mp4`,
          sizeBytes: Number.isFinite(length) && length > 0 ? length : undefined,
          signal,
        });
        return { kind: 'text', text };
      },
    },
  };
}
