// listTeamsGroupMemberships through the real Graph client against the fake Graph server's
// /groups, /groups/{id}/members and /groups/{id}/transitiveMembers: every page is read
// (@odata.nextLink), nested groups are listed once each (cycles included), transitive mode
// flattens them, 429 is retried after Retry-After, 403 is an AuthError naming GroupMember.Read.All.
// End to end on migrated PGlite: a `source`-mode connector with `channelPermissions: 'team'`
// stores threads readable by the team's group; after group sync a (nested) member finds the
// thread and a non-member does not; a member who leaves loses it on the next group sync.
import { createHash, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  AuthError,
  createLexicalEmbedder,
  type DocumentPermission,
  type GroupMembership,
  InvalidConfigError,
  runSync,
  search,
  syncGroupMemberships,
} from '@tributary/core';
import {
  createPgliteRepository,
  createPostgresGroupMembershipStore,
  pgliteDatabase,
} from '@tributary/core/pglite';
import { fromPglite, migrate, migrationsDirectory } from '@tributary/sql';
import { createPgliteDatabase } from '@tributary/testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  listTeamsGroupMemberships,
  type TeamsGroupMembershipsOptions,
  threadExternalId,
} from '../src/index.js';
import type { FakeGroup, FakeTeam, FakeUser } from './support/fake-tenant.ts';
import { collectChanges, startTeamsHarness, type TeamsHarness, upserts } from './support/teams-harness.ts';

let harness: TeamsHarness;
beforeEach(async () => {
  harness = await startTeamsHarness();
});
afterEach(() => harness.close());

const collect = async (options: Partial<TeamsGroupMembershipsOptions> = {}) => {
  const out: GroupMembership[] = [];
  for await (const group of listTeamsGroupMemberships({
    credentials: harness.credentials,
    settings: harness.settings,
    ...options,
  }))
    out.push(group);
  return out;
};

interface Directory {
  users: FakeUser[];
  engineering: FakeTeam;
  sales: FakeTeam;
  contractors: FakeGroup;
  auditors: FakeGroup;
}

/** Engineering (team) ⊃ 5 users + Contractors ⊃ 1 user + Auditors ⊃ 1 user + Engineering (a cycle); Sales (team) ⊃ 1 user. */
function directory(): Directory {
  const { tenant } = harness;
  const users = Array.from({ length: 8 }, (_, index) => tenant.addUser(`User ${index}`));
  const engineering = tenant.addTeam('Engineering');
  const sales = tenant.addTeam('Sales');
  tenant.addGroup('Not a team'); // a plain group: not listed unless nested into a team
  const contractors = tenant.addGroup('Contractors');
  const auditors = tenant.addGroup('Auditors');
  const [u0, u1, u2, u3, u4, u5, u6, u7] = users as [FakeUser, ...FakeUser[]] as FakeUser[];
  tenant.setGroupMembers(engineering.id, [
    u0 as FakeUser,
    u1 as FakeUser,
    u2 as FakeUser,
    u3 as FakeUser,
    u4 as FakeUser,
    contractors,
  ]);
  tenant.setGroupMembers(contractors.id, [u5 as FakeUser, auditors]);
  tenant.setGroupMembers(auditors.id, [u6 as FakeUser, tenant.groups.get(engineering.id) as FakeGroup]);
  tenant.setGroupMembers(sales.id, [u7 as FakeUser]);
  return { users, engineering, sales, contractors, auditors };
}

const user = (u: FakeUser) => ({ type: 'user', id: u.id, email: u.email });

