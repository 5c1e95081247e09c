// The data behind the fake Graph server: teams, channels, members, messages with replies, online
// meetings with transcripts and recordings, each change stamped with a tenant-wide sequence number
// so delta queries can answer "what changed since token N". Shapes follow Graph's documented
// resources (team, channel, aadUserConversationMember, chatMessage, onlineMeeting, callTranscript,
// callRecording). Self-contained (node: modules only) for `node --experimental-strip-types`.
import { randomUUID } from 'node:crypto';

export interface FakeUser {
  id: string;
  displayName: string;
  email: string;
}

export interface FakeMessage {
  id: string;
  replyToId: string | null;
  createdDateTime: string;
  lastModifiedDateTime: string;
  deletedDateTime: string | null;
  messageType: string;
  subject: string | null;
  from: { user: { id: string; displayName: string } };
  body: { contentType: 'html' | 'text'; content: string };
  attachments: { id: string; contentType: string; contentUrl: string; name: string }[];
  mentions: { id: number; mentionText: string; mentioned: { user: { id: string; displayName: string } } }[];
  seq: number;
  replies: FakeMessage[];
}

export interface FakeChannel {
  id: string;
  displayName: string;
  membershipType: 'standard' | 'private';
  members: { user: FakeUser; owner: boolean }[];
  roots: Map<string, FakeMessage>;
}

export interface FakeTeam {
  id: string;
  displayName: string;
  channels: Map<string, FakeChannel>;
  /** Sequence number of the team's (group's) last membership change, for the groups delta. */
  seq: number;
}

/** A Microsoft 365 group (every team is one, with the team's id); members are users or nested groups. */
export interface FakeGroup {
  id: string;
  displayName: string;
  mail: string;
  members: ({ user: FakeUser } | { group: string })[];
}

export interface FakeArtifact {
  id: string;
  meetingId: string;
  organizerId: string;
  createdDateTime: string;
  endDateTime: string;
  deleted: boolean;
  seq: number;
  /** Transcripts: WebVTT text; recordings: bytes. */
  content: string | Uint8Array;
}

export interface FakeMeeting {
  id: string;
  organizer: FakeUser;
  subject: string;
  startDateTime: string;
  endDateTime: string;
  attendees: FakeUser[];
}

export interface MessageInput {
  from: FakeUser;
  html?: string;
  text?: string;
  subject?: string;
  mentions?: FakeUser[];
  attachments?: { name: string; url: string }[];
  createdDateTime?: string;
  messageType?: string;
}

export class FakeTenant {
  seq = 0;
  private clock = Date.parse('2026-01-05T09:00:00Z');
  readonly users = new Map<string, FakeUser>();
  readonly teams = new Map<string, FakeTeam>();
  readonly groups = new Map<string, FakeGroup>();
  readonly meetings = new Map<string, FakeMeeting>();
  readonly transcripts = new Map<string, FakeArtifact>();
  readonly recordings = new Map<string, FakeArtifact>();

  /** A monotonically increasing timestamp (each call a minute later). */
  tick(): string {
    this.clock += 60_000;
    return new Date(this.clock).toISOString();
  }

  addUser(displayName: string): FakeUser {
    const user = {
      id: randomUUID(),
      displayName,
      email: `${displayName.toLowerCase().replace(/\W+/g, '.')}@contoso.test`,
    };
    this.users.set(user.id, user);
    return user;
  }

  addTeam(displayName: string): FakeTeam {
    const team = { id: randomUUID(), displayName, channels: new Map(), seq: ++this.seq };
    this.teams.set(team.id, team);
    this.groups.set(team.id, this.group(team.id, displayName));
    return team;
  }

  private group(id: string, displayName: string): FakeGroup {
    return {
      id,
      displayName,
      mail: `${displayName.toLowerCase().replace(/\W+/g, '.')}@contoso.test`,
      members: [],
    };
  }

  /** A group without a team (e.g. a security group nested into a team's group). */
  addGroup(displayName: string): FakeGroup {
    const group = this.group(randomUUID(), displayName);
    this.groups.set(group.id, group);
    return group;
  }

  /** A group's (or a team's group's) direct members: users and nested groups. */
  setGroupMembers(groupId: string, members: (FakeUser | FakeGroup)[]): void {
    const group = this.groups.get(groupId);
    if (!group) throw new Error(`no group ${groupId}`);
    group.members = members.map((member) => ('members' in member ? { group: member.id } : { user: member }));
    const team = this.teams.get(groupId);
    if (team) team.seq = ++this.seq;
  }

  addChannel(
    team: FakeTeam,
    displayName: string,
    members: FakeUser[],
    membershipType: 'standard' | 'private' = 'standard',
  ): FakeChannel {
    const channel: FakeChannel = {
      id: `19:${randomUUID().replace(/-/g, '')}@thread.tacv2`,
      displayName,
      membershipType,
      members: members.map((user, index) => ({ user, owner: index === 0 })),
      roots: new Map(),
    };
    team.channels.set(channel.id, channel);
    return channel;
  }

