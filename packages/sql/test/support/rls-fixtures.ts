// Fixtures for the row level security matrix (row-level-security.test.ts): one world with rows of
// BOTH organisations in every table, written as the superuser, plus, per table, the statements each
// actor runs (select all ids, insert into org A / org B, update everything, delete everything).
import { randomUUID } from 'node:crypto';
import type { SqlQueryable } from '../../src/index.js';
import { type Actor, insertConnector, seedTenancy, sha256Hex, type Tenancy } from './schema-database.js';

export type ActorName = 'anon' | 'ownerA' | 'adminA' | 'memberA' | 'memberB' | 'outsider' | 'service_role';
export const actorNames: readonly ActorName[] = [
  'anon',
  'ownerA',
  'adminA',
  'memberA',
  'memberB',
  'outsider',
  'service_role',
];

export type TableName =
  | 'public.connector_configs'
  | 'public.imported_documents'
  | 'public.document_chunks'
  | 'public.connector_sync_logs'
  | 'public.connector_state'
  | 'public.connector_webhook_events'
  | 'public.file_upload_batches'
  | 'storage.objects'
  | 'tributary_private.memberships'
  | 'tributary_private.connector_secrets'
  | 'tributary_private.install_facts';

export type Org = 'A' | 'B';
/** Which organisation a seeded row belongs to ('other' = outside the connector-imports bucket, null = none). */
export type RowOrg = Org | 'other' | null;

export const bucketId = 'connector-imports';
/** A second private bucket: nothing in it is reachable through the connector-imports policies. */
export const otherBucketId = 'rls-other-bucket';

export const secretValues = {
  credentialsA: 'cred-A-9d1f4c',
  credentialsB: 'cred-B-51e0aa',
  webhookSecretA: 'whsec-A-7c2b19',
  webhookSecretB: 'whsec-B-e8340d',
} as const;

export interface TableSpec {
  /** Returns the key of every row the caller can see, as `id`. */
  select: string;
  /** Inserts one row into the given organisation and returns its key as `id`. */
  insert: (org: Org) => { sql: string; params: unknown[] };
  /** Updates every row the caller may update (no WHERE: policies decide) and returns their keys as `id`. */
  update: string;
  /** Deletes every row the caller may delete and returns their keys as `id`. */
  delete: string;
}

export interface RlsWorld {
  tenancy: Tenancy;
  /** Seeded rows per table: symbolic name -> { key as returned by the table's statements, org }. */
  rows: Record<TableName, Record<string, { key: string; org: RowOrg }>>;
  ids: {
    connA: string;
    connAUpload: string;
    connB: string;
    connBUpload: string;
    docASync: string;
    docAMember: string;
    docAAdmin: string;
    docAFormer: string;
    docBSync: string;
    docBMember: string;
    batchA: string;
    batchB: string;
  };
  actor(name: ActorName): Actor;
  tables: Record<TableName, TableSpec>;
}

function firstId(rows: readonly { id: string }[]): string {
  const row = rows[0];
  if (!row) throw new Error('the seed insert returned no row');
  return row.id;
}

