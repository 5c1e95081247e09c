// What a delta query cannot say on its own: deletes made while a delta link was dead (410 Gone or
// 400 resyncRequired), found by the fresh read of that scope under a coverage guard; and channel
// membership changes with no content change, which must still reach the stored permissions on the
// next incremental sync, cheaply (one groups delta, members re-read only where they may differ).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { threadExternalId, transcriptExternalId } from '../src/index.js';
import { vttOf } from './support/fake-tenant.ts';
import {
  type PipelineHarness,
  pipeline,
  startTeamsHarness,
  type TeamsHarness,
} from './support/teams-harness.ts';

let harness: TeamsHarness;
beforeEach(async () => {
  harness = await startTeamsHarness();
});
afterEach(() => harness.close());

/** The ACL of each document as last stored (read from what the pipeline writes). */
function storedPermissions(run: PipelineHarness): Map<string, { id: string; email: string }[]> {
  const acl = new Map<string, { id: string; email: string }[]>();
  const upsert = run.repository.upsertDocuments.bind(run.repository);
  run.repository.upsertDocuments = (connectorId, documents) => {
    for (const document of documents)
      acl.set(document.externalId, (document.metadata?.permissions ?? []) as never);
    return upsert(connectorId, documents);
  };
  return acl;
}

function tenantWithContent(threads: number) {
  const { tenant } = harness;
  const ada = tenant.addUser('Ada Lovelace');
  const grace = tenant.addUser('Grace Hopper');
  const team = tenant.addTeam('Engineering');
  const channel = tenant.addChannel(team, 'Releases', [ada, grace]);
  const roots = Array.from({ length: threads }, (_, index) =>
    tenant.post(channel, { from: ada, text: `release note ${index}` }),
  );
  const meeting = tenant.addMeeting(ada, 'Planning', [grace]);
  const transcripts = [0, 1].map((index) =>
    tenant.addTranscript(meeting, vttOf([{ speaker: 'Ada Lovelace', text: `agenda ${index}` }])),
  );
  return { tenant, ada, grace, team, channel, roots, meeting, transcripts };
}

describe('deletes while a delta link was dead', () => {
  it.each([
    ['410 Gone', '410'],
    ['400 resyncRequired', 'resyncRequired'],
  ] as const)(
    '%s: the fresh read of each scope deletes what it no longer lists; the next sync is quiet',
    async (_name, answer) => {
      const { tenant, ada, team, channel, roots, meeting, transcripts } = tenantWithContent(4);
      const config = { teamIds: [team.id], meetingOrganizerIds: [ada.id] };
      const run = pipeline(harness, config, { pageSize: 2 });
      expect((await run.sync()).counts.inserted).toBe(6);

      // While the links are dead: a thread and a transcript are deleted, a thread is posted.
      tenant.remove(roots[1] as (typeof roots)[number]);
      tenant.removeArtifact(transcripts[0] as (typeof transcripts)[number]);
      const posted = tenant.post(channel, { from: ada, text: 'posted while the links were dead' });
      harness.fake.expireDeltaTokens(answer);
      const summary = await run.sync();
      expect(summary.mode).toBe('incremental');
      expect(summary.status, summary.error).toBe('success');
      expect(summary.counts).toMatchObject({ inserted: 1, updated: 0, deleted: 2, failed: 0 });
      expect(run.live()).toEqual(
        [
          ...[0, 2, 3].map((index) =>
            threadExternalId(team.id, channel.id, (roots[index] as { id: string }).id),
          ),
          threadExternalId(team.id, channel.id, posted.id),
          transcriptExternalId(ada.id, meeting.id, (transcripts[1] as { id: string }).id),
        ].sort(),
      );

      const quiet = await run.sync();
      expect(quiet.counts.inserted + quiet.counts.updated + quiet.counts.deleted).toBe(0);
    },
  );

  it('a fresh read that lists less than half of a scope deletes nothing and says so (run partial)', async () => {
    const { tenant, ada, team, roots } = tenantWithContent(12);
    const run = pipeline(harness, { teamIds: [team.id], meetingOrganizerIds: [ada.id] }, { pageSize: 5 });
    expect((await run.sync()).counts.inserted).toBe(14);
    for (const root of roots.slice(0, 7)) tenant.remove(root);
    harness.fake.expireDeltaTokens();
    const summary = await run.sync();
    expect(summary.status).toBe('partial');
    expect(summary.counts.deleted).toBe(0);
    expect(summary.errors).toHaveLength(1);
    expect(summary.errors[0]?.message).toMatch(
      /^\[tributary\] \[teams\] a fresh read of teams\/.+ listed 5 of 12 known documents; nothing was deleted \(coverage guard\)/,
    );
    expect(run.live()).toHaveLength(14);
    // A full sync, with the pipeline's own guard over the whole connector (7 of 14 unseen is
    // within it), settles it.
    const full = await run.sync({ mode: 'full' });
    expect(full.status, full.error).toBe('success');
    expect(full.counts.deleted).toBe(7);
    expect(run.live()).toHaveLength(7);
  });
});

