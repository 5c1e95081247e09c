// What a channel thread and a meeting become: Markdown threads with replies, mentions and
// attachment links; WebVTT transcripts read into speaker/timestamp lines; channel members and
// meeting participants as permissions; replies found in the recheck window; recordings transcribed
// when no transcript exists; one failing channel recorded while the rest syncs (run `partial`).
import { createConnectorInstance, type SourceDocument, webVttExtractor } from '@tributary/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  recordingExternalId,
  type TeamsTranscriber,
  threadExternalId,
  transcriptExternalId,
} from '../src/index.js';
import { vttOf } from './support/fake-tenant.ts';
import {
  collectChanges,
  pipeline,
  startTeamsHarness,
  type TeamsHarness,
  upserts,
} from './support/teams-harness.ts';

let harness: TeamsHarness;
beforeEach(async () => {
  harness = await startTeamsHarness();
});
afterEach(() => harness.close());

async function loadText(document: SourceDocument): Promise<string> {
  const content =
    document.content.kind === 'lazy'
      ? await document.content.load({ signal: new AbortController().signal })
      : document.content;
  if (content.kind !== 'text') throw new Error('expected text');
  return content.text;
}

function smallTeam() {
  const { tenant } = harness;
  const ada = tenant.addUser('Ada Lovelace');
  const grace = tenant.addUser('Grace Hopper');
  const team = tenant.addTeam('Engineering');
  const channel = tenant.addChannel(team, 'Releases', [ada, grace]);
  return { tenant, ada, grace, team, channel };
}

