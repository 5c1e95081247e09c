// Text of recording files (Zoom's chat file formats, the VTT transcript through core's extractor)
// and meeting UUIDs in paths (encoded twice when they start with / or hold //).
import { createConnectorInstance } from '@tributary/core';
import { afterEach, describe, expect, it } from 'vitest';
import { chatToText, encodeMeetingUuid, vttToText } from '../src/index.js';
import { zoomVtt } from './support/fake-zoom-server.js';
import { daysAgo, startZoomHarness, type ZoomHarness } from './support/zoom-harness.js';

let harness: ZoomHarness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

describe('chat files', () => {
  it('reads the classic and the newer format, multi-line messages, private messages', () => {
    const chat = [
      '00:00:16\t From  Ada Lovelace : Good morning: all',
      '00:01:02 From Grace Hopper to Everyone:',
      '\tfirst line',
      '\tsecond line',
      '01:02:03 From Grace Hopper to Ada Lovelace(Direct Message):',
      '\tjust you',
      '00:05:00\t From  Empty : ',
    ].join('\r\n');
    expect(chatToText(chat)).toBe(
      [
        '[00:00:16] Ada Lovelace: Good morning: all',
        '[00:01:02] Grace Hopper: first line second line',
        '[01:02:03] Grace Hopper (to Ada Lovelace(Direct Message)): just you',
      ].join('\n'),
    );
  });
});

describe('transcripts', () => {
  it('keeps speakers and timestamps, one line per cue', async () => {
    const text = await vttToText(
      zoomVtt([
        ['Ada Lovelace', 'The engine computes.'],
        ['Grace Hopper', 'And the compiler translates.'],
      ]),
      'm.vtt',
    );
    expect(text.text).toBe(
      '[00:00:00] Ada Lovelace: The engine computes.\n[00:00:05] Grace Hopper: And the compiler translates.',
    );
    expect(text.speakers).toEqual(['Ada Lovelace', 'Grace Hopper']);
    expect(text.cueCount).toBe(2);
  });

  it('a damaged transcript fails its document with a clear error', async () => {
    await expect(vttToText('not a transcript', 'broken.vtt')).rejects.toThrow(/WEBVTT/);
  });
});

describe('meeting uuids', () => {
  it('encodes once, or twice when the uuid starts with / or holds //', () => {
    expect(encodeMeetingUuid('abc+def==')).toBe('abc%2Bdef%3D%3D');
    expect(encodeMeetingUuid('/ajXp112QmuoKj4854875==')).toBe('%252FajXp112QmuoKj4854875%253D%253D');
    expect(encodeMeetingUuid('ab//cd==')).toBe('ab%252F%252Fcd%253D%253D');
  });

  it('fetches a meeting whose uuid starts with / through the API', async () => {
    harness = await startZoomHarness();
    const host = harness.fake.addUser('ada@example.com');
    const meeting = harness.fake.addRecording({
      hostId: host,
      uuid: '/ajXp112QmuoKj4854875==',
      startTime: daysAgo(1),
      transcript: zoomVtt([['Ada', 'slashes']]),
    });
    const connector = harness.connector();
    const context = createConnectorInstance(connector, {
      config: {},
      credentials: harness.s2s,
    }).createContext();
    const document = await connector.fetchDocument?.(context, meeting.uuid);
    expect(document?.externalId).toBe(meeting.uuid);
  });
});
