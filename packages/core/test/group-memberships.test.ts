// Group memberships a connector reports (sql 0021) through core: syncGroupMemberships batches them
// into the database, a member of a synced group then finds the documents whose ACL names the
// group, and a later complete sync without the group takes that away again. PGlite through the
// SQL store; the same RPCs through supabase-js over PostgREST; batching and bad input in memory.
import { randomUUID } from 'node:crypto';
import { createClient } from '@supabase/supabase-js';
import { fromPg, fromPglite, migrate } from '@tributary/sql';
import { createPgliteDatabase, startPostgresServer, startPostgrestServer } from '@tributary/testkit-postgres';
import { describe, expect, it } from 'vitest';
import {
  type GroupMembership,
  type GroupMembershipStore,
  InvalidConfigError,
  type KnowledgeRepository,
  search,
  syncGroupMemberships,
} from '../src/index.js';
import { createPgliteRepository } from '../src/pglite.js';
import { pgliteDatabase } from '../src/postgres/index.js';
import { createPostgresGroupMembershipStore } from '../src/postgres.js';
import { createSupabaseGroupMembershipStore } from '../src/supabase.js';
import { axisVector, sha256 } from './repository-contract.js';
import { migrationsFingerprint } from './repository-database-fixture.js';
import { axisEmbedder } from './search-contract.js';

const model = axisEmbedder('test:model-a@1536', { budget: { 0: 1 } });

function recordingStore(): GroupMembershipStore & { batches: GroupMembership[][]; pruned: Date[] } {
  const batches: GroupMembership[][] = [];
  const pruned: Date[] = [];
  let clock = 0;
  return {
    batches,
    pruned,
    async replace(_connectorId, groups) {
      batches.push([...groups]);
      clock += 1;
      return { stored: groups.reduce((n, g) => n + g.members.length, 0), syncedAt: new Date(clock * 1000) };
    },
    async prune(_connectorId, since) {
      pruned.push(since);
      return 7;
    },
  };
}

describe('syncGroupMemberships', () => {
  it('stores in batches, then prunes from the first batch’s time; a partial listing prunes nothing', async () => {
    const store = recordingStore();
    async function* groups() {
      for (let i = 0; i < 5; i += 1)
        yield { email: `g${i}@a.example`, members: [{ type: 'user' as const, id: `u${i}` }] };
    }
    const result = await syncGroupMemberships({ store, connectorId: 'c', groups: groups(), batchSize: 2 });
    expect(store.batches.map((b) => b.length)).toEqual([2, 2, 1]);
    expect(store.pruned).toEqual([new Date(1000)]);
    expect(result).toEqual({ groups: 5, stored: 5, pruned: 7 });
    const partial = recordingStore();
    await syncGroupMemberships({
      store: partial,
      connectorId: 'c',
      groups: [{ id: 'g', members: [] }],
      complete: false,
    });
    expect(partial.pruned).toEqual([]);
  });

  it('refuses a bad batch size and a group without id or email, pruning nothing', async () => {
    const store = recordingStore();
    await expect(
      syncGroupMemberships({ store, connectorId: 'c', groups: [], batchSize: 0 }),
    ).rejects.toBeInstanceOf(InvalidConfigError);
    await expect(
      syncGroupMemberships({ store, connectorId: 'c', groups: [{ id: 'g', members: [] }, { members: [] }] }),
    ).rejects.toThrow(/\[tributary\].*groups\[1\].*needs an id or an email/);
    expect(store.pruned).toEqual([]);
  });
});

async function seed(
  superuser: { query: (sql: string, params?: unknown[]) => Promise<unknown> },
  repo: KnowledgeRepository,
) {
  const orgId = randomUUID();
  const member = randomUUID();
  await superuser.query(
    "insert into tributary_private.memberships (user_id, org_id, role) values ($1, $2, 'member')",
    [member, orgId],
  );
  const { rows } = (await superuser.query(
    `insert into public.connector_configs (org_id, connector_type, name, permission_mode)
     values ($1, 'google_drive', 'Team Drive', 'source') returning id`,
    [orgId],
  )) as { rows: { id: string }[] };
  const connectorId = rows[0]?.id ?? '';
  const content = 'The budget for next year';
  const [written] = await repo.upsertDocuments(connectorId, [
    {
      externalId: 'budget',
      title: 'Budget',
      contentHash: sha256(content),
      metadata: { permissions: [{ type: 'group', email: 'Finance@example.com', role: 'reader' }] } as never,
    },
  ]);
  const documentId = written?.documentId ?? '';
  await repo.replaceChunks(documentId, [
    {
      index: 0,
      content,
      contentHash: sha256(content),
      embedding: axisVector({ 0: 1 }),
      embeddingModel: model.id,
    },
  ]);
  await repo.setProcessingStatus([documentId], 'completed');
  return { orgId, member, connectorId, documentId };
}

