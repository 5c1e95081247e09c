import type { ConnectorState, JsonValue } from '@tributary/core';
import type { ZoomParticipant } from './zoom-api.js';

const USERS = 'listing-users';
const MEETINGS = 'meetings';
const AWAITING = 'awaiting';
const PARTICIPANTS = 'participants';

/** A meeting waiting for its transcript: whose it is and its day, to re-check and to clean up. */
export interface AwaitingMeeting {
  uuid: string;
  userId: string;
  day: string;
}

/**
 * What the connector keeps in `ctx.state` (committed with each checkpoint):
 * - `listing-users`: the users of the listing in progress, by position (an account can have
 *   thousands, too many for the cursor);
 * - `meetings`: `<user>|<day>|<uuid>`, the meetings stored, so an incremental sync that lists a
 *   window again sees which of them are gone;
 * - `awaiting`: meetings without a transcript, re-checked until one appears;
 * - `participants`: each meeting's participants, fetched once (they never change after it ended).
 */
export class ZoomState {
  constructor(private readonly state: ConnectorState) {}

  setUsers(userIds: readonly string[]): void {
    this.state.clear(USERS);
    userIds.forEach((id, index) => {
      this.state.set(USERS, userKey(index), id);
    });
  }

  async user(index: number): Promise<string | undefined> {
    const value = (await this.state.get(USERS, [userKey(index)])).get(userKey(index));
    return typeof value === 'string' ? value : undefined;
  }

  clearMeetings(): void {
    this.state.clear(MEETINGS);
    this.state.clear(AWAITING);
  }

  recordMeeting(userId: string, day: string, uuid: string, awaiting: boolean): void {
    this.state.set(MEETINGS, meetingKey(userId, day, uuid), 1);
    if (awaiting) this.state.set(AWAITING, uuid, { u: userId, d: day });
    else this.state.delete(AWAITING, uuid);
  }

  forgetMeeting(userId: string, day: string, uuid: string): void {
    this.state.delete(MEETINGS, meetingKey(userId, day, uuid));
    this.state.delete(AWAITING, uuid);
  }

  /** Meetings of `userId` stored with a day in [from, to]. */
  async *meetingsBetween(
    userId: string,
    from: string,
    to: string,
  ): AsyncGenerator<{ day: string; uuid: string }> {
    const prefix = `${userId}|`;
    // Keys sort by day within a user: start just before `from`, stop past `to`.
    const after = `${prefix}${addDayBefore(from)}|\uffff`;
    for await (const entry of this.state.iterate(MEETINGS, { prefix, after })) {
      const rest = entry.key.slice(prefix.length);
      const separator = rest.indexOf('|');
      const day = rest.slice(0, separator);
      if (day > to) return;
      if (day >= from) yield { day, uuid: rest.slice(separator + 1) };
    }
  }

  async *awaiting(): AsyncGenerator<AwaitingMeeting> {
    for await (const entry of this.state.iterate(AWAITING)) {
      const value = entry.value as { u?: unknown; d?: unknown } | null;
      if (value && typeof value.u === 'string' && typeof value.d === 'string') {
        yield { uuid: entry.key, userId: value.u, day: value.d };
      }
    }
  }

  async participants(uuids: readonly string[]): Promise<Map<string, ZoomParticipant[]>> {
    const stored = await this.state.get(PARTICIPANTS, uuids);
    const result = new Map<string, ZoomParticipant[]>();
    for (const [uuid, value] of stored) result.set(uuid, fromCompact(value));
    return result;
  }

  setParticipants(uuid: string, participants: readonly ZoomParticipant[]): void {
    this.state.set(PARTICIPANTS, uuid, toCompact(participants));
  }
}

function userKey(index: number): string {
  return String(index).padStart(8, '0');
}

function meetingKey(userId: string, day: string, uuid: string): string {
  return `${userId}|${day}|${uuid}`;
}

function addDayBefore(day: string): string {
  const date = new Date(`${day}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() - 1);
  return date.toISOString().slice(0, 10);
}

/** Participants cached per meeting: with the field caps below, one value stays under 64 KB. */
const MAX_CACHED_PARTICIPANTS = 250;

// [name, email, user id] triples.
function toCompact(participants: readonly ZoomParticipant[]): JsonValue {
  const rows: JsonValue[] = [];
  for (const participant of participants.slice(0, MAX_CACHED_PARTICIPANTS)) {
    rows.push([
      (participant.name ?? '').slice(0, 40),
      (participant.user_email ?? '').slice(0, 60),
      (participant.id ?? '').slice(0, 30),
    ]);
  }
  return rows;
}

function fromCompact(value: JsonValue): ZoomParticipant[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((row) => {
    if (!Array.isArray(row)) return [];
    const [name, email, userId] = row.map((cell) =>
      typeof cell === 'string' && cell !== '' ? cell : undefined,
    );
    return [{ name, user_email: email, id: userId, user_id: undefined }];
  });
}
