// Listing: six months of recordings for every user of the account, in windows of at most one
// month and pages of 5; page tokens that expire; the document text (transcript with speakers and
// timestamps, chat), metadata and permissions; incremental re-listing with its overlap and deletes.
import { createLexicalEmbedder, runSync } from '@tributary/core';
import { afterEach, describe, expect, it } from 'vitest';
import type { ZoomCursor } from '../src/index.js';
import { zoomVtt } from './support/fake-zoom-server.js';
import {
  collectChanges,
  daysAgo,
  deletes,
  lastCursor,
  loadText,
  pipeline,
  startZoomHarness,
  upserts,
  type ZoomHarness,
} from './support/zoom-harness.js';

let harness: ZoomHarness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

describe('full listing', () => {
  it('lists six months of recordings of every user, in windows of at most a month and pages of 5', async () => {
    harness = await startZoomHarness();
    const { fake } = harness;
    const users = Array.from({ length: 7 }, (_, index) => fake.addUser(`user${index}@example.com`));
    const expected = new Set<string>();
    // 3 users with recordings spread over 180 days (some days hold several); 4 users with none.
    for (let index = 0; index < 90; index++) {
      const meeting = fake.addRecording({
        hostId: users[index % 3] as string,
        topic: `Meeting ${index}`,
        startTime: daysAgo((index * 2) % 180, 9 + (index % 8)),
        transcript: zoomVtt([['Ada', `point ${index}`]]),
      });
      expected.add(meeting.uuid);
    }
    // Older than the start date: not synced.
    fake.addRecording({
      hostId: users[0] as string,
      startTime: daysAgo(200),
      transcript: zoomVtt([['A', 'old']]),
    });

    const connector = harness.connector({ pageSize: 5 });
    const startDate = daysAgo(181).slice(0, 10);
    const changes = await collectChanges(connector, {
      config: { users: 'all', startDate, includeParticipants: false },
      credentials: harness.s2s,
    });
    const listed = upserts(changes).map((document) => document.externalId);
    expect(new Set(listed)).toEqual(expected);
    expect(listed.length).toBe(expected.size);
    expect(fake.rangeViolations).toBe(0);
    // 7 users in pages of 5, then 7 windows of 30 days for each of them.
    expect(fake.callCount('users.list')).toBe(2);
    expect(fake.callCount('recordings.list')).toBeGreaterThanOrEqual(7 * 7);
    expect(changes.filter((change) => change.kind === 'listing-complete')).toEqual([
      { kind: 'listing-complete', complete: true },
    ]);
    const cursor = lastCursor(changes) as unknown as ZoomCursor;
    expect(cursor).toMatchObject({ phase: 'idle', startDate });
    // Listing downloads nothing: content is lazy.
    expect(Object.keys(fake.calls()).filter((route) => route.startsWith('download'))).toEqual([]);
  });

  it('renders the transcript with speakers and timestamps, the chat, metadata and permissions', async () => {
    harness = await startZoomHarness();
    const { fake } = harness;
    const host = fake.addUser('ada@example.com', 'Ada');
    const meeting = fake.addRecording({
      hostId: host,
      topic: 'Harbour budget',
      startTime: daysAgo(1),
      durationMinutes: 45,
      transcript: zoomVtt([
        ['Ada Lovelace', 'We need two more boats.'],
        ['Grace Hopper', 'The budget allows one.'],
      ]),
      chat: '00:01:05\t From  Grace Hopper : link to the quote\n00:02:00 From Ada Lovelace to Grace Hopper:\n\tthanks, private\n',
      participants: [
        { name: 'Grace Hopper', email: 'grace@example.com', userId: 'ugrace' },
        { name: 'Guest caller' },
        { name: 'Ada Lovelace', email: 'ada@example.com', userId: host },
      ],
    });
    const changes = await collectChanges(harness.connector(), {
      config: { users: [host] },
      credentials: harness.s2s,
    });
    const [document] = upserts(changes);
    expect(document?.externalId).toBe(meeting.uuid);
    expect(document?.title).toBe('Harbour budget');
    expect(document?.mimeType).toBe('text/markdown');
    expect(document?.permissions).toEqual([
      { type: 'user', role: 'owner', id: host, email: 'ada@example.com' },
      { type: 'user', role: 'reader', id: 'ugrace', email: 'grace@example.com', displayName: 'Grace Hopper' },
    ]);
    expect(document?.metadata).toMatchObject({
      meetingId: String(meeting.id),
      topic: 'Harbour budget',
      hostEmail: 'ada@example.com',
      durationMinutes: 45,
      participants: ['Grace Hopper', 'Guest caller', 'Ada Lovelace'],
      transcription: { status: 'zoom' },
    });
    const text = await loadText(document as NonNullable<typeof document>);
    expect(text).toContain('# Harbour budget');
    expect(text).toContain('- Participants: Grace Hopper, Guest caller, Ada Lovelace');
    expect(text).toContain(
      '## Transcript\n\n[00:00:00] Ada Lovelace: We need two more boats.\n[00:00:05] Grace Hopper: The budget allows one.',
    );
    expect(text).toContain(
      '## Chat\n\n[00:01:05] Grace Hopper: link to the quote\n[00:02:00] Ada Lovelace (to Grace Hopper): thanks, private',
    );
    // The transcript and chat were downloaded with the bearer token; the video never.
    expect(fake.callCount('download:TRANSCRIPT')).toBe(1);
    expect(fake.callCount('download:CHAT')).toBe(1);
    expect(fake.callCount('download:MP4')).toBe(0);
  });

  it('a page token that expired while the run was stopped is not used: the window is listed again', async () => {
    let now = Date.now();
    harness = await startZoomHarness({ now: () => now });
    const { fake } = harness;
    const host = fake.addUser('ada@example.com');
    const all = new Set<string>();
    for (let index = 0; index < 12; index++) {
      all.add(
        fake.addRecording({
          hostId: host,
          startTime: daysAgo(index % 3, 9, now),
          transcript: zoomVtt([['A', `t${index}`]]),
        }).uuid,
      );
    }
    const connector = harness.connector({ pageSize: 5 });
    const config = { users: [host], startDate: daysAgo(10, 0, now).slice(0, 10), includeParticipants: false };
    const first = await collectChanges(connector, { config, credentials: harness.s2s });
    // The cursor after the first page of the newest window: a crash here resumes from it.
    const midPage = first.find(
      (change) => change.kind === 'checkpoint' && (change.cursor as unknown as ZoomCursor).listing?.pageToken,
    );
    expect(midPage).toBeDefined();
    now += 20 * 60 * 1000;
    fake.resetCalls();
    const resumed = await collectChanges(connector, {
      config,
      credentials: harness.s2s,
      cursor: midPage?.kind === 'checkpoint' ? midPage.cursor : undefined,
      mode: 'incremental',
    });
    expect(fake.expiredPageTokens).toBe(0);
    expect(new Set(upserts(resumed).map((document) => document.externalId))).toEqual(all);
    expect(deletes(resumed)).toEqual([]);
  });

  it('a page token Zoom refuses as expired restarts the window, and nothing is lost', async () => {
    let fakeNow = Date.now();
    harness = await startZoomHarness({ now: () => fakeNow });
    const { fake } = harness;
    const host = fake.addUser('ada@example.com');
    const all = new Set<string>();
    for (let index = 0; index < 8; index++) {
      all.add(
        fake.addRecording({
          hostId: host,
          startTime: daysAgo(1, 9 + index),
          transcript: zoomVtt([['A', `t${index}`]]),
        }).uuid,
      );
    }
    // The connector's own clock says the token is fresh; Zoom's says it is not.
    const connector = harness.connector({ pageSize: 5, now: () => Date.now() });
    const config = { users: [host], startDate: daysAgo(5).slice(0, 10), includeParticipants: false };
    const first = await collectChanges(connector, { config, credentials: harness.s2s });
    const midPage = first.find(
      (change) => change.kind === 'checkpoint' && (change.cursor as unknown as ZoomCursor).listing?.pageToken,
    );
    fakeNow += 16 * 60 * 1000;
    const resumed = await collectChanges(connector, {
      config,
      credentials: harness.s2s,
      cursor: midPage?.kind === 'checkpoint' ? midPage.cursor : undefined,
      mode: 'incremental',
    });
    expect(fake.expiredPageTokens).toBe(1);
    expect(new Set(upserts(resumed).map((document) => document.externalId))).toEqual(all);
  });
});