  /**
   * New members for a channel. A standard channel has its team's members, so the change is the
   * team's (reported by the groups delta); a private channel's membership is its own.
   */
  setMembers(team: FakeTeam, channel: FakeChannel, users: FakeUser[]): void {
    channel.members = users.map((user, index) => ({ user, owner: index === 0 }));
    if (channel.membershipType === 'standard') team.seq = ++this.seq;
  }

  private message(input: MessageInput, replyToId: string | null): FakeMessage {
    const created = input.createdDateTime ?? this.tick();
    let html = input.html ?? input.text ?? '';
    const mentions = (input.mentions ?? []).map((user, index) => {
      html += ` <at id="${index}">${user.displayName}</at>`;
      return {
        id: index,
        mentionText: user.displayName,
        mentioned: { user: { id: user.id, displayName: user.displayName } },
      };
    });
    const attachments = (input.attachments ?? []).map((attachment) => {
      const id = randomUUID();
      html += `<attachment id="${id}"></attachment>`;
      return { id, contentType: 'reference', contentUrl: attachment.url, name: attachment.name };
    });
    return {
      id: String(Date.parse(created) + this.seq + 1),
      replyToId,
      createdDateTime: created,
      lastModifiedDateTime: created,
      deletedDateTime: null,
      messageType: input.messageType ?? 'message',
      subject: input.subject ?? null,
      from: { user: { id: input.from.id, displayName: input.from.displayName } },
      body: {
        contentType:
          input.text !== undefined && !input.html && mentions.length === 0 && attachments.length === 0
            ? 'text'
            : 'html',
        content: html,
      },
      attachments,
      mentions,
      seq: ++this.seq,
      replies: [],
    };
  }

  post(channel: FakeChannel, input: MessageInput): FakeMessage {
    const root = this.message(input, null);
    channel.roots.set(root.id, root);
    return root;
  }

  /** A reply changes the reply's sequence number only: the messages delta reports root messages. */
  reply(root: FakeMessage, input: MessageInput): FakeMessage {
    const reply = this.message(input, root.id);
    root.replies.push(reply);
    return reply;
  }

  edit(message: FakeMessage, html: string): void {
    message.body = { contentType: 'html', content: html };
    message.lastModifiedDateTime = this.tick();
    message.seq = ++this.seq;
  }

  remove(message: FakeMessage): void {
    message.deletedDateTime = this.tick();
    message.lastModifiedDateTime = message.deletedDateTime;
    message.seq = ++this.seq;
  }

  addMeeting(organizer: FakeUser, subject: string, attendees: FakeUser[]): FakeMeeting {
    const start = this.tick();
    const meeting = {
      id: `MSo${Buffer.from(randomUUID()).toString('base64url')}`,
      organizer,
      subject,
      startDateTime: start,
      endDateTime: new Date(Date.parse(start) + 30 * 60_000).toISOString(),
      attendees,
    };
    this.meetings.set(meeting.id, meeting);
    return meeting;
  }

  private artifact(meeting: FakeMeeting, content: string | Uint8Array): FakeArtifact {
    return {
      id: `MSMj${Buffer.from(randomUUID()).toString('base64url')}`,
      meetingId: meeting.id,
      organizerId: meeting.organizer.id,
      createdDateTime: this.tick(),
      endDateTime: meeting.endDateTime,
      deleted: false,
      seq: ++this.seq,
      content,
    };
  }

  addTranscript(meeting: FakeMeeting, vtt: string): FakeArtifact {
    const transcript = this.artifact(meeting, vtt);
    this.transcripts.set(transcript.id, transcript);
    return transcript;
  }

  addRecording(meeting: FakeMeeting, bytes: Uint8Array): FakeArtifact {
    const recording = this.artifact(meeting, bytes);
    this.recordings.set(recording.id, recording);
    return recording;
  }

  removeArtifact(artifact: FakeArtifact): void {
    artifact.deleted = true;
    artifact.seq = ++this.seq;
  }
}

/** A WebVTT transcript with voice tags, as Teams writes them. */
export function vttOf(lines: { speaker: string; text: string }[]): string {
  const cues = lines.map((line, index) => {
    const start = index * 5;
    const stamp = (seconds: number) =>
      `00:${String(Math.floor(seconds / 60)).padStart(2, '0')}:${String(seconds % 60).padStart(2, '0')}.000`;
    return `${stamp(start)} --> ${stamp(start + 4)}\n<v ${line.speaker}>${line.text}</v>`;
  });
  return `WEBVTT\n\n${cues.join('\n\n')}\n`;
}

/** Graph's message JSON (without the fake's bookkeeping). */
export function messageJson(teamId: string, channelId: string, message: FakeMessage) {
  const { seq: _seq, replies: _replies, ...rest } = message;
  return {
    ...rest,
    webUrl: `https://teams.microsoft.com/l/message/${encodeURIComponent(channelId)}/${message.id}?groupId=${teamId}`,
    channelIdentity: { teamId, channelId },
  };
}