describe('channel threads', () => {
  it('one Markdown document per thread: replies in order, mentions readable, attachments as links, members as permissions', async () => {
    const { tenant, ada, grace, team, channel } = smallTeam();
    const root = tenant.post(channel, {
      from: ada,
      html: '<p>Can we ship <b>v2</b> today?</p>',
      mentions: [grace],
      attachments: [{ name: 'checklist.xlsx', url: 'https://contoso.sharepoint.com/checklist.xlsx' }],
    });
    tenant.reply(root, { from: grace, html: '<p>Yes, <i>after</i> the tests pass.</p>' });
    tenant.reply(root, { from: ada, text: 'Great, shipping at 5.' });
    tenant.post(channel, { from: ada, text: 'Ada joined the channel', messageType: 'systemEventMessage' });
    const changes = await collectChanges(harness.connector(), {
      config: { teamIds: [team.id] },
      credentials: harness.credentials,
    });
    const documents = upserts(changes);
    expect(documents).toHaveLength(1); // the system message is not a document
    const thread = documents[0] as SourceDocument;
    expect(thread.externalId).toBe(threadExternalId(team.id, channel.id, root.id));
    expect(thread.title).toContain('Engineering / Releases: Can we ship');
    const text = await loadText(thread);
    expect(text).toContain('**Ada Lovelace**');
    expect(text).toContain('@Grace Hopper');
    expect(text).toContain('[checklist.xlsx](https://contoso.sharepoint.com/checklist.xlsx)');
    expect(text).not.toMatch(/<at|<attachment|<p>/);
    expect(text.indexOf('after the tests pass')).toBeLessThan(text.indexOf('shipping at 5'));
    expect(thread.metadata).toMatchObject({
      replyCount: 2,
      channelName: 'Releases',
      teamName: 'Engineering',
    });
    expect(thread.permissions).toEqual([
      { type: 'user', id: ada.id, email: ada.email, displayName: 'Ada Lovelace', role: 'owner' },
      { type: 'user', id: grace.id, email: grace.email, displayName: 'Grace Hopper', role: 'reader' },
    ]);
    expect(changes.at(-1)).toMatchObject({ kind: 'checkpoint' });
    expect(changes.some((change) => change.kind === 'listing-complete' && change.complete)).toBe(true);
  });

  it('a reply to a recent thread is picked up by the recheck window; a deleted root deletes its thread', async () => {
    const { tenant, ada, grace, team, channel } = smallTeam();
    const recent = tenant.post(channel, {
      from: ada,
      text: 'Deploying now',
      createdDateTime: new Date().toISOString(),
    });
    const old = tenant.post(channel, { from: ada, text: 'Old news' });
    const run = pipeline(harness, { teamIds: [team.id] });
    expect((await run.sync()).counts.inserted).toBe(2);
    tenant.reply(recent, { from: grace, text: 'Deploy done', createdDateTime: new Date().toISOString() });
    tenant.remove(old);
    const summary = await run.sync();
    expect(summary.mode).toBe('incremental');
    expect(summary.counts.updated).toBe(1);
    expect(summary.counts.deleted).toBe(1);
    expect(run.live()).toEqual([threadExternalId(team.id, channel.id, recent.id)]);
  });

  it('one failing channel is recorded and the run ends partial; the other channels sync; nothing is swept', async () => {
    const { tenant, ada, team, channel } = smallTeam();
    const locked = tenant.addChannel(team, 'Private', [ada], 'private');
    tenant.post(channel, { from: ada, text: 'open message' });
    tenant.post(locked, { from: ada, text: 'secret message' });
    const run = pipeline(harness, { teamIds: [team.id] });
    expect((await run.sync()).counts.inserted).toBe(2);
    harness.fake.failPath(new RegExp(`/channels/${locked.id.replace(/[.]/g, '\\.')}/`), 403);
    tenant.post(channel, { from: ada, text: 'another open message' });
    const summary = await run.sync({ mode: 'full' });
    expect(summary.status).toBe('partial');
    expect(summary.counts.inserted).toBe(1);
    expect(summary.counts.failed).toBe(1);
    expect(summary.errors[0]?.externalId).toBe(`teams/${team.id}/channels/${locked.id}`);
    expect(summary.errors[0]?.message).toMatch(/^\[tributary\] \[teams\] Graph refused access \(HTTP 403/);
    expect(summary.sweep?.refused).toBe(true);
    expect(run.live()).toHaveLength(3);
    harness.fake.clearPathFailures();
    expect((await run.sync({ mode: 'full' })).status).toBe('success');
  });

  it('fetchDocument re-reads one thread (with a reply the delta does not report), null when gone', async () => {
    const { tenant, ada, grace, team, channel } = smallTeam();
    const root = tenant.post(channel, { from: ada, text: 'Question' });
    tenant.reply(root, { from: grace, text: 'Answer' });
    const instance = createConnectorInstance(harness.connector(), {
      config: { teamIds: [team.id] },
      credentials: harness.credentials,
    });
    const fetchDocument = instance.connector.fetchDocument?.bind(instance.connector);
    if (!fetchDocument) throw new Error('no fetchDocument');
    const document = await fetchDocument(
      instance.createContext(),
      threadExternalId(team.id, channel.id, root.id),
    );
    expect(await loadText(document as SourceDocument)).toContain('Answer');
    tenant.remove(root);
    expect(
      await fetchDocument(instance.createContext(), threadExternalId(team.id, channel.id, root.id)),
    ).toBeNull();
    expect(
      await fetchDocument(instance.createContext(), threadExternalId(team.id, channel.id, 'missing')),
    ).toBeNull();
  });
});

describe('expired delta links', () => {
  it('410 Gone: each scope is read again from a fresh delta query; nothing stored twice or re-embedded; changes kept', async () => {
    const { tenant, ada, grace, team, channel } = smallTeam();
    const other = tenant.addChannel(team, 'Other', [ada]);
    for (let index = 0; index < 6; index++) {
      tenant.reply(tenant.post(index % 2 ? channel : other, { from: ada, text: `message ${index}` }), {
        from: grace,
        text: 'ok',
      });
    }
    const meeting = tenant.addMeeting(ada, 'Sync', [grace]);
    tenant.addTranscript(meeting, vttOf([{ speaker: 'Ada Lovelace', text: 'hello' }]));
    const run = pipeline(harness, { teamIds: [team.id], meetingOrganizerIds: [ada.id] }, { pageSize: 2 });
    expect((await run.sync()).counts.inserted).toBe(7);
    const edited = tenant.post(channel, { from: ada, text: 'posted while the links expire' });
    harness.fake.expireDeltaTokens();
    harness.fake.resetCounts();
    const summary = await run.sync();
    expect(summary.mode).toBe('incremental');
    expect(summary.status, summary.error).toBe('success');
    expect(summary.counts.inserted).toBe(1);
    expect(summary.counts.updated).toBe(0);
    expect(summary.embeddings.requests).toBe(1);
    expect(run.live()).toContain(threadExternalId(team.id, channel.id, edited.id));
    expect(run.live()).toHaveLength(8);
    // Three scopes answered 410 once each, then were read again in full; no transcript re-downloaded.
    expect(harness.fake.callCount('transcript-content')).toBe(0);
    harness.fake.resetCounts();
    const after = await run.sync();
    expect(after.counts.inserted + after.counts.updated).toBe(0);
    // Two channels, one organiser, and the groups delta that reports membership changes.
    expect(harness.fake.callCount('delta')).toBe(4);
  });
});

describe('meetings', () => {
  it('a transcript becomes speaker/timestamp text with the participants as permissions; a deleted one is deleted', async () => {
    const { tenant } = harness;
    const organizer = tenant.addUser('Olu Organiser');
    const guest = tenant.addUser('Gia Guest');
    const meeting = tenant.addMeeting(organizer, 'Quarterly planning', [guest]);
    const transcript = tenant.addTranscript(
      meeting,
      vttOf([
        { speaker: 'Olu Organiser', text: 'Welcome & thanks for coming' },
        { speaker: 'Gia Guest', text: 'Happy to be here' },
      ]),
    );
    const run = pipeline(harness, { channels: false, meetingOrganizerIds: [organizer.id] });
    expect((await run.sync()).counts.inserted).toBe(1);
    const changes = await collectChanges(harness.connector(), {
      config: { channels: false, meetingOrganizerIds: [organizer.id] },
      credentials: harness.credentials,
    });
    const document = upserts(changes)[0] as SourceDocument;
    expect(document.externalId).toBe(transcriptExternalId(organizer.id, meeting.id, transcript.id));
    expect(document.title).toMatch(/^Quarterly planning \(\d{4}-\d{2}-\d{2}\): transcript$/);
    expect(document.mimeType).toBe('text/vtt');
    expect(document.permissions).toEqual([
      { type: 'user', id: organizer.id, email: organizer.email, displayName: 'Olu Organiser', role: 'owner' },
      { type: 'user', id: guest.id, email: guest.email, displayName: 'Gia Guest', role: 'reader' },
    ]);
    const extracted = await webVttExtractor.extract({
      text: await loadText(document),
      mimeType: 'text/vtt',
    } as never);
    expect(extracted.text).toBe(
      '[00:00:00] Olu Organiser: Welcome & thanks for coming\n[00:00:05] Gia Guest: Happy to be here',
    );
    tenant.removeArtifact(transcript);
    const summary = await run.sync();
    expect(summary.counts.deleted).toBe(1);
    expect(run.live()).toEqual([]);
  });

  it('a recording without a transcript is transcribed; a transcript arriving later replaces it', async () => {
    const { tenant } = harness;
    const organizer = tenant.addUser('Rita Recorder');
    const meeting = tenant.addMeeting(organizer, 'Design review', []);
    const recording = tenant.addRecording(
      meeting,
      new TextEncoder().encode('fake mp4 bytes: the design is approved'),
    );
    const seen: string[] = [];
    const transcriber: TeamsTranscriber = {
      async transcribe(input) {
        const bytes = new Uint8Array(await new Response(input.stream).arrayBuffer());
        seen.push(`${input.mimeType} ${input.sizeBytes}`);
        return `Transcribed: ${new TextDecoder().decode(bytes).split(': ')[1]}`;
      },
    };
    const run = pipeline(harness, { channels: false, meetingOrganizerIds: [organizer.id] }, { transcriber });
    const first = await run.sync();
    expect(first.status, first.error).toBe('success');
    expect(run.live()).toEqual([recordingExternalId(organizer.id, meeting.id, recording.id)]);
    expect(seen).toEqual(['video/mp4 38']);
    // Without a transcriber, recordings are not synced at all.
    const plain = await collectChanges(harness.connector(), {
      config: { channels: false, meetingOrganizerIds: [organizer.id] },
      credentials: harness.credentials,
    });
    expect(upserts(plain)).toEqual([]);
    const transcript = tenant.addTranscript(meeting, vttOf([{ speaker: 'Rita Recorder', text: 'Approved' }]));
    const second = await run.sync();
    expect(second.counts.inserted).toBe(1);
    expect(second.counts.deleted).toBe(1);
    expect(run.live()).toEqual([transcriptExternalId(organizer.id, meeting.id, transcript.id)]);
  });
});
