// Permission-aware search (sql 0018) through core's repositories: a `source`-mode connector's
// documents reach a member only when the identities the host gives the actor (PGlite repository)
// or the user's JWT (supabase-js over PostgREST) match the document's ACL, and an ACL change
// written by a re-upsert with unchanged content takes effect.
import { randomUUID } from 'node:crypto';
import { createClient } from '@supabase/supabase-js';
import { fromPg, fromPglite, migrate, type SqlQueryable } from '@tributary/sql';
import { createPgliteDatabase, startPostgresServer, startPostgrestServer } from '@tributary/testkit-postgres';
import { describe, expect, it } from 'vitest';
import { type KnowledgeRepository, search } from '../src/index.js';
import { createPgliteRepository } from '../src/pglite.js';
import { createSupabaseRepository } from '../src/supabase.js';
import { axisVector, sha256 } from './repository-contract.js';
import { migrationsFingerprint } from './repository-database-fixture.js';
import { axisEmbedder } from './search-contract.js';

const model = axisEmbedder('test:model-a@1536', { budget: { 0: 1 } });

async function seed(superuser: SqlQueryable, repo: KnowledgeRepository) {
  const orgId = randomUUID();
  const member = randomUUID();
  await superuser.query(
    "insert into tributary_private.memberships (user_id, org_id, role) values ($1, $2, 'member')",
    [member, orgId],
  );
  const { rows } = await superuser.query<{ id: string }>(
    `insert into public.connector_configs (org_id, connector_type, name, permission_mode)
     values ($1, 'google_drive', 'Team Drive', 'source') returning id`,
    [orgId],
  );
  const connectorId = rows[0]?.id ?? '';
  const content = 'The budget for next year';
  const write = async (permissions: unknown) => {
    const [result] = await repo.upsertDocuments(connectorId, [
      {
        externalId: 'budget',
        title: 'Budget',
        contentHash: sha256(content),
        metadata: { permissions } as never,
      },
    ]);
    return result?.documentId ?? '';
  };
  const documentId = await write([{ type: 'user', email: 'ann@example.com', role: 'reader' }]);
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
  return { orgId, member, documentId, write };
}

const found = async (repository: KnowledgeRepository, orgId: string) =>
  (await search({ repository, orgId, query: 'budget', embedder: model, limit: 10 })).hits.map(
    (hit) => hit.documentId,
  );

describe('permission-aware search through core', () => {
  it('PGlite repository: the actor identities decide, and a re-upserted ACL applies', async () => {
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
      const { orgId, member, documentId, write } = await seed(fromPglite(pglite), repo);
      const as = (email?: string, groups?: string[]) =>
        repo.withActor({ role: 'authenticated', userId: member, email, groups });
      expect(await found(as('ann@example.com'), orgId)).toEqual([documentId]);
      expect(await found(as('bob@example.com'), orgId)).toEqual([]);
      expect(await found(repo.withUser(member), orgId)).toEqual([]);
      expect(await found(repo, orgId)).toEqual([documentId]);
      // Same content hash: unchanged, but the ACL now names a group.
      await write([{ type: 'group', email: 'Finance@example.com', role: 'reader' }]);
      expect(await found(as('ann@example.com'), orgId)).toEqual([]);
      expect(await found(as('bob@example.com', ['finance@example.com']), orgId)).toEqual([documentId]);
      // The connector could not read the ACL: hidden.
      await write(null);
      expect(await found(as('bob@example.com', ['finance@example.com']), orgId)).toEqual([]);
    } finally {
      await pglite.close();
    }
  }, 120_000);

  it('supabase-js over PostgREST: the JWT claims decide', async () => {
    const server = await startPostgresServer();
    try {
      const pool = server.pool(await server.createDatabase(), { max: 8 });
      await migrate(fromPg(pool));
      const api = await startPostgrestServer({ pool });
      try {
        const auth = { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false };
        const claims = new Map<string, Record<string, unknown>>();
        const repo = createSupabaseRepository(createClient(api.url, api.serviceRoleKey, { auth }), {
          clientForUser: async (userId) =>
            createClient(api.url, api.anonKey, {
              auth,
              global: {
                headers: {
                  Authorization: `Bearer ${await api.signUserToken(userId, claims.get(userId) ?? {})}`,
                },
              },
            }),
        });
        const { orgId, member, documentId } = await seed(fromPg(pool), repo);
        const other = randomUUID();
        await pool.query(
          "insert into tributary_private.memberships (user_id, org_id, role) values ($1, $2, 'member')",
          [other, orgId],
        );
        claims.set(member, { email: 'ann@example.com' });
        claims.set(other, { email: 'bob@example.com' });
        expect(await found(repo.withUser(member), orgId)).toEqual([documentId]);
        expect(await found(repo.withUser(other), orgId)).toEqual([]);
      } finally {
        await api.stop();
      }
    } finally {
      await server.stop();
    }
  }, 120_000);
});