describe('listTeamsGroupMemberships', () => {
  it('pages through every team and its members, then each nested group once (cycles included)', async () => {
    const d = directory();
    const groups = await collect({ pageSize: 2 });
    expect(groups.map((g) => g.id)).toEqual([d.engineering.id, d.sales.id, d.contractors.id, d.auditors.id]);
    expect(groups[0]).toEqual({
      id: d.engineering.id,
      email: 'engineering@contoso.test',
      members: [
        ...d.users.slice(0, 5).map(user),
        { type: 'group', id: d.contractors.id, email: 'contractors@contoso.test' },
      ],
    });
    expect(groups[2]?.members).toEqual([
      user(d.users[5] as FakeUser),
      { type: 'group', id: d.auditors.id, email: 'auditors@contoso.test' },
    ]);
    expect(groups[3]?.members).toEqual([
      user(d.users[6] as FakeUser),
      { type: 'group', id: d.engineering.id, email: 'engineering@contoso.test' },
    ]);
    // Pages of 2: the team listing 1 (2 teams), Engineering 3 (6), Sales 1, Contractors 1, Auditors 1.
    expect(harness.fake.callCount('groups')).toBe(1 + 3 + 1 + 1 + 1);
  });

  it('transitive mode: each group with every user reachable through nesting, and no group rows', async () => {
    const d = directory();
    const groups = await collect({ transitive: true, groupIds: [d.engineering.id] });
    expect(groups).toHaveLength(1);
    expect(groups[0]?.members).toEqual(d.users.slice(0, 7).map(user));
  });

  it('lists the given groups only and skips one that does not exist', async () => {
    const d = directory();
    const groups = await collect({ groupIds: [d.sales.id, randomUUID()] });
    expect(groups).toEqual([
      { id: d.sales.id, email: 'sales@contoso.test', members: [user(d.users[7] as FakeUser)] },
    ]);
  });

  it('retries a 429 after its Retry-After and returns the same groups', async () => {
    const d = directory();
    harness.fake.resetCounts();
    const before = await collect({ groupIds: [d.sales.id] });
    const calls = harness.fake.callCount('graph');
    harness.fake.resetCounts();
    harness.fake.failNext(1, 429, { retryAfter: '1' });
    const after = await collect({ groupIds: [d.sales.id] });
    expect(after).toEqual(before);
    // The throttled request was sent again: one Graph call more than without the 429.
    expect(harness.fake.callCount('graph')).toBe(calls + 1);
  }, 30_000);

  it('turns a 403 into an AuthError naming GroupMember.Read.All', async () => {
    directory();
    harness.fake.failPath(/^\/groups/, 403);
    const failure = await collect().catch((error: unknown) => error);
    expect(AuthError.isInstance(failure)).toBe(true);
    expect((failure as Error).message).toMatch(/GroupMember\.Read\.All/);
    expect((failure as Error).message).toMatch(/admin consent/);
    expect(String((failure as Error).message)).not.toContain(harness.credentials.clientSecret);
  });

  it('refuses bad options before any request', async () => {
    await expect(collect({ groupIds: ['not-a-guid'] })).rejects.toBeInstanceOf(InvalidConfigError);
    await expect(collect({ pageSize: 1000 })).rejects.toBeInstanceOf(InvalidConfigError);
    await expect(
      collect({ credentials: { ...harness.credentials, clientSecret: '' } }),
    ).rejects.toBeInstanceOf(InvalidConfigError);
    expect(harness.fake.callCount('graph')).toBe(0);
  });
});

function migrationsFingerprint(): string {
  const hash = createHash('sha256');
  for (const file of readdirSync(migrationsDirectory).sort())
    hash.update(file).update(readFileSync(join(migrationsDirectory, file)));
  return hash.digest('hex').slice(0, 16);
}

describe("channelPermissions: 'team'", () => {
  it('names the team group on standard channels and still lists a private channel’s members', async () => {
    const d = directory();
    const { tenant } = harness;
    const open = tenant.addChannel(d.engineering, 'General', d.users.slice(0, 3));
    const closed = tenant.addChannel(d.engineering, 'Secret', d.users.slice(0, 2), 'private');
    tenant.post(open, { from: d.users[0] as FakeUser, text: 'open thread' });
    tenant.post(closed, { from: d.users[0] as FakeUser, text: 'closed thread' });
    const documents = upserts(
      await collectChanges(harness.connector(), {
        config: { channelPermissions: 'team' },
        credentials: harness.credentials,
      }),
    );
    const acl = Object.fromEntries(
      documents.map((document) => [document.metadata?.channelName, document.permissions]),
    );
    expect(acl.General).toEqual([{ type: 'group', id: d.engineering.id, role: 'reader' }]);
    expect(acl.Secret?.map((p: DocumentPermission) => [p.type, p.email])).toEqual([
      ['user', (d.users[0] as FakeUser).email],
      ['user', (d.users[1] as FakeUser).email],
    ]);
    // Only the private channel's members were read.
    expect(harness.fake.callCount('members')).toBe(1);
  });

  it('refuses an unknown mode', () => {
    expect(() => harness.connector().configSchema.parse({ channelPermissions: 'everyone' })).toThrow(
      /'members' or 'team'/,
    );
  });
});