describe('incomplete listings and oversized files', () => {
  it('a user Zoom does not know makes the listing incomplete: nothing is swept', async () => {
    harness = await startZoomHarness();
    const { fake } = harness;
    const host = fake.addUser('ada@example.com');
    const kept = fake.addRecording({
      hostId: host,
      startTime: daysAgo(3),
      transcript: zoomVtt([['A', 'kept']]),
    });
    const gone = fake.addRecording({
      hostId: host,
      startTime: daysAgo(2),
      transcript: zoomVtt([['A', 'gone']]),
    });
    const run = pipeline(harness, { users: [host], startDate: daysAgo(20).slice(0, 10) });
    await run.sync();
    fake.trash(gone.uuid);
    // The same connector, now also configured with a user Zoom does not know.
    const summary = await runSync({
      connector: run.connector,
      connectorId: run.connectorId,
      repository: run.repository,
      embedder: createLexicalEmbedder({ dimensions: 64 }),
      config: { users: [host, 'ghost@example.com'], startDate: daysAgo(20).slice(0, 10) },
      credentials: harness.s2s,
      mode: 'full',
    });
    expect(summary.status).toBe('success');
    expect(summary.sweep).toMatchObject({ refused: true, swept: 0 });
    expect(summary.sweep?.reason).toContain('ghost@example.com could not be listed (HTTP 404)');
    expect(run.live()).toEqual([gone.uuid, kept.uuid].sort());
  });

  it('a transcript over maxTextFileBytes fails only its document, and the download is cut short', async () => {
    harness = await startZoomHarness();
    const { fake } = harness;
    const host = fake.addUser('ada@example.com');
    const lines: [string, string][] = Array.from({ length: 200 }, (_, index) => [
      'Ada',
      `line ${index} of a long talk`,
    ]);
    const big = fake.addRecording({ hostId: host, startTime: daysAgo(2), transcript: zoomVtt(lines) });
    const small = fake.addRecording({
      hostId: host,
      startTime: daysAgo(1),
      transcript: zoomVtt([['Ada', 'short']]),
    });
    const run = pipeline(harness, { users: [host], maxTextFileBytes: 2000 });
    const summary = await run.sync();
    expect(summary.status).toBe('partial');
    expect(summary.errors).toEqual([
      {
        externalId: big.uuid,
        message: expect.stringMatching(/^\[tributary\] \[zoom\] .*larger than the 2000 byte limit/),
        reason: 'too_large',
      },
    ]);
    const stored = Object.fromEntries(
      run.repository.listDocuments(run.connectorId).map((d) => [d.externalId, d.processingStatus]),
    );
    expect(stored).toEqual({ [big.uuid]: 'failed', [small.uuid]: 'completed' });
  });
});

