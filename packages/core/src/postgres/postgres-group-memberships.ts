// The group membership store over SQL (node-postgres, PGlite): 0021's service-role RPCs.
import type { GroupMembership, GroupMembershipStore } from '../permissions/group-memberships.js';
import { mapDatabaseError } from './map-database-error.js';
import type { SqlQueryable } from './sql-database.js';

export function createPostgresGroupMembershipStore(db: SqlQueryable): GroupMembershipStore {
  return {
    async replace(connectorId: string, groups: readonly GroupMembership[]) {
      try {
        const { rows } = await db.query<{ stored: number; synced_at: Date | string }>(
          'select stored, synced_at from public.replace_group_memberships($1, $2::jsonb)',
          [connectorId, JSON.stringify(groups)],
        );
        const row = rows[0];
        return { stored: Number(row?.stored ?? 0), syncedAt: new Date(row?.synced_at ?? Date.now()) };
      } catch (error) {
        throw mapDatabaseError(error);
      }
    },
    async prune(connectorId: string, syncedSince: Date) {
      try {
        const { rows } = await db.query<{ removed: number }>(
          'select public.prune_group_memberships($1, $2) as removed',
          [connectorId, syncedSince.toISOString()],
        );
        return Number(rows[0]?.removed ?? 0);
      } catch (error) {
        throw mapDatabaseError(error);
      }
    },
  };
}
