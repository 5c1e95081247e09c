import { createHash } from 'node:crypto';
import type { DocumentPermission, JsonObject, SourceDocument } from '@tributary/core';
import {
  audioMimeType,
  chatFile,
  chatToText,
  planTranscript,
  readBytes,
  readText,
  type TranscriptPlan,
  vttToText,
} from './recording-files.js';
import type { ZoomApi, ZoomMeeting, ZoomParticipant } from './zoom-api.js';
import type { ZoomConfig } from './zoom-settings.js';
import type { ZoomTranscriber } from './zoom-transcriber.js';

/** Participants kept in metadata and permissions (a webinar can have thousands). */
export const MAX_PARTICIPANTS = 250;

export interface MapMeetingOptions {
  api: ZoomApi;
  config: ZoomConfig;
  transcriber?: ZoomTranscriber | undefined;
  /** Participants of the meeting, when known. */
  participants?: readonly ZoomParticipant[] | undefined;
  /** A webhook's download token for this meeting's files. */
  downloadToken?: string | undefined;
}

/** What the transcript state of a stored meeting is; kept in `metadata.transcription.status`. */
export type TranscriptionStatus = 'zoom' | 'transcribed' | 'awaiting_transcription';

export function transcriptionStatus(plan: TranscriptPlan): TranscriptionStatus {
  return plan.kind === 'zoom'
    ? 'zoom'
    : plan.kind === 'transcribe'
      ? 'transcribed'
      : 'awaiting_transcription';
}

/**
 * The document version: changes when the words can change (the transcript or chat file is
 * replaced, the topic is renamed, the way the transcript is obtained changes), never otherwise,
 * so a re-sync of unchanged meetings downloads nothing. A meeting awaiting its transcript gets
 * a new version (and is loaded again) once Zoom's transcript appears or a transcriber is set.
 */
export function meetingVersion(meeting: ZoomMeeting, plan: TranscriptPlan, config: ZoomConfig): string {
  const chat = config.includeChat ? chatFile(meeting) : undefined;
  const files = [plan.kind === 'awaiting' ? undefined : plan.file, chat]
    .filter((file) => file !== undefined)
    .map((file) => [file.file_type, file.id ?? file.download_url, file.file_size ?? null]);
  const how = plan.kind === 'transcribe' ? `transcribe:${plan.transcriber.id}` : plan.kind;
  const digest = createHash('sha256')
    .update(JSON.stringify([meeting.topic ?? '', how, files]))
    .digest('hex');
  return `zoom-v1:${digest.slice(0, 32)}`;
}

/** Host (owner) and participants with a Zoom user id or e-mail (readers). Guests without either are left out. */
export function meetingPermissions(
  meeting: ZoomMeeting,
  participants: readonly ZoomParticipant[] | undefined,
): DocumentPermission[] {
  const permissions: DocumentPermission[] = [];
  const seen = new Set<string>();
  if (meeting.host_id || meeting.host_email) {
    permissions.push({
      type: 'user',
      role: 'owner',
      ...(meeting.host_id ? { id: meeting.host_id } : {}),
      ...(meeting.host_email ? { email: meeting.host_email } : {}),
    });
    if (meeting.host_id) seen.add(`id:${meeting.host_id}`);
    if (meeting.host_email) seen.add(`email:${meeting.host_email.toLowerCase()}`);
  }
  for (const participant of (participants ?? []).slice(0, MAX_PARTICIPANTS)) {
    const id = participant.id || undefined;
    const email = participant.user_email || undefined;
    if (!id && !email) continue;
    if ((id && seen.has(`id:${id}`)) || (email && seen.has(`email:${email.toLowerCase()}`))) continue;
    if (id) seen.add(`id:${id}`);
    if (email) seen.add(`email:${email.toLowerCase()}`);
    permissions.push({
      type: 'user',
      role: 'reader',
      ...(id ? { id } : {}),
      ...(email ? { email } : {}),
      ...(participant.name ? { displayName: participant.name } : {}),
    });
  }
  return permissions;
}

function participantNames(participants: readonly ZoomParticipant[] | undefined): string[] {
  const names = new Set<string>();
  for (const participant of participants ?? []) {
    const name = participant.name?.trim();
    if (name) names.add(name);
    if (names.size >= MAX_PARTICIPANTS) break;
  }
  return [...names];
}