/** Seeds the world as the connection's own (superuser) role. Commit it; every test rolls back. */
export async function seedRlsWorld(db: SqlQueryable): Promise<RlsWorld> {
  const tenancy = await seedTenancy(db);
  const org = (o: Org) => (o === 'A' ? tenancy.orgA : tenancy.orgB);

  const connA = await insertConnector(db, tenancy.orgA, { type: 'google_drive', name: 'Drive A' });
  const connAUpload = await insertConnector(db, tenancy.orgA, { type: 'upload', name: 'Uploads A' });
  const connB = await insertConnector(db, tenancy.orgB, { type: 'google_drive', name: 'Drive B' });
  const connBUpload = await insertConnector(db, tenancy.orgB, { type: 'upload', name: 'Uploads B' });
  const connectorOf = (o: Org, upload = false) =>
    o === 'A' ? (upload ? connAUpload : connA) : upload ? connBUpload : connB;

  await db.query('select public.set_connector_secrets($1, $2::jsonb, $3)', [
    connA,
    JSON.stringify({ token: secretValues.credentialsA }),
    secretValues.webhookSecretA,
  ]);
  await db.query('select public.set_connector_secrets($1, $2::jsonb, $3)', [
    connB,
    JSON.stringify({ token: secretValues.credentialsB }),
    secretValues.webhookSecretB,
  ]);

  const insertDocument = async (o: Org, externalId: string, uploadedBy: string | null, upload: boolean) => {
    const { rows } = await db.query<{ id: string }>(
      `insert into public.imported_documents (org_id, connector_id, external_id, title, uploaded_by, processing_status)
       values ($1, $2, $3, $3, $4, 'completed') returning id`,
      [org(o), connectorOf(o, upload), externalId, uploadedBy],
    );
    return firstId(rows);
  };
  const docASync = await insertDocument('A', 'drive-file-a', null, false);
  const docAMember = await insertDocument('A', 'upload-by-member-a', tenancy.memberA, true);
  const docAAdmin = await insertDocument('A', 'upload-by-admin-a', tenancy.adminA, true);
  // Uploaded by someone who has since left the organisation (the outsider).
  const docAFormer = await insertDocument('A', 'upload-by-former-member', tenancy.outsider, true);
  const docBSync = await insertDocument('B', 'drive-file-b', null, false);
  const docBMember = await insertDocument('B', 'upload-by-member-b', tenancy.memberB, true);

  const insertChunk = async (o: Org, documentId: string, index: number) => {
    const content = `chunk ${index} of ${documentId}`;
    const { rows } = await db.query<{ id: string }>(
      `insert into public.document_chunks (org_id, document_id, chunk_index, content, content_hash)
       values ($1, $2, $3, $4, $5) returning id`,
      [org(o), documentId, index, content, sha256Hex(content)],
    );
    return firstId(rows);
  };
  const chunkA1 = await insertChunk('A', docASync, 0);
  const chunkA2 = await insertChunk('A', docAMember, 0);
  const chunkB1 = await insertChunk('B', docBSync, 0);

  const insertSyncLog = async (o: Org) => {
    const { rows } = await db.query<{ id: string }>(
      `insert into public.connector_sync_logs (org_id, connector_id, status, completed_at, documents_synced)
       values ($1, $2, 'success', now(), 3) returning id`,
      [org(o), connectorOf(o)],
    );
    return firstId(rows);
  };
  const logA = await insertSyncLog('A');
  const logB = await insertSyncLog('B');

  const insertState = async (o: Org) => {
    const { rows } = await db.query<{ id: string }>(
      `insert into public.connector_state (org_id, connector_id, namespace, key, value)
       values ($1, $2, 'folders', $3, '{"name": "Projects"}') returning key as id`,
      [org(o), connectorOf(o), `folder-${o}`],
    );
    return firstId(rows);
  };
  const stateA = await insertState('A');
  const stateB = await insertState('B');

  const insertEvent = async (o: Org) => {
    const { rows } = await db.query<{ id: string }>(
      `insert into public.connector_webhook_events (org_id, connector_id, event_type, event_source, event_id, payload)
       values ($1, $2, 'file.changed', 'google_drive', $3, '{"change": 1}') returning id`,
      [org(o), connectorOf(o), `evt-${o}-${randomUUID()}`],
    );
    return firstId(rows);
  };
  const eventA = await insertEvent('A');
  const eventB = await insertEvent('B');

  const insertBatch = async (o: Org, userId: string) => {
    const { rows } = await db.query<{ id: string }>(
      `insert into public.file_upload_batches (org_id, user_id, connector_id, batch_name, total_files)
       values ($1, $2, $3, 'seeded batch', 3) returning id`,
      [org(o), userId, connectorOf(o, true)],
    );
    return firstId(rows);
  };
  const batchA = await insertBatch('A', tenancy.memberA);
  const batchB = await insertBatch('B', tenancy.memberB);

  await db.query(
    `insert into storage.buckets (id, name, public) values ($1, $1, false) on conflict (id) do nothing`,
    [otherBucketId],
  );
  const insertObject = async (bucket: string, name: string, ownerId: string | null) => {
    const { rows } = await db.query<{ id: string }>(
      `insert into storage.objects (bucket_id, name, owner_id, metadata)
       values ($1, $2, $3, '{"size": 10}') returning id`,
      [bucket, name, ownerId],
    );
    return firstId(rows);
  };
  const uploadPath = (o: Org, file: string) => `${org(o)}/connectors/upload/${connectorOf(o, true)}/${file}`;
  const objAMember = await insertObject(bucketId, uploadPath('A', 'by-member.pdf'), tenancy.memberA);
  const objAAdmin = await insertObject(bucketId, uploadPath('A', 'by-admin.pdf'), tenancy.adminA);
  // Uploaded into org A's folder by someone who is not (or no longer) a member of org A.
  const objAForeign = await insertObject(bucketId, uploadPath('A', 'by-member-b.pdf'), tenancy.memberB);
  const objBMember = await insertObject(bucketId, uploadPath('B', 'by-member.pdf'), tenancy.memberB);
  const objBServer = await insertObject(bucketId, uploadPath('B', 'by-server.pdf'), null);
  const objOther = await insertObject(otherBucketId, uploadPath('A', 'elsewhere.pdf'), tenancy.memberA);

  await db.query(
    `insert into tributary_private.install_facts (key, value) values ('rls_test_fact', '{"seeded": true}')`,
  );
  const facts = await db.query<{ key: string }>('select key from tributary_private.install_facts');

  const membershipKey = (userId: string, orgId: string) => `${userId}:${orgId}`;
  const rows: RlsWorld['rows'] = {
    'public.connector_configs': {
      connA: { key: connA, org: 'A' },
      connAUpload: { key: connAUpload, org: 'A' },
      connB: { key: connB, org: 'B' },
      connBUpload: { key: connBUpload, org: 'B' },
    },
    'public.imported_documents': {
      docASync: { key: docASync, org: 'A' },
      docAMember: { key: docAMember, org: 'A' },
      docAAdmin: { key: docAAdmin, org: 'A' },
      docAFormer: { key: docAFormer, org: 'A' },
      docBSync: { key: docBSync, org: 'B' },
      docBMember: { key: docBMember, org: 'B' },
    },
    'public.document_chunks': {
      chunkA1: { key: chunkA1, org: 'A' },
      chunkA2: { key: chunkA2, org: 'A' },
      chunkB1: { key: chunkB1, org: 'B' },
    },
    'public.connector_sync_logs': { logA: { key: logA, org: 'A' }, logB: { key: logB, org: 'B' } },
    'public.connector_state': { stateA: { key: stateA, org: 'A' }, stateB: { key: stateB, org: 'B' } },
    'public.connector_webhook_events': {
      eventA: { key: eventA, org: 'A' },
      eventB: { key: eventB, org: 'B' },
    },
    'public.file_upload_batches': { batchA: { key: batchA, org: 'A' }, batchB: { key: batchB, org: 'B' } },
    'storage.objects': {
      objAMember: { key: objAMember, org: 'A' },
      objAAdmin: { key: objAAdmin, org: 'A' },
      objAForeign: { key: objAForeign, org: 'A' },
      objBMember: { key: objBMember, org: 'B' },
      objBServer: { key: objBServer, org: 'B' },
      objOther: { key: objOther, org: 'other' },
    },
    'tributary_private.memberships': {
      ownerA: { key: membershipKey(tenancy.ownerA, tenancy.orgA), org: 'A' },
      adminA: { key: membershipKey(tenancy.adminA, tenancy.orgA), org: 'A' },
      memberA: { key: membershipKey(tenancy.memberA, tenancy.orgA), org: 'A' },
      memberB: { key: membershipKey(tenancy.memberB, tenancy.orgB), org: 'B' },
    },
    'tributary_private.connector_secrets': {
      secretsA: { key: connA, org: 'A' },
      secretsB: { key: connB, org: 'B' },
    },
    'tributary_private.install_facts': Object.fromEntries(
      facts.rows.map((fact) => [fact.key, { key: fact.key, org: null }]),
    ),
  };

  const tables: Record<TableName, TableSpec> = {
    'public.connector_configs': {
      select: 'select id::text as id from public.connector_configs',
      insert: (o) => ({
        sql: `insert into public.connector_configs (org_id, connector_type, name) values ($1, 'notion', 'New') returning id::text as id`,
        params: [org(o)],
      }),
      update: `update public.connector_configs set description = 'rls' returning id::text as id`,
      delete: 'delete from public.connector_configs returning id::text as id',
    },
    'public.imported_documents': {
      select: 'select id::text as id from public.imported_documents',
      insert: (o) => ({
        sql: `insert into public.imported_documents (org_id, connector_id, external_id) values ($1, $2, 'new-doc') returning id::text as id`,
        params: [org(o), connectorOf(o)],
      }),
      update: `update public.imported_documents set title = 'rls' returning id::text as id`,
      delete: 'delete from public.imported_documents returning id::text as id',
    },
    'public.document_chunks': {
      select: 'select id::text as id from public.document_chunks',
      insert: (o) => ({
        sql: `insert into public.document_chunks (org_id, document_id, chunk_index, content, content_hash)
              values ($1, $2, 99, 'new chunk', $3) returning id::text as id`,
        params: [org(o), o === 'A' ? docASync : docBSync, sha256Hex('new chunk')],
      }),
      update: `update public.document_chunks set metadata = '{"rls": true}' returning id::text as id`,
      delete: 'delete from public.document_chunks returning id::text as id',
    },
    'public.connector_sync_logs': {
      select: 'select id::text as id from public.connector_sync_logs',
      insert: (o) => ({
        sql: `insert into public.connector_sync_logs (org_id, connector_id, status, completed_at)
              values ($1, $2, 'success', now()) returning id::text as id`,
        params: [org(o), connectorOf(o)],
      }),
      update: `update public.connector_sync_logs set metadata = '{"rls": true}' returning id::text as id`,
      delete: 'delete from public.connector_sync_logs returning id::text as id',
    },
    'public.connector_state': {
      select: 'select key as id from public.connector_state',
      insert: (o) => ({
        sql: `insert into public.connector_state (org_id, connector_id, namespace, key, value)
              values ($1, $2, 'folders', $3, '1') returning key as id`,
        params: [org(o), connectorOf(o), `new-folder-${o}`],
      }),
      update: `update public.connector_state set value = '{"rls": true}' returning key as id`,
      delete: 'delete from public.connector_state returning key as id',
    },
    'public.connector_webhook_events': {
      select: 'select id::text as id from public.connector_webhook_events',
      insert: (o) => ({
        sql: `insert into public.connector_webhook_events (org_id, connector_id, event_type, event_source, event_id, payload)
              values ($1, $2, 'file.changed', 'google_drive', $3, '{}') returning id::text as id`,
        params: [org(o), connectorOf(o), `new-evt-${o}`],
      }),
      update: `update public.connector_webhook_events set headers = '{"rls": true}' returning id::text as id`,
      delete: 'delete from public.connector_webhook_events returning id::text as id',
    },
    'public.file_upload_batches': {
      select: 'select id::text as id from public.file_upload_batches',
      // What a client sends: its own user id, status 'uploading' and zero counts (the defaults).
      insert: (o) => ({
        sql: `insert into public.file_upload_batches (org_id, user_id, total_files)
              values ($1, (select auth.uid()), 2) returning id::text as id`,
        params: [org(o)],
      }),
      update: `update public.file_upload_batches set batch_name = 'rls' returning id::text as id`,
      delete: 'delete from public.file_upload_batches returning id::text as id',
    },
    'storage.objects': {
      select: 'select id::text as id from storage.objects',
      insert: (o) => ({
        sql: `insert into storage.objects (bucket_id, name, owner_id)
              values ($1, $2, (select auth.uid())::text) returning id::text as id`,
        params: [bucketId, uploadPath(o, 'new-file.pdf')],
      }),
      update: `update storage.objects set metadata = '{"rls": true}' returning id::text as id`,
      delete: 'delete from storage.objects returning id::text as id',
    },
    'tributary_private.memberships': {
      select: `select user_id::text || ':' || org_id::text as id from tributary_private.memberships`,
      insert: (o) => ({
        sql: `insert into tributary_private.memberships (user_id, org_id, role)
              values (gen_random_uuid(), $1, 'owner') returning user_id::text || ':' || org_id::text as id`,
        params: [org(o)],
      }),
      update: `update tributary_private.memberships set role = 'owner' returning user_id::text || ':' || org_id::text as id`,
      delete: `delete from tributary_private.memberships returning user_id::text || ':' || org_id::text as id`,
    },
    'tributary_private.connector_secrets': {
      select: 'select connector_id::text as id from tributary_private.connector_secrets',
      insert: (o) => ({
        sql: `insert into tributary_private.connector_secrets (connector_id, credentials, webhook_secret)
              values ($1, '{"token": "new"}', 'new-secret') returning connector_id::text as id`,
        params: [connectorOf(o, true)],
      }),
      update: `update tributary_private.connector_secrets set webhook_secret = 'rotated' returning connector_id::text as id`,
      delete: 'delete from tributary_private.connector_secrets returning connector_id::text as id',
    },
    'tributary_private.install_facts': {
      select: 'select key as id from tributary_private.install_facts',
      insert: (o) => ({
        sql: `insert into tributary_private.install_facts (key, value) values ($1, '{}') returning key as id`,
        params: [`rls_new_fact_${o}`],
      }),
      update: `update tributary_private.install_facts set value = '{"rls": true}' returning key as id`,
      delete: 'delete from tributary_private.install_facts returning key as id',
    },
  };

  const actor = (name: ActorName): Actor => {
    if (name === 'anon' || name === 'service_role') return { role: name };
    return { role: 'authenticated', userId: tenancy[name] };
  };

  return {
    tenancy,
    rows,
    ids: {
      connA,
      connAUpload,
      connB,
      connBUpload,
      docASync,
      docAMember,
      docAAdmin,
      docAFormer,
      docBSync,
      docBMember,
      batchA,
      batchB,
    },
    actor,
    tables,
  };
}
