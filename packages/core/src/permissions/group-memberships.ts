// Group membership reported by a source (Google Workspace groups, Microsoft 365 groups): stored
// per connector by the database (0021's group_memberships) and used there to expand a member's
// principals, so an ACL that names a group opens the document to the group's members, nested
// groups included. Connectors produce GroupMembership values; syncGroupMemberships stores them in
// batches and, after a complete listing, forgets the groups the source no longer reports.
import { InvalidConfigError } from '../errors/index.js';

/** A member of a group, in the shape of a DocumentPermission: a user, or a nested group. */
export interface GroupMember {
  readonly type: 'user' | 'group';
  /** The provider's id (Drive's permission id, a Directory member id, an Entra object id). */
  readonly id?: string | undefined;
  readonly email?: string | undefined;
}

/** A group and its direct members. Id and email both become keys (ACLs name groups either way). */
export interface GroupMembership {
  readonly id?: string | undefined;
  readonly email?: string | undefined;
  readonly members: readonly GroupMember[];
}

/** Where group memberships go: the database RPCs replace_group_memberships / prune_group_memberships. */
export interface GroupMembershipStore {
  /** Replaces the members of these groups; returns the rows stored and the database time of the call. */
  replace(
    connectorId: string,
    groups: readonly GroupMembership[],
  ): Promise<{ stored: number; syncedAt: Date }>;
  /** Forgets the connector's groups not reported since `syncedSince`; returns the rows removed. */
  prune(connectorId: string, syncedSince: Date): Promise<number>;
}

export interface SyncGroupMembershipsOptions {
  store: GroupMembershipStore;
  connectorId: string;
  /** The source's groups, streamed (a connector's lister pages through them). */
  groups: AsyncIterable<GroupMembership> | Iterable<GroupMembership>;
  /** Groups per store call (at most 1,000; members per call at most 100,000). Default 200. */
  batchSize?: number | undefined;
  /**
   * `true` (default): the listing is complete, so groups not reported by this run are forgotten
   * at the end. Pass `false` for a partial listing (only some groups), which prunes nothing.
   */
  complete?: boolean | undefined;
}

export interface SyncGroupMembershipsResult {
  groups: number;
  stored: number;
  pruned: number;
}

const MAX_GROUPS_PER_CALL = 1000;
const MAX_MEMBERS_PER_CALL = 100_000;

/**
 * Stores a source's group memberships in batches (memory stays flat however many groups) and then
 * prunes the groups the source no longer has. A failure part way leaves earlier batches stored
 * and prunes nothing, so a later complete run converges.
 */
export async function syncGroupMemberships(
  options: SyncGroupMembershipsOptions,
): Promise<SyncGroupMembershipsResult> {
  const batchSize = options.batchSize ?? 200;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_GROUPS_PER_CALL) {
    throw new InvalidConfigError({
      subject: 'group membership sync options',
      issues: [
        { fieldPath: 'batchSize', message: `must be an integer between 1 and ${MAX_GROUPS_PER_CALL}` },
      ],
      hint: 'Pass a batch size between 1 and 1000, or leave it out (200).',
    });
  }
  let batch: GroupMembership[] = [];
  let batchMembers = 0;
  let firstSyncedAt: Date | undefined;
  const result: SyncGroupMembershipsResult = { groups: 0, stored: 0, pruned: 0 };
  const flush = async () => {
    if (batch.length === 0) return;
    const { stored, syncedAt } = await options.store.replace(options.connectorId, batch);
    firstSyncedAt ??= syncedAt;
    result.stored += stored;
    batch = [];
    batchMembers = 0;
  };
  for await (const group of options.groups) {
    if (!group.id && !group.email) {
      throw new InvalidConfigError({
        subject: 'group membership',
        issues: [{ fieldPath: `groups[${result.groups}]`, message: 'needs an id or an email' }],
        hint: 'Report each group with its provider id, its email, or both; nothing of this run was pruned.',
      });
    }
    if (batchMembers + group.members.length > MAX_MEMBERS_PER_CALL) await flush();
    batch.push(group);
    batchMembers += group.members.length;
    result.groups += 1;
    if (batch.length >= batchSize) await flush();
  }
  await flush();
  if (options.complete ?? true) {
    // No group at all: everything reported before is gone, as of now.
    const since = firstSyncedAt ?? (await options.store.replace(options.connectorId, [])).syncedAt;
    result.pruned = await options.store.prune(options.connectorId, since);
  }
  return result;
}
