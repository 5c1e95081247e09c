// Fault injection: one request in ten to the fake identity + Graph server answers 429 (with and
// without Retry-After), 500/502/503, stalls past the client's timeout, or has its connection reset
// (seeded, so a failure replays). Every document still arrives, retries stay bounded (each injected
// fault costs exactly one extra request), and the sync log tells the truth.
import type { Server } from 'node:http';
import { injectFaults } from '@tributary/testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { joinWebUrlOf } from './support/fake-graph-server.ts';
import { vttOf } from './support/fake-tenant.ts';
import { pipeline, startTeamsHarness, type TeamsHarness } from './support/teams-harness.ts';

// Above what a loaded CI machine needs for a real answer (a clean run must never time out), and
// below the injected stall, so a `timeout` fault is the client's timeout firing.
const TIMEOUT_MS = 4000;

let harness: TeamsHarness;
beforeEach(async () => {
  harness = await startTeamsHarness({ pageSize: 3 });
});
afterEach(() => harness.close());

function flakyTenant() {
  const { tenant } = harness;
  const people = ['Ada', 'Grace', 'Linus', 'Barbara'].map((name) => tenant.addUser(name));
  const [ada, grace] = people as [(typeof people)[number], (typeof people)[number]];
  const teamIds: string[] = [];
  for (let t = 0; t < 2; t++) {
    const team = tenant.addTeam(`Team ${t}`);
    teamIds.push(team.id);
    for (let c = 0; c < 2; c++) {
      const channel = tenant.addChannel(team, `Channel ${c}`, people, c === 1 ? 'private' : 'standard');
      for (let m = 0; m < 4; m++) {
        const root = tenant.post(channel, {
          from: ada,
          html: `<p>Topic ${t}.${c}.${m}</p>`,
          mentions: [grace],
        });
        tenant.reply(root, { from: grace, text: `Answer to ${t}.${c}.${m}` });
      }
    }
  }
  const meetings = [];
  for (const organizer of [ada, grace]) {
    for (let index = 0; index < 3; index++) {
      const meeting = tenant.addMeeting(organizer, `Meeting ${index}`, people);
      tenant.addTranscript(meeting, vttOf([{ speaker: organizer.displayName, text: `notes ${index}` }]));
      meetings.push(meeting);
    }
  }
  const lone = tenant.addUser('Lone Organiser');
  const extra = tenant.addMeeting(lone, 'One-off', [ada]);
  tenant.addTranscript(extra, vttOf([{ speaker: 'Lone Organiser', text: 'one-off notes' }]));
  return {
    teamIds,
    config: {
      teamIds,
      meetingOrganizerIds: [ada.id, grace.id],
      meetings: [{ organizerId: lone.id, joinWebUrl: joinWebUrlOf(extra) }],
    },
  };
}

describe('a flaky Graph (10% of requests fail)', () => {
  it('stores every document, with requests = clean requests + injected faults, and an honest sync log', async () => {
    const { config } = flakyTenant();
    // A clean run first, to count what a full sync needs.
    const clean = pipeline(harness, config, { timeoutMs: TIMEOUT_MS });
    const cleanSummary = await clean.sync();
    expect(cleanSummary.status, cleanSummary.error).toBe('success');
    const expected = clean.live();
    expect(expected).toHaveLength(16 + 7);
    const cleanRun = await clean.repository.getSyncRun(cleanSummary.runId);
    const cleanRequests = harness.fake.callCount('graph') + harness.fake.callCount('token');
    harness.fake.resetCounts();

    const server = harness.fake.server as unknown as Server;
    const faults = injectFaults(server, {
      rate: 0.1,
      seed: 10,
      hangMs: TIMEOUT_MS + 500,
      faults: ['429', '429-bare', '500', '502', '503', 'timeout', 'reset'],
    });
    const flaky = pipeline(harness, config, { timeoutMs: TIMEOUT_MS });
    const summary = await flaky.sync();
    faults.restore();

    expect(faults.total()).toBeGreaterThan(3);
    expect(faults.injected['429']).toBeGreaterThan(0);
    expect(faults.injected['429-bare']).toBeGreaterThan(0);
    expect(faults.injected.timeout + faults.injected.reset).toBeGreaterThan(0);
    expect(flaky.live()).toEqual(expected);
    expect(summary.status, summary.error).toBe('success');
    expect(summary.counts).toMatchObject({ inserted: expected.length, failed: 0 });
    expect(summary.sweep?.refused).toBe(false);

    // The server did the same work as in the clean run; each fault cost exactly one more request.
    expect(harness.fake.callCount('graph') + harness.fake.callCount('token')).toBe(cleanRequests);
    expect(faults.requests()).toBe(cleanRequests + faults.total());
    // The connector_sync_logs row: success, every document, no failure, every attempt counted.
    const run = await flaky.repository.getSyncRun(summary.runId);
    expect(run).toMatchObject({
      status: 'success',
      documentsSynced: expected.length,
      documentsFailed: 0,
      errorMessage: null,
    });
    expect(run?.apiCallsMade).toBe((cleanRun?.apiCallsMade ?? 0) + faults.total());
  });
});