describe('incremental sync', () => {
  it('lists again only from the last synced day minus the overlap, and turns trashed meetings into deletes', async () => {
    harness = await startZoomHarness();
    const { fake } = harness;
    const host = fake.addUser('ada@example.com');
    const old = fake.addRecording({
      hostId: host,
      startTime: daysAgo(100),
      transcript: zoomVtt([['A', 'old']]),
    });
    const recent = fake.addRecording({
      hostId: host,
      startTime: daysAgo(1),
      transcript: zoomVtt([['A', 'recent']]),
    });
    const run = pipeline(harness, { users: [host], startDate: daysAgo(150).slice(0, 10) });
    const first = await run.sync();
    expect(first.status).toBe('success');
    expect(run.live()).toEqual([old.uuid, recent.uuid].sort());

    fake.resetCalls();
    fake.trash(recent.uuid);
    const added = fake.addRecording({
      hostId: host,
      startTime: daysAgo(0, 1),
      transcript: zoomVtt([['A', 'new']]),
    });
    const second = await run.sync();
    expect(second.mode).toBe('incremental');
    expect(second.status).toBe('success');
    expect(run.live()).toEqual([old.uuid, added.uuid].sort());
    expect(second.counts).toMatchObject({ inserted: 1, deleted: 1 });
    // One 30-day window covers the overlap (2 days) up to today.
    expect(fake.callCount('recordings.list')).toBe(1);
    expect(fake.callCount('download:TRANSCRIPT')).toBe(1);
  });

  it('a full sync sweeps meetings trashed outside the overlap, behind the coverage guard', async () => {
    harness = await startZoomHarness();
    const { fake } = harness;
    const host = fake.addUser('ada@example.com');
    const meetings = Array.from({ length: 5 }, (_, index) =>
      fake.addRecording({
        hostId: host,
        startTime: daysAgo(20 + index * 10),
        transcript: zoomVtt([['A', `m${index}`]]),
      }),
    );
    const run = pipeline(harness, { users: [host], startDate: daysAgo(90).slice(0, 10) });
    await run.sync();
    fake.trash(meetings[4]?.uuid as string);
    const incremental = await run.sync();
    expect(incremental.counts.deleted).toBe(0);
    const full = await run.sync({ mode: 'full' });
    expect(full.sweep).toMatchObject({ refused: false, swept: 1 });
    expect(run.live()).not.toContain(meetings[4]?.uuid);
    expect(run.live().length).toBe(4);
  });
});
