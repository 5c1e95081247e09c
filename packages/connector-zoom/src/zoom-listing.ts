import { ConnectorApiError, type ConnectorChange, type SyncContext } from '@tributary/core';
import pMap from 'p-map';
import { mapZoomMeeting } from './map-zoom-meeting.js';
import type { ZoomMeeting, ZoomParticipant } from './zoom-api.js';
import type { ZoomRunServices } from './zoom-connector.js';
import {
  addDays,
  dayOf,
  monthsBefore,
  parseZoomCursor,
  toCursorJson,
  windowAt,
  windowCount,
  type ZoomCursor,
  type ZoomListing,
} from './zoom-cursor.js';
import { PAGE_TOKEN_LIFETIME_MS, type ZoomConfig, type ZoomCredentials } from './zoom-settings.js';
import { ZoomState } from './zoom-state.js';

type Ctx = SyncContext<ZoomConfig, ZoomCredentials>;

/** Default history of a first sync without `startDate`. */
const DEFAULT_HISTORY_MONTHS = 6;
/** Concurrent participant lookups while mapping one page. */
const PARTICIPANT_CONCURRENCY = 4;

/**
 * One sync: a listing of every user's recordings, window by window and page by page, with a
 * checkpoint after each page (a crash resumes at the next page, or at the start of the window
 * when Zoom's page token has expired in between).
 */
export async function* syncZoom(ctx: Ctx, run: ZoomRunServices): AsyncGenerator<ConnectorChange> {
  const state = new ZoomState(ctx.state);
  const stored = parseZoomCursor(ctx.cursor);
  const today = dayOf(run.now());
  let cursor: ZoomCursor;
  // An incremental run over a listing a crash interrupted continues it. A full run always lists
  // everything from the start: the delete sweep needs every document seen in this run.
  if (ctx.mode === 'incremental' && stored?.phase === 'listing' && stored.listing) {
    cursor = stored;
  } else {
    const startDate =
      ctx.config.startDate ?? stored?.startDate ?? monthsBefore(today, DEFAULT_HISTORY_MONTHS);
    const incremental = ctx.mode === 'incremental' && stored?.syncedThrough !== undefined;
    const overlapStart = incremental
      ? addDays(stored?.syncedThrough as string, -ctx.config.overlapDays)
      : startDate;
    const from = laterDay(overlapStart, startDate);
    const users = await resolveUsers(ctx, run);
    state.setUsers(users);
    if (!incremental) state.clearMeetings();
    cursor = {
      version: 1,
      phase: 'listing',
      startDate,
      syncedThrough: stored?.syncedThrough,
      listing: {
        kind: incremental ? 'incremental' : 'full',
        from,
        to: laterDay(from, today),
        userCount: users.length,
        userIndex: 0,
        windowIndex: 0,
        incomplete: [],
      },
    };
  }
  const listing = cursor.listing as ZoomListing;
  const windows = windowCount(listing.from, listing.to);

  while (listing.userIndex < listing.userCount) {
    const userId = await state.user(listing.userIndex);
    if (userId === undefined) {
      listing.incomplete.push(`user #${listing.userIndex} of the listing is missing from the state`);
    }
    while (userId !== undefined && listing.windowIndex < windows) {
      const window = windowAt(listing.from, listing.to, listing.windowIndex);
      const seen = new Set<string>();
      let userGone = false;
      for (;;) {
        let token = listing.pageToken;
        if (token && (listing.pageTokenAt ?? 0) + PAGE_TOKEN_LIFETIME_MS <= run.now()) {
          // Expired while the run was paused or dead: list the window again from its first page.
          token = undefined;
          listing.partialWindow = true;
        }
        let page: Awaited<ReturnType<typeof run.api.listRecordings>>;
        try {
          page = await run.api.listRecordings(userId, window.from, window.to, token);
        } catch (error) {
          if (!ConnectorApiError.isInstance(error) || error.isRetryable) throw error;
          if (token && error.status === 400) {
            ctx.logger.info('zoom refused a page token (expired); listing the window again', { userId });
            listing.pageToken = undefined;
            listing.partialWindow = true;
            continue;
          }
          if (error.status === 404) {
            // The user was deleted or deactivated while the listing ran.
            listing.incomplete.push(
              `the recordings of user ${userId} could not be listed (HTTP ${error.status})`,
            );
            userGone = true;
            break;
          }
          throw error;
        }
        const issuedAt = run.now();
        for (const meeting of page.meetings) seen.add(meeting.uuid);
        yield* await pageUpserts(ctx, run, state, userId, page.meetings);
        listing.pageToken = page.next_page_token || undefined;
        listing.pageTokenAt = listing.pageToken ? issuedAt : undefined;
        if (!listing.pageToken) break;
        yield { kind: 'checkpoint', cursor: toCursorJson(cursor) };
      }
      if (userGone) break;
      if (listing.kind === 'incremental' && !listing.partialWindow) {
        // Meetings stored for this user and window that Zoom no longer lists: deleted or trashed.
        for await (const stale of state.meetingsBetween(userId, window.from, window.to)) {
          if (seen.has(stale.uuid)) continue;
          state.forgetMeeting(userId, stale.day, stale.uuid);
          yield { kind: 'delete', externalId: stale.uuid };
        }
      }
      listing.windowIndex += 1;
      listing.partialWindow = undefined;
      yield { kind: 'checkpoint', cursor: toCursorJson(cursor) };
    }
    listing.userIndex += 1;
    listing.windowIndex = 0;
    listing.pageToken = undefined;
    listing.pageTokenAt = undefined;
  }

  if (listing.kind === 'incremental') yield* recheckAwaiting(ctx, run, state, listing.from);
  if (listing.kind === 'full') {
    const complete = listing.incomplete.length === 0;
    yield {
      kind: 'listing-complete',
      complete,
      ...(complete ? {} : { reason: listing.incomplete.join('; ') }),
    };
  }
  const done: ZoomCursor = {
    version: 1,
    phase: 'idle',
    startDate: cursor.startDate,
    syncedThrough: listing.to,
  };
  yield { kind: 'checkpoint', cursor: toCursorJson(done) };
}

