// The connector conformance suite from @tributary/testkit. One fake tenant serves every test; each
// source is a fresh team (one channel of 6 threads with replies) and a fresh organiser with 3
// transcribed meetings, read in delta pages of 3 so a full sync yields several checkpoints.
import { testConnector } from '@tributary/testkit';
import { afterAll } from 'vitest';
import { createTeamsConnector, threadExternalId, transcriptExternalId } from '../src/index.js';
import type { FakeMessage } from './support/fake-tenant.ts';
import { vttOf } from './support/fake-tenant.ts';
import { startTeamsHarness, type TeamsHarness } from './support/teams-harness.ts';

let shared: TeamsHarness | undefined;
let sources = 0;

afterAll(async () => {
  await shared?.close();
});

testConnector({
  name: 'teams',
  connector: () => (shared ? shared.connector({ pageSize: 3 }) : createTeamsConnector({ pageSize: 3 })),
  source: async () => {
    shared ??= await startTeamsHarness();
    const { tenant, fake } = shared;
    sources += 1;
    const ada = tenant.addUser(`Ada ${sources}`);
    const grace = tenant.addUser(`Grace ${sources}`);
    const team = tenant.addTeam(`Harbour ${sources}`);
    const channel = tenant.addChannel(team, 'General', [ada, grace]);
    const removable: { id: string; remove: () => void }[] = [];
    let last: FakeMessage | undefined;
    for (let index = 0; index < 6; index++) {
      const root = tenant.post(channel, {
        from: ada,
        html: `<p>Tide table ${index}: high water at <b>0${index}:00</b></p>`,
      });
      tenant.reply(root, { from: grace, text: `Thanks, noted ${index}` });
      last = root;
      removable.push({
        id: threadExternalId(team.id, channel.id, root.id),
        remove: () => tenant.remove(root),
      });
    }
    for (let index = 0; index < 3; index++) {
      const meeting = tenant.addMeeting(ada, `Crew sync ${index}`, [grace]);
      const transcript = tenant.addTranscript(
        meeting,
        vttOf([
          { speaker: ada.displayName, text: `Agenda ${index}` },
          { speaker: grace.displayName, text: 'All good' },
        ]),
      );
      removable.unshift({
        id: transcriptExternalId(ada.id, meeting.id, transcript.id),
        remove: () => tenant.removeArtifact(transcript),
      });
    }
    let version = 0;
    return {
      config: { teamIds: [team.id], meetingOrganizerIds: [ada.id] },
      credentials: shared.credentials,
      async remove(count: number) {
        return removable.splice(0, count).map((item) => {
          item.remove();
          return item.id;
        });
      },
      async change() {
        version += 1;
        const root = last as FakeMessage;
        tenant.edit(root, `<p>Tide table, revision ${version}</p>`);
        return threadExternalId(team.id, channel.id, root.id);
      },
      failNextRequests(count: number, status: 429 | 500 | 502 | 503) {
        fake.failNext(count, status, status === 429 ? { retryAfter: '0' } : {});
      },
    };
  },
  invalidConfigs: [
    { config: { teamIds: [] }, field: 'teamIds' },
    { config: { teamIds: ['not-a-guid'] }, field: 'teamIds[0]' },
    { config: { channels: false }, field: 'meetingOrganizerIds' },
    { config: { replyRecheckHours: -1 }, field: 'replyRecheckHours' },
  ],
});
