// Connector management and secrets encrypted at rest, on the memory repository, PGlite, a real
// PostgreSQL server and supabase-js over the PostgREST-compatible endpoint (service role): the same
// cases through each adapter (the SQL adapters call the 0011 RPCs).
import { randomBytes, randomUUID } from 'node:crypto';
import { createClient } from '@supabase/supabase-js';
import { fromPg, fromPglite, migrate } from '@tributary/sql';
import { createPgliteDatabase, startPostgresServer, startPostgrestServer } from '@tributary/testkit-postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  ConnectorTypeMismatchError,
  createConnectorManager,
  createLexicalEmbedder,
  createSecretKeyRing,
  defineConnector,
  InvalidConfigError,
  type KnowledgeRepository,
  MissingSecretKeyError,
  runSync,
  SecretDecryptionError,
  secretKeyRingFromEnv,
  UnsupportedConnectorError,
} from '../src/index.js';
import { createPgliteRepository } from '../src/pglite.js';
import { createNodePostgresRepository } from '../src/postgres.js';
import { createSupabaseRepository } from '../src/supabase.js';
import { createMemoryRepository } from '../src/testing.js';
import { migrationsFingerprint } from './repository-database-fixture.js';

const seen: Array<{ token: string; folder: string; maxPages: number }> = [];
const feed = defineConnector({
  type: 'json_feed',
  configSchema: z.object({ folder: z.string().min(1), maxPages: z.number().int().default(10) }),
  credentialsSchema: z.object({ token: z.string().min(1) }),
  async check() {},
  async *sync(ctx) {
    seen.push({ token: ctx.credentials.token, folder: ctx.config.folder, maxPages: ctx.config.maxPages });
    yield {
      kind: 'upsert',
      document: { externalId: 'a', title: 'A', content: { kind: 'text', text: 'hello feed' } },
    };
    yield { kind: 'listing-complete', complete: true };
  },
});
const other = defineConnector({ type: 'other_feed', async check() {}, async *sync() {} });

const key = () => new Uint8Array(randomBytes(32));
const k1 = createSecretKeyRing([['k1', key()]]);
const k2 = createSecretKeyRing([
  ['k2', key()],
  ['k1', k1.key('k1') as Uint8Array],
]);

interface Target {
  repository: KnowledgeRepository;
  vectors: boolean;
  close(): Promise<void>;
}
const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const close of cleanups) await close();
});

const targets: Array<[string, () => Promise<Target>]> = [
  ['memory', async () => ({ repository: createMemoryRepository(), vectors: true, close: async () => {} })],
  [
    'PGlite',
    async () => {
      const pglite = await createPgliteDatabase({
        snapshot: {
          key: `tributary-core-manager-${migrationsFingerprint()}`,
          prepare: (fresh) => migrate(fromPglite(fresh)).then(() => undefined),
        },
      });
      return { repository: createPgliteRepository(pglite), vectors: true, close: () => pglite.close() };
    },
  ],
  [
    'PostgreSQL server',
    async () => {
      const server = await startPostgresServer();
      const pool = server.pool(await server.createDatabase(), { max: 4 });
      await migrate(fromPg(pool));
      return {
        repository: createNodePostgresRepository(pool),
        vectors: true,
        close: async () => {
          await pool.end();
          await server.stop();
        },
      };
    },
  ],
  [
    'supabase-js (service role)',
    async () => {
      const server = await startPostgresServer();
      const pool = server.pool(await server.createDatabase(), { max: 8 });
      await migrate(fromPg(pool));
      const api = await startPostgrestServer({ pool });
      const client = createClient(api.url, api.serviceRoleKey, {
        auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
      });
      return {
        repository: createSupabaseRepository(client),
        vectors: true,
        close: async () => {
          await api.stop();
          await server.stop();
        },
      };
    },
  ],
];