/** The later of two `YYYY-MM-DD` days (they compare as strings). */
function laterDay(a: string, b: string): string {
  return a > b ? a : b;
}

async function resolveUsers(ctx: Ctx, run: ZoomRunServices): Promise<string[]> {
  const users = ctx.config.users;
  if (users === 'me') return ['me'];
  if (Array.isArray(users)) return [...new Set(users)];
  const ids: string[] = [];
  for await (const user of run.api.users()) ids.push(user.id);
  return ids;
}

/** One page of meetings as upserts; participants from the state, fetched only for new meetings. */
async function pageUpserts(
  ctx: Ctx,
  run: ZoomRunServices,
  state: ZoomState,
  userId: string,
  meetings: readonly ZoomMeeting[],
): Promise<ConnectorChange[]> {
  let participants = new Map<string, ZoomParticipant[]>();
  if (ctx.config.includeParticipants && meetings.length > 0) {
    participants = await state.participants(meetings.map((meeting) => meeting.uuid));
    const missing = meetings.filter((meeting) => !participants.has(meeting.uuid));
    await pMap(
      missing,
      async (meeting) => {
        const list = await run.api.participants(meeting.uuid);
        participants.set(meeting.uuid, list);
        state.setParticipants(meeting.uuid, list);
      },
      { concurrency: PARTICIPANT_CONCURRENCY },
    );
  }
  return meetings.map((meeting) => {
    const document = mapZoomMeeting(meeting, {
      api: run.api,
      config: ctx.config,
      transcriber: run.settings.transcriber,
      participants: participants.get(meeting.uuid),
      downloadToken: run.downloadTokens.get(meeting.uuid),
    });
    const awaiting =
      (document.metadata?.transcription as { status?: string } | undefined)?.status ===
      'awaiting_transcription';
    state.recordMeeting(userId, dayOfMeeting(meeting, run), meeting.uuid, awaiting);
    return { kind: 'upsert', document } satisfies ConnectorChange;
  });
}

function dayOfMeeting(meeting: ZoomMeeting, run: ZoomRunServices): string {
  const start = meeting.start_time ? Date.parse(meeting.start_time) : Number.NaN;
  return dayOf(Number.isNaN(start) ? run.now() : start);
}

/**
 * Meetings awaiting a transcript from before the re-listed days: asked for one by one (a Light
 * call each) until a transcript appears, they are gone, or `awaitTranscriptDays` have passed.
 */
async function* recheckAwaiting(
  ctx: Ctx,
  run: ZoomRunServices,
  state: ZoomState,
  listedFrom: string,
): AsyncGenerator<ConnectorChange> {
  const oldest = addDays(dayOf(run.now()), -ctx.config.awaitTranscriptDays);
  const due: { uuid: string; userId: string; day: string }[] = [];
  for await (const entry of state.awaiting()) {
    if (entry.day >= listedFrom) continue; // listed again in this run
    due.push(entry);
  }
  for (const entry of due) {
    if (entry.day < oldest) {
      // Stays stored as awaiting; a later transcript still arrives through the webhook.
      state.recordMeeting(entry.userId, entry.day, entry.uuid, false);
      continue;
    }
    const meeting = await run.api.getMeetingRecordings(entry.uuid);
    if (!meeting) {
      state.forgetMeeting(entry.userId, entry.day, entry.uuid);
      yield { kind: 'delete', externalId: entry.uuid };
      continue;
    }
    for (const change of await pageUpserts(ctx, run, state, entry.userId, [meeting])) yield change;
  }
}
