// External ids follow Graph's own resource paths, so a change notification's `resource` and a
// document's id name the same thing, and `fetchDocument` knows what to read from the id alone.

/** One channel thread (root message and its replies): `teams/{team}/channels/{channel}/threads/{root}`. */
export function threadExternalId(teamId: string, channelId: string, rootId: string): string {
  return `teams/${teamId}/channels/${channelId}/threads/${rootId}`;
}

export function channelExternalId(teamId: string, channelId: string): string {
  return `teams/${teamId}/channels/${channelId}`;
}

/** One meeting transcript: `users/{organizer}/onlineMeetings/{meeting}/transcripts/{transcript}`. */
export function transcriptExternalId(organizerId: string, meetingId: string, transcriptId: string): string {
  return `users/${organizerId}/onlineMeetings/${meetingId}/transcripts/${transcriptId}`;
}

/** One transcribed recording: `users/{organizer}/onlineMeetings/{meeting}/recordings/{recording}`. */
export function recordingExternalId(organizerId: string, meetingId: string, recordingId: string): string {
  return `users/${organizerId}/onlineMeetings/${meetingId}/recordings/${recordingId}`;
}

export type ParsedExternalId =
  | { kind: 'thread'; teamId: string; channelId: string; rootId: string }
  | { kind: 'transcript'; organizerId: string; meetingId: string; transcriptId: string }
  | { kind: 'recording'; organizerId: string; meetingId: string; recordingId: string };

export function parseExternalId(externalId: string): ParsedExternalId | undefined {
  const thread = /^teams\/([^/]+)\/channels\/([^/]+)\/threads\/([^/]+)$/.exec(externalId);
  if (thread)
    return {
      kind: 'thread',
      teamId: thread[1] as string,
      channelId: thread[2] as string,
      rootId: thread[3] as string,
    };
  const meeting = /^users\/([^/]+)\/onlineMeetings\/([^/]+)\/(transcripts|recordings)\/([^/]+)$/.exec(
    externalId,
  );
  if (!meeting) return undefined;
  const [, organizerId, meetingId, kind, id] = meeting as unknown as [string, string, string, string, string];
  return kind === 'transcripts'
    ? { kind: 'transcript', organizerId, meetingId, transcriptId: id }
    : { kind: 'recording', organizerId, meetingId, recordingId: id };
}

/** Graph path segments: ids of channels (`19:...@thread.tacv2`) and meetings need escaping. */
export function segment(id: string): string {
  return encodeURIComponent(id);
}
