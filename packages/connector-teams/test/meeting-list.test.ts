// Meetings configured one by one (`meetings`: by id or by join URL): their transcripts listed per
// meeting (paged), recordings' metadata kept on the transcript, a recording without a transcript
// transcribed, deletes found by the next listing, a meeting that cannot be found failing alone.
import { createConnectorInstance, type SourceDocument } from '@tributary/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { recordingExternalId, type TeamsTranscriber, transcriptExternalId } from '../src/index.js';
import { joinWebUrlOf } from './support/fake-graph-server.ts';
import { vttOf } from './support/fake-tenant.ts';
import { pipeline, startTeamsHarness, type TeamsHarness } from './support/teams-harness.ts';

let harness: TeamsHarness;
beforeEach(async () => {
  harness = await startTeamsHarness({ pageSize: 2 });
});
afterEach(() => harness.close());

const transcriber: TeamsTranscriber = {
  async transcribe(input) {
    return `Transcribed: ${new TextDecoder().decode(new Uint8Array(await new Response(input.stream).arrayBuffer()))}`;
  },
};

describe('meetings listed one by one', () => {
  it('by id and by join URL: every transcript (paged) with its recordings as metadata; deletes found; re-sync is three calls a meeting', async () => {
    const { tenant } = harness;
    const olu = tenant.addUser('Olu Organiser');
    const gia = tenant.addUser('Gia Guest');
    const standup = tenant.addMeeting(olu, 'Standup', [gia]);
    const review = tenant.addMeeting(olu, 'Review', [gia]);
    tenant.addMeeting(olu, 'Not configured', [gia]);
    const standupTranscripts = [0, 1, 2].map((index) =>
      tenant.addTranscript(standup, vttOf([{ speaker: 'Olu Organiser', text: `standup part ${index}` }])),
    );
    const recording = tenant.addRecording(standup, new TextEncoder().encode('standup video'));
    const reviewTranscript = tenant.addTranscript(
      review,
      vttOf([{ speaker: 'Gia Guest', text: 'review notes' }]),
    );
    const config = {
      channels: false,
      meetings: [
        { organizerId: olu.id, meetingId: standup.id },
        { organizerId: olu.id, joinWebUrl: joinWebUrlOf(review) },
      ],
    };
    const run = pipeline(harness, config);
    const first = await run.sync();
    expect(first.status, first.error).toBe('success');
    expect(run.live()).toEqual(
      [
        ...standupTranscripts.map((t) => transcriptExternalId(olu.id, standup.id, t.id)),
        transcriptExternalId(olu.id, review.id, reviewTranscript.id),
      ].sort(),
    );
    // Three transcripts on pages of two: the listing followed @odata.nextLink.
    expect(harness.fake.callCount('transcript-list')).toBe(3);

    const instance = createConnectorInstance(harness.connector(), {
      config,
      credentials: harness.credentials,
    });
    const fetched = (await instance.connector.fetchDocument?.(
      instance.createContext(),
      transcriptExternalId(olu.id, standup.id, (standupTranscripts[0] as { id: string }).id),
    )) as SourceDocument;
    expect(fetched.metadata?.recordings).toEqual([
      expect.objectContaining({ id: recording.id, contentUrl: expect.stringContaining(recording.id) }),
    ]);
    expect(fetched.permissions?.map((p) => p.id)).toEqual([olu.id, gia.id]);

    harness.fake.resetCounts();
    const quiet = await run.sync();
    expect(quiet.counts.inserted + quiet.counts.updated + quiet.counts.deleted).toBe(0);
    expect(harness.fake.callCount('transcript-content')).toBe(0);
    // Per meeting: its details (by id, or by join URL), its transcripts, its recordings, nothing
    // else: standup 1 + 2 pages + 1, review 1 + 1 + 1.
    expect(harness.fake.callCount('graph')).toBe(4 + 3);

    tenant.removeArtifact(standupTranscripts[1] as (typeof standupTranscripts)[number]);
    const after = await run.sync();
    expect(after.counts.deleted).toBe(1);
    expect(run.live()).toHaveLength(3);
  });

  it('a recording without a transcript is transcribed; a meeting that cannot be found fails alone (run partial)', async () => {
    const { tenant } = harness;
    const rita = tenant.addUser('Rita Recorder');
    const design = tenant.addMeeting(rita, 'Design review', []);
    const recording = tenant.addRecording(design, new TextEncoder().encode('the design is approved'));
    const run = pipeline(
      harness,
      {
        channels: false,
        meetings: [
          { organizerId: rita.id, joinWebUrl: 'https://teams.microsoft.com/l/meetup-join/unknown' },
          { organizerId: rita.id, meetingId: design.id },
        ],
      },
      { transcriber },
    );
    const summary = await run.sync();
    expect(summary.status).toBe('partial');
    expect(summary.counts.failed).toBe(1);
    expect(summary.errors[0]?.externalId).toBe(
      `users/${rita.id}/onlineMeetings/https://teams.microsoft.com/l/meetup-join/unknown`,
    );
    expect(summary.errors[0]?.message).toMatch(
      /^\[tributary\] \[teams\] no online meeting organised by .+ has the configured join URL/,
    );
    expect(run.live()).toEqual([recordingExternalId(rita.id, design.id, recording.id)]);
    expect(summary.sweep?.refused).toBe(true);

    // Teams' own transcript arrives: it replaces the transcribed recording.
    const transcript = tenant.addTranscript(design, vttOf([{ speaker: 'Rita Recorder', text: 'Approved' }]));
    const next = await run.sync();
    expect(next.counts).toMatchObject({ inserted: 1, deleted: 1 });
    expect(run.live()).toEqual([transcriptExternalId(rita.id, design.id, transcript.id)]);
  });

  it('refuses a meeting given both or neither of meetingId and joinWebUrl', () => {
    const connector = harness.connector();
    const organizerId = '5f0c9a1e-2b3c-4d5e-8f90-123456789abc';
    for (const meeting of [
      { organizerId },
      { organizerId, meetingId: 'm', joinWebUrl: 'https://t.example/j' },
    ]) {
      expect(() =>
        createConnectorInstance(connector, {
          config: { meetings: [meeting] },
          credentials: harness.credentials,
        }),
      ).toThrow(/"meetings\[0\]": give either meetingId or joinWebUrl \(exactly one\)/);
    }
  });
});