describe.each(targets)('connector management on %s', (_name, open) => {
  let target: Target;
  const setup = async () => {
    if (!target) {
      target = await open();
      cleanups.push(() => target.close());
    }
    return target;
  };

  it('creates from the plugin, rejects a misspelt field by name, and stores config as written', async () => {
    const { repository } = await setup();
    const manager = createConnectorManager({ repository, keyRing: k1 });
    const orgId = randomUUID();
    const typo = await manager
      // @ts-expect-error `maxPage` is not a field of the plugin's config: a compile error.
      .create(feed, { orgId, config: { folder: 'x', maxPage: 3 } })
      .catch((error: unknown) => error);
    expect(InvalidConfigError.isInstance(typo)).toBe(true);
    expect(typo).toMatchObject({ fieldPath: 'maxPage', subject: 'config' });
    expect((typo as Error).message).toMatch(/did you mean "maxPages"/);
    const missing = await manager.create(feed, { orgId, config: {} }).catch((error: unknown) => error);
    expect(missing).toMatchObject({ fieldPath: 'folder' });
    expect(await manager.list({ orgId })).toEqual([]);

    const row = await manager.create(feed, {
      orgId,
      config: { folder: 'inbox' },
      credentials: { token: 'tok-1' },
    });
    expect(row).toMatchObject({
      orgId,
      connectorType: 'json_feed',
      name: 'Json Feed',
      settings: { folder: 'inbox' },
    });
    const details = await manager.show(row.id);
    expect(details.status).toMatchObject({ liveDocuments: 0, hasCredentials: true, lastRun: null });
    const updated = await manager.update(feed, row.id, {
      config: { folder: 'archive', maxPages: 2 },
      name: 'Archive',
    });
    expect(updated).toMatchObject({ name: 'Archive', settings: { folder: 'archive', maxPages: 2 } });
    await expect(manager.update(other, row.id, { name: 'x' })).rejects.toSatisfy(
      ConnectorTypeMismatchError.isInstance,
    );
  });

  it('stores ciphertext only, bound to its connector, and decrypts with the key ring', async () => {
    const { repository } = await setup();
    const manager = createConnectorManager({ repository, keyRing: k1 });
    const orgId = randomUUID();
    const a = await manager.create(feed, {
      orgId,
      config: { folder: 'a' },
      credentials: { token: 'secret-token-a' },
      webhookSecret: 'whsec-a',
    });
    const b = await manager.create(feed, { orgId, config: { folder: 'b' } });
    const raw = await repository.getConnectorSecrets(a.id);
    expect(raw).toMatchObject({ keyId: 'k1', credentials: null, webhookSecret: null });
    expect(JSON.stringify(raw)).not.toMatch(/secret-token-a|whsec-a/);
    expect(await manager.load(feed, a.id)).toMatchObject({
      credentials: { token: 'secret-token-a' },
      webhookSecret: 'whsec-a',
    });

    // The same row copied onto connector b does not decrypt there.
    await repository.putConnectorSecrets(b.id, {
      keyId: raw.keyId as string,
      wrappedDataKey: raw.wrappedDataKey as string,
      credentialsCiphertext: raw.credentialsCiphertext,
    });
    const copied = await manager.load(feed, b.id).catch((error: unknown) => error);
    expect(SecretDecryptionError.isInstance(copied)).toBe(true);
    expect((copied as Error).message).not.toContain(raw.wrappedDataKey as string);
    expect((copied as Error).message).not.toContain(raw.credentialsCiphertext as string);

    // Rotation of a secret (set again) keeps the other one; clearing removes it.
    await manager.setSecrets(feed, a.id, { credentials: { token: 'secret-token-a2' } });
    expect(await manager.load(feed, a.id)).toMatchObject({
      credentials: { token: 'secret-token-a2' },
      webhookSecret: 'whsec-a',
    });
    await manager.clearSecret(a.id, 'credentials');
    expect(await manager.load(feed, a.id)).toMatchObject({
      credentials: undefined,
      webhookSecret: 'whsec-a',
    });
    expect((await manager.show(a.id)).status.hasCredentials).toBe(false);
    await expect(manager.setSecrets(feed, a.id, { credentials: { token: '' } })).rejects.toMatchObject({
      fieldPath: 'token',
      subject: 'credentials',
    });
  });

  it('names the missing key, reads legacy plaintext, encrypts it on the next write, and rotates keys', async () => {
    const { repository } = await setup();
    const orgId = randomUUID();
    const withK1 = createConnectorManager({ repository, keyRing: k1 });
    const noKey = createConnectorManager({ repository, keyRing: undefined });
    const encrypted = await withK1.create(feed, {
      orgId,
      config: { folder: 'e' },
      credentials: { token: 't-e' },
    });
    const missing = await noKey.load(feed, encrypted.id).catch((error: unknown) => error);
    expect(MissingSecretKeyError.isInstance(missing)).toBe(true);
    expect((missing as Error).message).toMatch(/TRIBUTARY_SECRET_KEYS/);
    await expect(noKey.setSecrets(feed, encrypted.id, { webhookSecret: 'w' })).rejects.toSatisfy(
      MissingSecretKeyError.isInstance,
    );

    const legacy = await withK1.create(feed, { orgId, config: { folder: 'l' } });
    await repository.putConnectorSecrets(legacy.id, {
      credentials: { token: 'plain' },
      webhookSecret: 'plain-wh',
    });
    expect(await noKey.load(feed, legacy.id)).toMatchObject({
      credentials: { token: 'plain' },
      webhookSecret: 'plain-wh',
    });
    await withK1.setSecrets(feed, legacy.id, { webhookSecret: 'new-wh' });
    const after = await repository.getConnectorSecrets(legacy.id);
    expect(after).toMatchObject({ credentials: null, webhookSecret: null, keyId: 'k1' });
    expect(await withK1.load(feed, legacy.id)).toMatchObject({
      credentials: { token: 'plain' },
      webhookSecret: 'new-wh',
    });

    const legacy2 = await withK1.create(feed, { orgId, config: { folder: 'l2' } });
    await repository.putConnectorSecrets(legacy2.id, { credentials: { token: 'plain-2' } });
    const report = await createConnectorManager({ repository, keyRing: k2 }).rotateKey({ pageSize: 1 });
    expect(report).toMatchObject({ keyId: 'k2', skipped: 0 });
    // The row copied onto another connector in the previous case cannot be opened: reported, not fatal.
    const ours = [encrypted.id, legacy.id, legacy2.id];
    expect(report.failed.filter((failure) => ours.includes(failure.connectorId))).toEqual([]);
    for (const failure of report.failed) expect(failure.reason).toMatch(/cannot be decrypted with key "k1"/);
    expect(report.rewrapped).toBeGreaterThanOrEqual(3);
    expect(report.encryptedLegacy).toBeGreaterThanOrEqual(1);
    const onlyK2 = createConnectorManager({
      repository,
      keyRing: createSecretKeyRing([['k2', k2.key('k2') as Uint8Array]]),
    });
    expect(await onlyK2.load(feed, encrypted.id)).toMatchObject({ credentials: { token: 't-e' } });
    expect(await onlyK2.load(feed, legacy2.id)).toMatchObject({ credentials: { token: 'plain-2' } });
    expect((await repository.getConnectorSecrets(legacy2.id)).credentials).toBeNull();
    expect(await createConnectorManager({ repository, keyRing: k2 }).rotateKey()).toMatchObject({
      rewrapped: 0,
    });

    // A page size that cannot be meant is refused before a row is read: the row keeps its key.
    const pending = await withK1.create(feed, {
      orgId,
      config: { folder: 'l3' },
      credentials: { token: 't-3' },
    });
    for (const pageSize of [Number.NaN, 0, 2.5, 1001]) {
      const refused = await createConnectorManager({ repository, keyRing: k2 })
        .rotateKey({ pageSize })
        .catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(InvalidConfigError);
      expect((refused as InvalidConfigError).fieldPath).toBe('pageSize');
    }
    expect((await repository.getConnectorSecrets(pending.id)).keyId).toBe('k1');
  });

  it('runs a sync from the stored row, refuses another plugin, and removes the connector with its documents', async () => {
    const { repository, vectors } = await setup();
    const manager = createConnectorManager({ repository, keyRing: k1 });
    const row = await manager.create(feed, {
      orgId: randomUUID(),
      config: { folder: 'docs' },
      credentials: { token: 'run-token' },
    });
    await expect(
      runSync({
        connector: other,
        connectorId: row.id,
        repository,
        embedder: createLexicalEmbedder(),
        loadStored: true,
      }),
    ).rejects.toSatisfy(ConnectorTypeMismatchError.isInstance);
    if (vectors) {
      seen.length = 0;
      const summary = await runSync({
        connector: feed,
        connectorId: row.id,
        repository,
        embedder: createLexicalEmbedder({ dimensions: 1536 }),
        loadStored: { keyRing: k1 },
      });
      expect(summary.status).toBe('success');
      expect(seen).toEqual([{ token: 'run-token', folder: 'docs', maxPages: 10 }]);
      expect((await manager.show(row.id)).status).toMatchObject({
        liveDocuments: 1,
        lastRun: { status: 'success' },
      });
      expect(await manager.remove(row.id)).toEqual({ documentsDeleted: 1 });
    } else {
      expect(await manager.remove(row.id)).toEqual({ documentsDeleted: 0 });
    }
    await expect(manager.show(row.id)).rejects.toMatchObject({ reason: 'not_found' });
  });
});

