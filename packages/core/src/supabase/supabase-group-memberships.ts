// The group membership store over supabase-js (service role key): 0021's RPCs.
import type { SupabaseClient } from '@supabase/supabase-js';
import type { GroupMembership, GroupMembershipStore } from '../permissions/group-memberships.js';
import { mapPostgrestError } from './map-postgrest-error.js';

export function createSupabaseGroupMembershipStore(client: SupabaseClient): GroupMembershipStore {
  return {
    async replace(connectorId: string, groups: readonly GroupMembership[]) {
      const { data, error } = await client.rpc('replace_group_memberships', {
        p_connector_id: connectorId,
        p_groups: groups,
      });
      if (error) throw mapPostgrestError(error);
      const row = (Array.isArray(data) ? data[0] : data) as { stored?: number; synced_at?: string } | null;
      return { stored: Number(row?.stored ?? 0), syncedAt: new Date(row?.synced_at ?? Date.now()) };
    },
    async prune(connectorId: string, syncedSince: Date) {
      const { data, error } = await client.rpc('prune_group_memberships', {
        p_connector_id: connectorId,
        p_synced_since: syncedSince.toISOString(),
      });
      if (error) throw mapPostgrestError(error);
      return Number(data ?? 0);
    },
  };
}