describe('membership changes without content changes', () => {
  it('a standard channel: the groups delta reports the team, its threads are stored again with the new members', async () => {
    const { tenant, ada, grace, team, channel } = tenantWithContent(3);
    const linus = tenant.addUser('Linus Torvalds');
    const run = pipeline(harness, { teamIds: [team.id] });
    const acl = storedPermissions(run);
    expect((await run.sync()).counts.inserted).toBe(3);

    // Nothing changed: one groups delta and one channel delta, no members read.
    harness.fake.resetCounts();
    const quiet = await run.sync();
    expect(quiet.counts.inserted + quiet.counts.updated).toBe(0);
    expect(harness.fake.callCount('members')).toBe(0);
    expect(harness.fake.callCount('delta')).toBe(2);

    tenant.setMembers(team, channel, [ada, linus]);
    harness.fake.resetCounts();
    const summary = await run.sync();
    expect(summary.status, summary.error).toBe('success');
    // Stored again with the new ACL; same text, so nothing is chunked or embedded again.
    expect(summary.counts).toMatchObject({ unchanged: 3, updated: 0, skippedByVersion: 0 });
    expect(summary.embeddings.requests).toBe(0);
    expect(harness.fake.callCount('members')).toBe(1);
    expect(acl.size).toBe(3);
    for (const permissions of acl.values()) {
      const emails = permissions.map((p) => p.email);
      expect(emails).toEqual([ada.email, linus.email]);
      expect(emails).not.toContain(grace.email);
    }
    // Handled once: the next sync is quiet again.
    harness.fake.resetCounts();
    const after = await run.sync();
    expect(after.counts.unchanged + after.counts.updated).toBe(0);
    expect(harness.fake.callCount('members')).toBe(0);
  });

  it('a private channel has its own membership: read again on every incremental sync, threads stored again only when it changed, even after a failed attempt', async () => {
    const { tenant } = harness;
    const ada = tenant.addUser('Ada');
    const bob = tenant.addUser('Bob');
    const team = tenant.addTeam('Security');
    const secret = tenant.addChannel(team, 'Incidents', [ada, bob], 'private');
    tenant.post(secret, { from: ada, text: 'incident 1' });
    const run = pipeline(harness, { teamIds: [team.id] });
    const acl = storedPermissions(run);
    expect((await run.sync()).counts.inserted).toBe(1);
    expect([...acl.values()][0]?.map((p) => p.id)).toEqual([ada.id, bob.id]);

    harness.fake.resetCounts();
    expect((await run.sync()).counts.unchanged).toBe(0);
    expect(harness.fake.callCount('members')).toBe(1);

    // The channel fails while being read again with its new members: the next sync still knows
    // the threads carry the old ACL.
    tenant.setMembers(team, secret, [ada]);
    harness.fake.failPath(/\/replies$/, 403);
    const failed = await run.sync();
    expect(failed.status).toBe('partial');
    expect([...acl.values()][0]?.map((p) => p.id)).toEqual([ada.id, bob.id]);
    harness.fake.clearPathFailures();
    const summary = await run.sync();
    expect(summary.status, summary.error).toBe('success');
    expect(summary.counts.unchanged).toBe(1);
    expect([...acl.values()][0]?.map((p) => p.id)).toEqual([ada.id]);
  });
});
