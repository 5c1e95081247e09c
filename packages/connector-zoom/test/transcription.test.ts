// Meetings without a Zoom transcript: the audio goes to the transcriber when one is configured;
// otherwise the meeting is stored awaiting transcription and loaded again once Zoom's transcript
// appears (re-checked by incremental syncs, even outside the re-listed days).
import { createLexicalEmbedder, runSync } from '@tributary/core';
import { afterEach, describe, expect, it } from 'vitest';
import type { ZoomTranscribeInput, ZoomTranscriber } from '../src/index.js';
import { zoomVtt } from './support/fake-zoom-server.js';
import {
  collectChanges,
  daysAgo,
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

/** A transcriber of our own interface: it records what it was sent and "hears" a fixed sentence. */
function recordingTranscriber(maxBytes = 1_000_000) {
  const calls: { size: number; mimeType: string; fileName: string }[] = [];
  const transcriber: ZoomTranscriber = {
    id: 'test:echo',
    maxBytes,
    async transcribe(input: ZoomTranscribeInput) {
      calls.push({ size: input.bytes.byteLength, mimeType: input.mimeType, fileName: input.fileName });
      return { text: `Heard ${input.bytes.byteLength} bytes of harbour talk.` };
    },
  };
  return { transcriber, calls };
}

describe('no transcript, no transcriber', () => {
  it('stores the meeting awaiting transcription and loads it again when Zoom’s transcript appears', async () => {
    harness = await startZoomHarness();
    const { fake } = harness;
    const host = fake.addUser('ada@example.com');
    // 10 days old: outside the incremental overlap, so only the awaiting re-check finds it.
    const meeting = fake.addRecording({
      hostId: host,
      topic: 'Crew briefing',
      startTime: daysAgo(10),
      chat: '00:00:05\t From  Ada : hello crew\n',
    });
    const config = { users: [host], startDate: daysAgo(30).slice(0, 10) };

    const [document] = upserts(
      await collectChanges(harness.connector(), { config, credentials: harness.s2s }),
    );
    expect(document?.metadata?.transcription).toEqual({
      status: 'awaiting_transcription',
      reason: 'no_transcript',
    });
    const text = await loadText(document as NonNullable<typeof document>);
    expect(text).toContain('# Crew briefing');
    expect(text).toContain('## Chat\n\n[00:00:05] Ada: hello crew');
    expect(text).not.toContain('## Transcript');

    fake.resetCalls();
    const run = pipeline(harness, config);
    const first = await run.sync();
    expect(first.status).toBe('success');
    const stored = run.repository.listDocuments(run.connectorId)[0];
    expect(fake.callCount('download:M4A')).toBe(0);

    // Nothing new: the awaiting meeting is asked about (one Light call), nothing is downloaded.
    fake.resetCalls();
    const quiet = await run.sync();
    expect(quiet.counts).toMatchObject({ inserted: 0, updated: 0 });
    expect(fake.callCount('meeting.recordings')).toBe(1);
    expect(fake.callCount('download:CHAT')).toBe(0);

    // Zoom finishes the transcript: the next incremental sync picks it up.
    fake.setTranscript(meeting.uuid, zoomVtt([['Ada', 'Lines cast off at six.']]));
    fake.resetCalls();
    const later = await run.sync();
    expect(later.mode).toBe('incremental');
    expect(later.counts.updated).toBe(1);
    expect(fake.callCount('download:TRANSCRIPT')).toBe(1);
    const updated = run.repository.listDocuments(run.connectorId)[0];
    expect(updated?.contentHash).not.toBe(stored?.contentHash);

    // No longer awaiting: not asked about again.
    fake.resetCalls();
    await run.sync();
    expect(fake.callCount('meeting.recordings')).toBe(0);
  });
});

describe('with a transcriber', () => {
  it('sends the audio-only file (never the video) and keeps the text; a re-sync downloads nothing', async () => {
    harness = await startZoomHarness();
    const { fake } = harness;
    const host = fake.addUser('ada@example.com');
    fake.addRecording({ hostId: host, topic: 'Dock talk', startTime: daysAgo(1), audioBytes: 300_000 });
    const { transcriber, calls } = recordingTranscriber();
    const config = { users: [host] };
    const [document] = upserts(
      await collectChanges(harness.connector({ transcriber }), { config, credentials: harness.s2s }),
    );
    expect(document?.metadata?.transcription).toEqual({ status: 'transcribed', transcriber: 'test:echo' });
    expect(await loadText(document as NonNullable<typeof document>)).toContain(
      '## Transcript\n\nHeard 300000 bytes of harbour talk.',
    );
    expect(calls).toEqual([
      { size: 300_000, mimeType: 'audio/mp4', fileName: `${document?.externalId}.m4a` },
    ]);
    expect(fake.callCount('download:MP4')).toBe(0);

    const run = pipeline(harness, config, harness.s2s, { transcriber });
    await run.sync();
    fake.resetCalls();
    const again = await run.sync({ mode: 'full' });
    expect(again.counts.skippedByVersion).toBe(1);
    expect(fake.callCount('download:M4A')).toBe(0);
  });

  it('audio over the transcriber’s limit waits for Zoom’s transcript instead of being downloaded', async () => {
    harness = await startZoomHarness();
    const { fake } = harness;
    const host = fake.addUser('ada@example.com');
    fake.addRecording({ hostId: host, startTime: daysAgo(1), audioBytes: 5_000 });
    const { transcriber, calls } = recordingTranscriber(4_000);
    const [document] = upserts(
      await collectChanges(harness.connector({ transcriber }), {
        config: { users: [host] },
        credentials: harness.s2s,
      }),
    );
    expect(document?.metadata?.transcription).toEqual({
      status: 'awaiting_transcription',
      reason: 'too_large',
    });
    await loadText(document as NonNullable<typeof document>);
    expect(calls).toEqual([]);
    expect(fake.callCount('download:M4A')).toBe(0);
  });

  it('a transcriber configured later transcribes the meetings that were waiting', async () => {
    harness = await startZoomHarness();
    const { fake } = harness;
    const host = fake.addUser('ada@example.com');
    fake.addRecording({ hostId: host, startTime: daysAgo(1) });
    fake.addRecording({
      hostId: host,
      startTime: daysAgo(2),
      transcript: zoomVtt([['Ada', 'already here']]),
    });
    const config = { users: [host] };
    const before = pipeline(harness, config);
    await before.sync();
    const { transcriber, calls } = recordingTranscriber();
    // The same stored documents, now synced by a connector with a transcriber.
    const after = await runSync({
      connector: harness.connector({ transcriber }),
      config,
      credentials: harness.s2s,
      connectorId: before.connectorId,
      repository: before.repository,
      embedder: createLexicalEmbedder({ dimensions: 64 }),
      mode: 'full',
    });
    expect(after.counts).toMatchObject({ updated: 1, skippedByVersion: 1 });
    expect(calls).toHaveLength(1);
  });
});
