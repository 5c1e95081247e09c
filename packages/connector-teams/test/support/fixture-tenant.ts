// The fixture tenant of the tests and the benchmark, generated: by default 20 teams of 10 channels
// (200 channels), 2,000 threads with 3,000 replies (5,000 messages, with mentions and attachment
// links), and 10 organisers with 30 meetings each (300 meetings), every meeting with a transcript.
import type { FakeChannel, FakeMessage, FakeTenant, FakeUser } from './fake-tenant.ts';
import { vttOf } from './fake-tenant.ts';

export interface FixtureShape {
  teams: number;
  channelsPerTeam: number;
  /** Root messages in total, spread over the channels. */
  threads: number;
  /** Replies in total, spread over the threads. */
  replies: number;
  organizers: number;
  meetingsPerOrganizer: number;
}

export const FULL_FIXTURE: FixtureShape = {
  teams: 20,
  channelsPerTeam: 10,
  threads: 2000,
  replies: 3000,
  organizers: 10,
  meetingsPerOrganizer: 30,
};

export interface Fixture {
  teamIds: string[];
  channels: { teamId: string; channel: FakeChannel }[];
  roots: { teamId: string; channel: FakeChannel; root: FakeMessage }[];
  organizers: FakeUser[];
  people: FakeUser[];
  messages: number;
  meetings: number;
}

const WORDS = [
  'harbour',
  'tide',
  'ledger',
  'sprint',
  'invoice',
  'deploy',
  'roadmap',
  'budget',
  'incident',
  'review',
];

function sentence(seed: number, length = 12): string {
  const words: string[] = [];
  for (let index = 0; index < length; index++)
    words.push(WORDS[(seed * 7 + index * 3) % WORDS.length] as string);
  return words.join(' ');
}

export function buildFixture(tenant: FakeTenant, shape: FixtureShape = FULL_FIXTURE): Fixture {
  const people = Array.from({ length: 12 }, (_, index) => tenant.addUser(`Person ${index}`));
  const fixture: Fixture = {
    teamIds: [],
    channels: [],
    roots: [],
    organizers: [],
    people,
    messages: 0,
    meetings: 0,
  };
  for (let t = 0; t < shape.teams; t++) {
    const team = tenant.addTeam(`Team ${t}`);
    fixture.teamIds.push(team.id);
    for (let c = 0; c < shape.channelsPerTeam; c++) {
      const members = [
        people[(t + c) % people.length],
        people[(t + c + 1) % people.length],
        people[(t + c + 2) % people.length],
      ] as FakeUser[];
      fixture.channels.push({
        teamId: team.id,
        channel: tenant.addChannel(team, c === 0 ? 'General' : `Channel ${c}`, members),
      });
    }
  }
  for (let index = 0; index < shape.threads; index++) {
    const { teamId, channel } = fixture.channels[index % fixture.channels.length] as {
      teamId: string;
      channel: FakeChannel;
    };
    const author = people[index % people.length] as FakeUser;
    const root = tenant.post(channel, {
      from: author,
      html: `<p>Thread ${index}: ${sentence(index)}</p>`,
      ...(index % 5 === 0 ? { mentions: [people[(index + 1) % people.length] as FakeUser] } : {}),
      ...(index % 7 === 0
        ? {
            attachments: [
              {
                name: `report-${index}.pdf`,
                url: `https://contoso.sharepoint.com/sites/t/report-${index}.pdf`,
              },
            ],
          }
        : {}),
    });
    fixture.roots.push({ teamId, channel, root });
    fixture.messages += 1;
  }
  for (let index = 0; index < shape.replies; index++) {
    const { root } = fixture.roots[index % fixture.roots.length] as { root: FakeMessage };
    tenant.reply(root, {
      from: people[(index + 3) % people.length] as FakeUser,
      html: `<p>Reply ${index}: ${sentence(index + 1, 8)}</p>`,
    });
    fixture.messages += 1;
  }
  for (let o = 0; o < shape.organizers; o++) {
    const organizer = tenant.addUser(`Organiser ${o}`);
    fixture.organizers.push(organizer);
    for (let m = 0; m < shape.meetingsPerOrganizer; m++) {
      const attendees = [people[m % people.length], people[(m + 5) % people.length]] as FakeUser[];
      const meeting = tenant.addMeeting(organizer, `Weekly ${o}-${m}`, attendees);
      tenant.addTranscript(
        meeting,
        vttOf([
          { speaker: organizer.displayName, text: `Welcome to weekly ${m}. ${sentence(m, 10)}` },
          { speaker: (attendees[0] as FakeUser).displayName, text: sentence(m + 2, 14) },
          { speaker: (attendees[1] as FakeUser).displayName, text: sentence(m + 4, 9) },
        ]),
      );
      fixture.meetings += 1;
    }
  }
  return fixture;
}