function lastEnd(meeting: ZoomMeeting): string | undefined {
  const ends = meeting.recording_files.map((file) => file.recording_end).filter((end) => end !== undefined);
  return ends.sort().at(-1) ?? meeting.start_time;
}

/** One meeting recording as one document: metadata now, transcript and chat downloaded lazily. */
export function mapZoomMeeting(meeting: ZoomMeeting, options: MapMeetingOptions): SourceDocument {
  const { config } = options;
  const plan = planTranscript(meeting, options.transcriber);
  const names = participantNames(options.participants);
  const title = meeting.topic?.trim() || `Zoom meeting ${meeting.id}`;
  const metadata: JsonObject = {
    meetingId: meeting.id,
    uuid: meeting.uuid,
    topic: meeting.topic ?? null,
    hostId: meeting.host_id ?? null,
    hostEmail: meeting.host_email ?? null,
    startTime: meeting.start_time ?? null,
    timezone: meeting.timezone ?? null,
    durationMinutes: meeting.duration ?? null,
    participants: names,
    files: meeting.recording_files.map((file) => ({
      type: file.file_type ?? null,
      sizeBytes: file.file_size ?? null,
      status: file.status ?? null,
    })),
    transcription: {
      status: transcriptionStatus(plan),
      ...(plan.kind === 'transcribe' ? { transcriber: plan.transcriber.id } : {}),
      ...(plan.kind === 'awaiting' ? { reason: plan.reason } : {}),
    },
  };
  return {
    externalId: meeting.uuid,
    ...(meeting.host_id ? { parentExternalId: `user:${meeting.host_id}` } : {}),
    title,
    mimeType: 'text/markdown',
    externalUrl: meeting.share_url,
    version: meetingVersion(meeting, plan, config),
    modifiedAt: lastEnd(meeting),
    metadata,
    permissions: meetingPermissions(meeting, options.participants),
    content: {
      kind: 'lazy',
      load: async ({ signal }) => ({
        kind: 'text',
        text: await renderMeeting(meeting, plan, title, names, options, signal),
      }),
    },
  };
}

/** The document text: a header of meeting facts, the transcript, the chat. */
async function renderMeeting(
  meeting: ZoomMeeting,
  plan: TranscriptPlan,
  title: string,
  participants: readonly string[],
  options: MapMeetingOptions,
  signal: AbortSignal,
): Promise<string> {
  const { api, config, downloadToken } = options;
  const facts = [
    meeting.host_email || meeting.host_id ? `- Host: ${meeting.host_email ?? meeting.host_id}` : undefined,
    meeting.start_time
      ? `- Start: ${meeting.start_time}${meeting.timezone ? ` (${meeting.timezone})` : ''}`
      : undefined,
    meeting.duration !== undefined ? `- Duration: ${meeting.duration} minutes` : undefined,
    participants.length > 0 ? `- Participants: ${participants.join(', ')}` : undefined,
  ].filter((line) => line !== undefined);
  const sections = [`# ${title}`, facts.join('\n')];

  if (plan.kind === 'zoom') {
    const name = `${meeting.uuid}.vtt`;
    const response = await api.download(plan.file.download_url as string, { downloadToken, signal });
    const transcript = await vttToText(await readText(response, name, config.maxTextFileBytes), name);
    if (transcript.text !== '') sections.push(`## Transcript\n\n${transcript.text}`);
  } else if (plan.kind === 'transcribe') {
    const fileName = `${meeting.uuid}.${(plan.file.file_extension ?? plan.file.file_type ?? 'm4a').toLowerCase()}`;
    const response = await api.download(plan.file.download_url as string, { downloadToken, signal });
    const bytes = await readBytes(response, fileName, plan.transcriber.maxBytes);
    const result = await plan.transcriber.transcribe({
      bytes,
      fileName,
      mimeType: audioMimeType(plan.file),
      signal,
    });
    if (result.text.trim() !== '') sections.push(`## Transcript\n\n${result.text.trim()}`);
  }

  const chat = config.includeChat ? chatFile(meeting) : undefined;
  if (chat) {
    const name = `${meeting.uuid}-chat.txt`;
    const response = await api.download(chat.download_url as string, { downloadToken, signal });
    const text = chatToText(await readText(response, name, config.maxTextFileBytes));
    if (text !== '') sections.push(`## Chat\n\n${text}`);
  }
  return sections.filter((section) => section !== '').join('\n\n');
}