const finance: GroupMembership = {
  id: 'grp-1',
  email: 'finance@example.com',
  members: [{ type: 'group', email: 'controllers@example.com' }],
};
const controllers: GroupMembership = {
  email: 'controllers@example.com',
  members: [{ type: 'user', email: 'bob@example.com' }],
};

const found = async (repository: KnowledgeRepository, orgId: string) =>
  (await search({ repository, orgId, query: 'budget', embedder: model, limit: 10 })).hits.map(
    (hit) => hit.documentId,
  );

describe('group memberships in the database', () => {
  it('PGlite: a member of a synced (nested) group finds the document until the group is gone', async () => {
    const pglite = await createPgliteDatabase({
      snapshot: {
        key: `tributary-core-repository-${migrationsFingerprint()}`,
        prepare: async (fresh) => {
          await migrate(fromPglite(fresh));
        },
      },
    });
    try {
      const repo = createPgliteRepository(pglite, { actor: { role: 'service_role' } });
      const { orgId, member, connectorId, documentId } = await seed(fromPglite(pglite), repo);
      const bob = repo.withActor({ role: 'authenticated', userId: member, email: 'bob@example.com' });
      expect(await found(bob, orgId)).toEqual([]);
      const store = createPostgresGroupMembershipStore(pgliteDatabase(pglite));
      const first = await syncGroupMemberships({ store, connectorId, groups: [finance, controllers] });
      expect(first).toMatchObject({ groups: 2, stored: 3, pruned: 0 });
      expect(await found(bob, orgId)).toEqual([documentId]);
      // Bob left the controllers group; finance is no longer listed at all.
      const second = await syncGroupMemberships({
        store,
        connectorId,
        groups: [{ ...controllers, members: [] }],
      });
      expect(second.pruned).toBe(2);
      expect(await found(bob, orgId)).toEqual([]);
      await expect(store.replace(randomUUID(), [])).rejects.toMatchObject({ reason: 'not_found' });
    } finally {
      await pglite.close();
    }
  }, 120_000);

  it('supabase-js over PostgREST: the service role syncs, a member’s JWT then opens the document', async () => {
    const server = await startPostgresServer();
    try {
      const pool = server.pool(await server.createDatabase(), { max: 8 });
      await migrate(fromPg(pool));
      const api = await startPostgrestServer({ pool });
      try {
        const auth = { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false };
        const service = createClient(api.url, api.serviceRoleKey, { auth });
        const { createSupabaseRepository } = await import('../src/supabase.js');
        const repo = createSupabaseRepository(service, {
          clientForUser: async (userId) =>
            createClient(api.url, api.anonKey, {
              auth,
              global: {
                headers: {
                  Authorization: `Bearer ${await api.signUserToken(userId, { email: 'bob@example.com' })}`,
                },
              },
            }),
        });
        const { orgId, member, connectorId, documentId } = await seed(fromPg(pool), repo);
        expect(await found(repo.withUser(member), orgId)).toEqual([]);
        const result = await syncGroupMemberships({
          store: createSupabaseGroupMembershipStore(service),
          connectorId,
          groups: [finance, controllers],
        });
        expect(result.stored).toBe(3);
        expect(await found(repo.withUser(member), orgId)).toEqual([documentId]);
        // A member's own key cannot write memberships.
        const memberClient = createClient(api.url, api.anonKey, {
          auth,
          global: { headers: { Authorization: `Bearer ${await api.signUserToken(member, {})}` } },
        });
        await expect(
          createSupabaseGroupMembershipStore(memberClient).replace(connectorId, []),
        ).rejects.toMatchObject({
          reason: 'not_allowed',
        });
      } finally {
        await api.stop();
      }
    } finally {
      await server.stop();
    }
  }, 120_000);
});
