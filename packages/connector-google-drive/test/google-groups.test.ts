// listGoogleGroupMemberships against a local fake of the Admin SDK Directory API through the real
// @googleapis/admin client: every group and member page is read, suspended users and the CUSTOMER
// pseudo-member are left out, nested groups come through as group members, 429 (Retry-After) and
// 503 are retried, and missing settings or bad credentials are typed errors before any request.
import { type GroupMembership, InvalidConfigError, syncGroupMemberships } from '@tributary/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listGoogleGroupMemberships } from '../src/index.js';
import { type FakeDirectory, startFakeDirectory } from './support/fake-directory-server.js';

const credentials = {
  type: 'oauth2' as const,
  clientId: 'client',
  clientSecret: 'secret',
  refreshToken: 'refresh-1',
};

describe('Google Workspace group memberships', () => {
  let directory: FakeDirectory;
  beforeEach(async () => {
    directory = await startFakeDirectory({ refreshToken: 'refresh-1' });
    for (let g = 0; g < 5; g += 1) {
      directory.groups.set(`gid-${g}`, {
        email: `team${g}@a.example`,
        domain: 'a.example',
        members: Array.from({ length: 3 }, (_, m) => ({
          id: `u-${g}-${m}`,
          email: `user${g}.${m}@a.example`,
          type: 'USER' as const,
        })),
      });
    }
    directory.groups
      .get('gid-0')
      ?.members.push(
        { id: 'gid-1', email: 'team1@a.example', type: 'GROUP' },
        { id: 'C01', email: '', type: 'CUSTOMER' },
        { id: 'u-gone', email: 'gone@a.example', type: 'USER', status: 'SUSPENDED' },
      );
    directory.groups.set('gid-b', { email: 'other@b.example', domain: 'b.example', members: [] });
  });
  afterEach(async () => directory.close());

  const settings = () => ({ rootUrl: directory.url, tokenUrl: directory.tokenUrl, pageSize: 2 });
  const collect = async (iterable: AsyncIterable<GroupMembership>) => {
    const out: GroupMembership[] = [];
    for await (const group of iterable) out.push(group);
    return out;
  };

  it('pages through every group and its members, keeping users and nested groups', async () => {
    const groups = await collect(
      listGoogleGroupMemberships({ credentials, customer: 'my_customer', settings: settings() }),
    );
    expect(groups.map((g) => g.email)).toEqual([
      'team0@a.example',
      'team1@a.example',
      'team2@a.example',
      'team3@a.example',
      'team4@a.example',
      'other@b.example',
    ]);
    expect(groups[0]?.members).toEqual([
      { type: 'user', id: 'u-0-0', email: 'user0.0@a.example' },
      { type: 'user', id: 'u-0-1', email: 'user0.1@a.example' },
      { type: 'user', id: 'u-0-2', email: 'user0.2@a.example' },
      { type: 'group', id: 'gid-1', email: 'team1@a.example' },
    ]);
    expect(groups[5]?.members).toEqual([]);
    // 6 groups at 2 per page: 3 group pages; member pages: group 0 has 6 members (3), others 3 (2), empty 1.
    expect(directory.calls.get('groups.list')).toBe(3);
    expect(directory.calls.get('members.list')).toBe(3 + 4 * 2 + 1);
  });

  it('lists one domain when given one', async () => {
    const groups = await collect(
      listGoogleGroupMemberships({ credentials, domain: 'b.example', settings: settings() }),
    );
    expect(groups).toEqual([{ id: 'gid-b', email: 'other@b.example', members: [] }]);
  });

  it('retries 429 (after Retry-After) and 503, then feeds syncGroupMemberships', async () => {
    directory.failNext(1, 429);
    const replaced: GroupMembership[] = [];
    const result = await syncGroupMemberships({
      store: {
        async replace(_connector, groups) {
          replaced.push(...groups);
          return { stored: groups.length, syncedAt: new Date(0) };
        },
        async prune() {
          return 0;
        },
      },
      connectorId: 'drive-1',
      groups: (async function* () {
        let first = true;
        for await (const group of listGoogleGroupMemberships({
          credentials,
          domain: 'a.example',
          settings: settings(),
        })) {
          if (first) directory.failNext(1, 503);
          first = false;
          yield group;
        }
      })(),
    });
    expect(result.groups).toBe(5);
    expect(replaced.map((g) => g.id)).toEqual(['gid-0', 'gid-1', 'gid-2', 'gid-3', 'gid-4']);
    expect(directory.calls.get('failed.429')).toBe(1);
    expect(directory.calls.get('failed.503')).toBe(1);
  }, 30_000);

  it('refuses missing settings and bad credentials before any request', async () => {
    await expect(
      collect(listGoogleGroupMemberships({ credentials, settings: settings() })),
    ).rejects.toBeInstanceOf(InvalidConfigError);
    await expect(
      collect(
        listGoogleGroupMemberships({
          credentials: { type: 'oauth2', clientId: '', clientSecret: 'x', refreshToken: 'y' },
          customer: 'my_customer',
          settings: settings(),
        }),
      ),
    ).rejects.toBeInstanceOf(InvalidConfigError);
    expect(directory.calls.get('api') ?? 0).toBe(0);
  });
});
