// The fixture tenant (20 teams, 200 channels, 5,000 messages with replies, 300 meetings with
// transcripts) through the real pipeline: a full sync, an incremental sync with nothing new (delta
// calls only, nothing downloaded), then new messages and transcripts (proportional work). Expired
// delta links are tested on a smaller tenant in channels-and-meetings.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFixture, type Fixture, FULL_FIXTURE } from './support/fixture-tenant.ts';
import {
  type PipelineHarness,
  pipeline,
  startTeamsHarness,
  type TeamsHarness,
} from './support/teams-harness.ts';

// Thousands of https requests: generous on a loaded machine (speed is measured in bench/, not here).
const LARGE_TIMEOUT_MS = 300_000;

let harness: TeamsHarness;
let fixture: Fixture;
let run: PipelineHarness;

beforeAll(async () => {
  harness = await startTeamsHarness();
  fixture = buildFixture(harness.tenant, FULL_FIXTURE);
  run = pipeline(
    harness,
    { meetingOrganizerIds: fixture.organizers.map((user) => user.id) },
    { concurrency: 16 },
  );
});
afterAll(() => harness.close());

describe('the fixture tenant', () => {
  it('is the size the issue asks for', () => {
    expect(fixture.teamIds).toHaveLength(20);
    expect(fixture.channels).toHaveLength(200);
    expect(fixture.messages).toBe(5000);
    expect(fixture.meetings).toBe(300);
  });

  it(
    'first sync: one document per thread and per transcript, every thread with its replies',
    async () => {
      const summary = await run.sync({ mode: 'full' });
      expect(summary.status, summary.error).toBe('success');
      expect(summary.counts.inserted).toBe(2000 + 300);
      expect(summary.counts.failed).toBe(0);
      expect(summary.sweep?.refused).toBe(false);
      // Every root's replies were read (one replies call per thread), every transcript downloaded
      // once, each meeting's recordings listed once (their metadata goes with the transcript), every
      // channel's members read once.
      expect(harness.fake.callCount('replies')).toBe(2000);
      expect(harness.fake.callCount('transcript-content')).toBe(300);
      expect(harness.fake.callCount('recording-list')).toBe(300);
      expect(harness.fake.callCount('members')).toBe(200);
      // One token for the whole run: MSAL's cache, and no discovery call (it would be a 404 here).
      expect(harness.fake.callCount('token')).toBe(1);
    },
    LARGE_TIMEOUT_MS,
  );

  it(
    're-sync with nothing new: delta calls and listings only, no replies, no content',
    async () => {
      harness.fake.resetCounts();
      const summary = await run.sync();
      expect(summary.mode).toBe('incremental');
      expect(summary.status, summary.error).toBe('success');
      expect(summary.counts.inserted + summary.counts.updated + summary.counts.deleted).toBe(0);
      expect(harness.fake.callCount('replies')).toBe(0);
      expect(harness.fake.callCount('transcript-content')).toBe(0);
      // 200 channel deltas + 10 transcript deltas + the groups delta (membership changes), plus the
      // team and channel listings (1 + 20); no channel's members read again.
      expect(harness.fake.callCount('delta')).toBe(211);
      expect(harness.fake.callCount('graph')).toBe(211 + 21);
      expect(harness.fake.callCount('members')).toBe(0);
    },
    LARGE_TIMEOUT_MS,
  );

  it(
    'new messages and transcripts: proportional work',
    async () => {
      const { tenant } = harness;
      for (let index = 0; index < 10; index++) {
        const { channel } = fixture.channels[index * 7] as (typeof fixture.channels)[number];
        const root = tenant.post(channel, {
          from: fixture.people[0] as never,
          html: `<p>New thread ${index}</p>`,
        });
        for (let reply = 0; reply < 4; reply++)
          tenant.reply(root, { from: fixture.people[1] as never, text: `answer ${reply}` });
      }
      for (let index = 0; index < 5; index++) {
        const organizer = fixture.organizers[index] as (typeof fixture.organizers)[number];
        const meeting = tenant.addMeeting(organizer, `New meeting ${index}`, [fixture.people[2] as never]);
        tenant.addTranscript(
          meeting,
          `WEBVTT\n\n00:00:00.000 --> 00:00:04.000\n<v ${organizer.displayName}>New agenda ${index}</v>\n`,
        );
      }
      harness.fake.resetCounts();
      const summary = await run.sync();
      expect(summary.status, summary.error).toBe('success');
      expect(summary.counts.inserted).toBe(15);
      expect(summary.counts.updated).toBe(0);
      expect(harness.fake.callCount('replies')).toBe(10);
      expect(harness.fake.callCount('transcript-content')).toBe(5);
      expect(harness.fake.callCount('recording-list')).toBe(5);
    },
    LARGE_TIMEOUT_MS,
  );
});
