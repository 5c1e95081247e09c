// The connector conformance suite from @tributary/testkit. One fake Zoom serves every test; each
// source is a fresh user with 9 recent recordings (transcripts, chat, one without a transcript),
// listed in pages of 3 so a full sync yields several checkpoints.
import { testConnector } from '@tributary/testkit';
import { afterAll } from 'vitest';
import { createZoomConnector } from '../src/index.js';
import { zoomVtt } from './support/fake-zoom-server.js';
import { daysAgo, startZoomHarness, type ZoomHarness } from './support/zoom-harness.js';

let shared: ZoomHarness | undefined;
let sources = 0;

afterAll(async () => {
  await shared?.close();
});

testConnector({
  name: 'zoom',
  connector: () => (shared ? shared.connector({ pageSize: 3 }) : createZoomConnector({ pageSize: 3 })),
  source: async () => {
    shared ??= await startZoomHarness();
    const { fake } = shared;
    sources += 1;
    const user = fake.addUser(`host${sources}@example.com`, `Host ${sources}`);
    const uuids: string[] = [];
    for (let index = 0; index < 9; index++) {
      const meeting = fake.addRecording({
        hostId: user,
        topic: `Harbour planning ${index}`,
        // Within the incremental overlap, so an incremental sync lists them again.
        startTime: daysAgo(index % 2, 8 + index),
        ...(index === 4
          ? {}
          : {
              transcript: zoomVtt([
                ['Ada', `Tides for meeting ${index}`],
                ['Grace', 'Agreed, sail at dawn'],
              ]),
            }),
        ...(index % 3 === 0 ? { chat: `00:00:10\t From  Ada : notes for ${index}\n` } : {}),
        participants: [{ name: 'Grace', email: 'grace@example.com', userId: 'ugrace' }],
      });
      uuids.push(meeting.uuid);
    }
    let version = 0;
    return {
      config: { users: [user] },
      credentials: shared.s2s,
      async remove(count: number) {
        const removed = uuids.splice(0, count);
        for (const uuid of removed) fake.trash(uuid);
        return removed;
      },
      async change() {
        version += 1;
        const uuid = uuids[uuids.length - 1] as string;
        fake.setTranscript(uuid, zoomVtt([['Ada', `A storm, then sun (${version})`]]));
        return uuid;
      },
      failNextRequests(count: number, status: 429 | 500 | 502 | 503) {
        // Zoom's 429s usually carry no Retry-After: the connector backs off on its own.
        fake.failNext(count, status);
      },
    };
  },
  invalidConfigs: [
    { config: { users: [] }, field: 'users' },
    { config: { users: 'all', startDate: '01/02/2026' }, field: 'startDate' },
    { config: { users: 'me', overlapDays: -1 }, field: 'overlapDays' },
    {
      config: { users: 'me' },
      credentials: { type: 'server_to_server', accountId: 'a', clientId: 'b' },
      field: 'clientSecret',
      title: 'credentials without clientSecret',
    },
  ],
});