describe('channel threads readable by the team group, in source mode on PGlite', () => {
  it('a (nested) group member finds the thread, a non-member does not, and a leaver loses it', async () => {
    const d = directory();
    const { tenant } = harness;
    const channel = tenant.addChannel(d.engineering, 'Releases', d.users.slice(0, 2));
    const root = tenant.post(channel, {
      from: d.users[0] as FakeUser,
      text: 'The lighthouse release ships on Friday',
    });
    const pglite = await createPgliteDatabase({
      snapshot: {
        key: `connector-teams-${migrationsFingerprint()}`,
        prepare: (fresh) => migrate(fromPglite(fresh)).then(() => {}),
      },
    });
    try {
      const orgId = randomUUID();
      const { rows } = await pglite.query<{ id: string }>(
        `insert into public.connector_configs (org_id, connector_type, name, permission_mode)
         values ($1, 'teams', 'Teams', 'source') returning id`,
        [orgId],
      );
      const connectorId = rows[0]?.id as string;
      // Tributary accounts: one in the team (through Contractors > Auditors), one only in Sales.
      const [auditor, salesperson] = [randomUUID(), randomUUID()];
      for (const account of [auditor, salesperson])
        await pglite.query(
          "insert into tributary_private.memberships (user_id, org_id, role) values ($1, $2, 'member')",
          [account, orgId],
        );
      const repository = createPgliteRepository(pglite, { actor: { role: 'service_role' } });
      const embedder = createLexicalEmbedder();
      const summary = await runSync({
        connector: harness.connector(),
        config: { channelPermissions: 'team' },
        credentials: harness.credentials,
        connectorId,
        repository,
        embedder,
      });
      expect(summary.status).toBe('success');
      const stored = await pglite.query<{ external_id: string; permissions: unknown }>(
        `select external_id, metadata -> 'permissions' as permissions from public.imported_documents
          where connector_id = $1`,
        [connectorId],
      );
      const externalId = threadExternalId(d.engineering.id, channel.id, root.id);
      expect(stored.rows).toEqual([
        { external_id: externalId, permissions: [{ type: 'group', id: d.engineering.id, role: 'reader' }] },
      ]);
      // The channel's members were not listed: the group decides.
      expect(harness.fake.callCount('members')).toBe(0);

      const store = createPostgresGroupMembershipStore(pgliteDatabase(pglite));
      const found = async (userId: string, email: string) =>
        (
          await search({
            repository: repository.withActor({ role: 'authenticated', userId, email }),
            orgId,
            query: 'lighthouse release',
            mode: 'fullText',
            limit: 10,
          })
        ).hits.map((hit) => hit.title);
      const auditorEmail = (d.users[6] as FakeUser).email;
      const salesEmail = (d.users[7] as FakeUser).email;
      expect(await found(auditor, auditorEmail)).toEqual([]);

      const sync = () =>
        syncGroupMemberships({
          store,
          connectorId,
          groups: listTeamsGroupMemberships({ credentials: harness.credentials, settings: harness.settings }),
        });
      expect((await sync()).groups).toBe(4);
      expect(await found(auditor, auditorEmail)).toEqual([
        'Engineering / Releases: The lighthouse release ships on Friday',
      ]);
      expect(await found(salesperson, salesEmail)).toEqual([]);

      // The auditor leaves Auditors: the next group sync takes the thread away, with no re-sync of Teams.
      tenant.setGroupMembers(d.auditors.id, [tenant.groups.get(d.engineering.id) as FakeGroup]);
      await sync();
      expect(await found(auditor, auditorEmail)).toEqual([]);
    } finally {
      await pglite.close();
    }
  }, 120_000);
});
