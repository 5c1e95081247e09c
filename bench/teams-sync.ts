// What does a Microsoft Teams sync cost in Graph calls and time? The real connector
// (@azure/msal-node and @microsoft/microsoft-graph-client) against the fake identity + Graph
// servers of the connector's tests (https with a test CA generated for the run), through `runSync`
// into the in-memory repository with the offline lexical embedder.
//
// - Source: the fixture tenant of the tests: 20 teams, 200 channels, 2,000 threads with 3,000
//   replies (5,000 messages), 10 organisers with 300 meetings, each with a WebVTT transcript.
// - Phases: (1) initial full sync, (2) incremental re-sync with nothing new (target: delta calls
//   only, no content downloads), (3) incremental after 50 new messages (10 threads of a root and 4
//   replies) and 5 new transcripts (target: proportional), (4) incremental, nothing new again,
//   (5) full re-sync with nothing new. Each prints wall time, Graph calls by kind and the counts.
// - Request budget: BENCH_TEAMS_RPS (default 10,000 requests/s, i.e. out of the way; the
//   connector's default budget is 20/s, under which the initial sync takes at least calls/20 s).
//
// Run: pnpm --filter @tributary/bench teams   (after building the workspace packages)
import { randomUUID } from 'node:crypto';
import { createTeamsConnector } from '@tributary/connector-teams';
import { createConnectorInstance, createLexicalEmbedder, runSync } from '@tributary/core';
import { createMemoryRepository } from '@tributary/core/testing';
import type {
  FakeGraph,
  startFakeGraph as StartFakeGraph,
} from '../packages/connector-teams/test/support/fake-graph-server.ts';
import type { FakeTenant as FakeTenantClass } from '../packages/connector-teams/test/support/fake-tenant.ts';
import type { buildFixture as BuildFixture } from '../packages/connector-teams/test/support/fixture-tenant.ts';
import type { testCertificate as TestCertificate } from '../packages/connector-teams/test/support/test-certificate.ts';

const RPS = Number(process.env.BENCH_TEAMS_RPS ?? 10_000);

// .ts modules loaded by URL: the bench runs with --experimental-strip-types, and the fakes live
// with the connector's tests.
const support = (name: string) =>
  new URL(`../packages/connector-teams/test/support/${name}`, import.meta.url).href;
const { startFakeGraph } = (await import(support('fake-graph-server.ts'))) as {
  startFakeGraph: typeof StartFakeGraph;
};
const { FakeTenant } = (await import(support('fake-tenant.ts'))) as { FakeTenant: typeof FakeTenantClass };
const { buildFixture } = (await import(support('fixture-tenant.ts'))) as {
  buildFixture: typeof BuildFixture;
};
const { testCertificate } = (await import(support('test-certificate.ts'))) as {
  testCertificate: typeof TestCertificate;
};

const KINDS = ['graph', 'delta', 'replies', 'transcript-content', 'recording-list', 'members', 'token'];
function callsTable(fake: FakeGraph): string {
  return KINDS.map((kind) => `${kind}=${fake.callCount(kind)}`).join(' ');
}

const cert = await testCertificate();
const tenant = new FakeTenant();
const fake = await startFakeGraph({ tenant, cert });
const fixture = buildFixture(tenant);
const connector = createTeamsConnector({
  authorityHost: fake.url,
  graphBaseUrl: fake.url,
  fetch: cert.fetch,
  concurrency: 16,
  rateLimit: { requestsPerSecond: RPS, burst: RPS },
});
const credentials = {
  type: 'client_credentials',
  tenantId: fake.tenantId,
  clientId: fake.clientId,
  clientSecret: fake.clientSecret,
};
const config = { meetingOrganizerIds: fixture.organizers.map((user) => user.id) };
await createConnectorInstance(connector, { config, credentials }).check();

const repository = createMemoryRepository();
const connectorId = repository.addConnector({ orgId: randomUUID(), connectorType: 'teams' }).id;
const embedder = createLexicalEmbedder({ dimensions: 256 });

async function phase(name: string, mode: 'full' | 'incremental') {
  fake.resetCounts();
  const started = performance.now();
  const summary = await runSync({
    connector,
    config,
    credentials,
    connectorId,
    repository,
    embedder,
    mode,
    concurrency: { load: 16 },
  });
  const wallMs = performance.now() - started;
  const c = summary.counts;
  console.log(
    `${name.padEnd(44)} ${summary.mode.padEnd(11)} ${summary.status.padEnd(8)} ${(wallMs / 1000).toFixed(2).padStart(7)} s  ` +
      `seen ${c.seen} inserted ${c.inserted} updated ${c.updated} unchanged ${c.unchanged} skipped ${c.skippedByVersion} ` +
      `deleted ${c.deleted} failed ${c.failed}  embedding requests ${summary.embeddings.requests}`,
  );
  console.log(`${''.padEnd(44)} ${callsTable(fake)} (connector counted ${summary.apiCalls})`);
  return summary;
}

console.log(
  `Teams connector bench: ${fixture.teamIds.length} teams, ${fixture.channels.length} channels, ${fixture.messages} messages ` +
    `(${fixture.roots.length} threads), ${fixture.meetings} meetings with transcripts, budget ${RPS} requests/s\n`,
);
await phase('1. initial full sync', 'full');
await phase('2. incremental re-sync, nothing new', 'incremental');

for (let index = 0; index < 10; index++) {
  const { channel } = fixture.channels[index * 19] as (typeof fixture.channels)[number];
  const root = tenant.post(channel, {
    from: fixture.people[index % 12] as never,
    html: `<p>New thread ${index}</p>`,
  });
  for (let reply = 0; reply < 4; reply++)
    tenant.reply(root, { from: fixture.people[(index + reply + 1) % 12] as never, text: `answer ${reply}` });
}
for (let index = 0; index < 5; index++) {
  const organizer = fixture.organizers[index * 2] as (typeof fixture.organizers)[number];
  const meeting = tenant.addMeeting(organizer, `New meeting ${index}`, [fixture.people[index] as never]);
  tenant.addTranscript(
    meeting,
    `WEBVTT\n\n00:00:00.000 --> 00:00:04.000\n<v ${organizer.displayName}>New agenda ${index}</v>\n`,
  );
}
await phase('3. incremental, 50 new messages + 5 transcripts', 'incremental');
await phase('4. incremental, nothing new', 'incremental');
await phase('5. full re-sync, nothing new', 'full');

// Membership: one channel of one team gets new members (a team change: the groups delta reports
// it), nothing else changes.
{
  const { teamId, channel } = fixture.channels[0] as (typeof fixture.channels)[number];
  const team = tenant.teams.get(teamId);
  if (!team) throw new Error('fixture team missing');
  tenant.setMembers(team, channel, fixture.people.slice(3, 6) as never);
}
await phase("6. incremental, one channel's members changed", 'incremental');

// Every delta link expires while 20 threads and 2 transcripts are deleted.
for (let index = 0; index < 20; index++) {
  const { root } = fixture.roots[index * 97] as (typeof fixture.roots)[number];
  tenant.remove(root);
}
for (const transcript of [...tenant.transcripts.values()].slice(0, 2)) tenant.removeArtifact(transcript);
fake.expireDeltaTokens();
await phase('7. incremental, links expired, 22 deletes', 'incremental');

await fake.close();
await cert.close();