describe('secret keys and connector types', () => {
  it('reads TRIBUTARY_SECRET_KEYS (first is primary) and refuses malformed keys without echoing them', () => {
    const a = Buffer.from(key()).toString('base64');
    const b = Buffer.from(key()).toString('base64');
    expect(secretKeyRingFromEnv({ TRIBUTARY_SECRET_KEYS: `new:${a},old:${b}` })?.keyIds).toEqual([
      'new',
      'old',
    ]);
    expect(secretKeyRingFromEnv({ TRIBUTARY_SECRET_KEY: a })?.primaryKeyId).toBe('default');
    expect(secretKeyRingFromEnv({})).toBeUndefined();
    const short = Buffer.from('short-key').toString('base64');
    expect(() => secretKeyRingFromEnv({ TRIBUTARY_SECRET_KEYS: `k:${short}` })).toThrow(
      /9 bytes; AES-256 needs exactly 32/,
    );
    try {
      secretKeyRingFromEnv({ TRIBUTARY_SECRET_KEYS: `k:${short}` });
    } catch (error) {
      expect((error as Error).message).not.toContain(short);
    }
    expect(JSON.stringify(k1)).toBe('{"keyIds":["k1"]}');
  });

  it('defineConnector applies the database type rule', () => {
    expect(() => defineConnector({ type: 'json-feed', async check() {}, async *sync() {} })).toThrow(
      /breaks the type rule.*"json_feed"/,
    );
    expect(() => defineConnector({ type: 'a'.repeat(64), async check() {}, async *sync() {} })).toThrow(
      UnsupportedConnectorError,
    );
    expect(defineConnector({ type: 'a'.repeat(63), async check() {}, async *sync() {} }).type).toHaveLength(
      63,
    );
  });
});
