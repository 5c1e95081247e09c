// The state-store part of the repository contract (called by defineRepositoryContract for every
// adapter): state commits with the checkpoint or not at all, only under the lease; reads by keys
// and by keyset pages in byte order; clearing a namespace; the 64 KB cursor cap everywhere.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { KnowledgeRepository, RepositoryError, RepositoryErrorReason } from '../src/index.js';
import type { RepositoryContractFixture } from './repository-contract.js';

export interface StateContractContext {
  repo(): KnowledgeRepository;
  fixture(): RepositoryContractFixture;
  freshConnector(): Promise<{ orgId: string; connectorId: string }>;
  expectRepositoryError(promise: Promise<unknown>, reason: RepositoryErrorReason): Promise<RepositoryError>;
}

/** A real-length Drive folder id (33 characters). */
const driveId = (index: number) => `1${index.toString(36).padStart(6, '0')}AbCdEfGhIjKlMnOpQrStUvWxYz`;

export function defineStateContract(context: StateContractContext): void {
  describe('connector state', () => {
    async function allKeys(connectorId: string, namespace: string, limit: number, prefix?: string) {
      const pages: string[][] = [];
      let after: string | undefined;
      for (;;) {
        const page = await context.repo().listState(connectorId, namespace, { after, limit, prefix });
        if (page.length === 0) return pages;
        pages.push(page.map((entry) => entry.key));
        after = page[page.length - 1]?.key;
      }
    }

    it('commits state changes with the checkpoint: clears, then deletes, then upserts', async () => {
      const repo = context.repo();
      const { connectorId } = await context.freshConnector();
      const run = await repo.startSync({ connectorId });
      await repo.commitCheckpoint(
        run.syncRunId,
        { page: 1 },
        {
          upserts: [
            { namespace: 'folders', key: 'a', value: { name: 'A', parent: null } },
            { namespace: 'folders', key: 'b', value: { name: 'B', parent: 'a' } },
            { namespace: 'queue', key: '0001', value: null },
          ],
        },
      );
      expect(await repo.getState(connectorId, 'folders', ['a', 'b', 'missing'])).toEqual(
        new Map([
          ['a', { name: 'A', parent: null }],
          ['b', { name: 'B', parent: 'a' }],
        ]),
      );
      expect(await repo.getState(connectorId, 'queue', ['0001'])).toEqual(new Map([['0001', null]]));

      await repo.commitCheckpoint(
        run.syncRunId,
        { page: 2 },
        {
          clear: ['queue'],
          deletes: [{ namespace: 'folders', key: 'a' }],
          upserts: [
            { namespace: 'folders', key: 'b', value: { name: 'B2', parent: null } },
            { namespace: 'queue', key: '0002', value: 2 },
          ],
        },
      );
      expect(await repo.getState(connectorId, 'folders', ['a', 'b'])).toEqual(
        new Map([['b', { name: 'B2', parent: null }]]),
      );
      expect((await repo.listState(connectorId, 'queue')).map((entry) => entry.key)).toEqual(['0002']);
      expect((await repo.getConnector(connectorId))?.syncCursor).toEqual({ page: 2 });
      // Another connector sees none of it.
      const other = await context.freshConnector();
      expect((await repo.getState(other.connectorId, 'folders', ['b'])).size).toBe(0);
    });

    it('writes neither state nor cursor once the lease is lost, and hands both to the next run', async () => {
      const repo = context.repo();
      const { connectorId } = await context.freshConnector();
      const run = await repo.startSync({ connectorId });
      await repo.commitCheckpoint(
        run.syncRunId,
        { page: 1 },
        { upserts: [{ namespace: 'n', key: 'k', value: 1 }] },
      );
      await context.fixture().expireLease(run.syncRunId);
      await context.expectRepositoryError(
        repo.commitCheckpoint(
          run.syncRunId,
          { page: 2 },
          { clear: ['n'], upserts: [{ namespace: 'n', key: 'zombie', value: 2 }] },
        ),
        'lease_lost',
      );
      expect(await repo.getState(connectorId, 'n', ['k', 'zombie'])).toEqual(new Map([['k', 1]]));
      const next = await repo.startSync({ connectorId });
      expect(next).toMatchObject({ status: 'started', cursor: { page: 1 } });
    });

    it('refuses bad state and oversized cursors before writing anything, with the database error', async () => {
      const repo = context.repo();
      const { connectorId } = await context.freshConnector();
      const run = await repo.startSync({ connectorId });
      await repo.commitCheckpoint(run.syncRunId, { page: 1 });
      const duplicate = [
        { namespace: 'n', key: 'k', value: 1 },
        { namespace: 'n', key: 'k', value: 2 },
      ];
      await context.expectRepositoryError(
        repo.commitCheckpoint(run.syncRunId, { page: 2 }, { upserts: duplicate }),
        'invalid_input',
      );
      await context.expectRepositoryError(
        repo.commitCheckpoint(
          run.syncRunId,
          { page: 2 },
          { upserts: [{ namespace: '', key: 'k', value: 1 }] },
        ),
        'invalid_input',
      );
      // The old Drive design: 360 folders with real-length ids, known and queued, in the cursor.
      // Under 64 KB as JSON text, over it as jsonb: every adapter refuses it, memory included.
      const folders = Object.fromEntries(
        Array.from({ length: 360 }, (_, index) => [
          driveId(index),
          { parent: driveId(0), name: `Folder ${index}` },
        ]),
      );
      const tasks = Object.keys(folders).map((id) => ({ kind: 'folder', id }));
      const oldCursor = {
        version: 1,
        phase: 'listing',
        changesToken: '12345',
        tasks,
        folders,
        incomplete: [],
      };
      expect(JSON.stringify(oldCursor).length).toBeLessThan(60_000);
      const tooBig = await context.expectRepositoryError(
        repo.commitCheckpoint(run.syncRunId, oldCursor, {
          upserts: [{ namespace: 'n', key: 'k', value: 1 }],
        }),
        'invalid_input',
      );
      expect(tooBig.message).toContain('p_cursor must be a JSON value of at most 64 KB');
      await context.expectRepositoryError(repo.commitCheckpoint(run.syncRunId, oldCursor), 'invalid_input');
      expect((await repo.getConnector(connectorId))?.syncCursor).toEqual({ page: 1 });
      expect((await repo.listState(connectorId, 'n')).length).toBe(0);
      // The same folders as state rows are fine.
      await repo.commitCheckpoint(
        run.syncRunId,
        { page: 2 },
        { upserts: Object.entries(folders).map(([key, value]) => ({ namespace: 'folders', key, value })) },
      );
      expect((await repo.getState(connectorId, 'folders', [driveId(359)])).get(driveId(359))).toEqual({
        parent: driveId(0),
        name: 'Folder 359',
      });
      await context.expectRepositoryError(
        repo.getState(
          connectorId,
          'folders',
          Array.from({ length: 1001 }, (_, index) => String(index)),
        ),
        'invalid_input',
      );
      await context.expectRepositoryError(
        repo.listState(connectorId, 'folders', { limit: 1001 }),
        'invalid_input',
      );
    });

    it('pages through a namespace in byte order with keyset pagination and prefixes', async () => {
      const repo = context.repo();
      const { connectorId } = await context.freshConnector();
      const run = await repo.startSync({ connectorId });
      const keys = ['b', 'a/1', 'a/2', 'Z', 'é', 'z', 'a/10', '😀', '\uFFFD'];
      await repo.commitCheckpoint(
        run.syncRunId,
        {},
        { upserts: keys.map((key, index) => ({ namespace: 'files', key, value: index })) },
      );
      // UTF-8 byte order: U+FFFD sorts before U+1F600 (a surrogate pair in JavaScript strings).
      expect(await allKeys(connectorId, 'files', 4)).toEqual([
        ['Z', 'a/1', 'a/10', 'a/2'],
        ['b', 'z', 'é', '\uFFFD'],
        ['😀'],
      ]);
      expect(await allKeys(connectorId, 'files', 1, 'a/')).toEqual([['a/1'], ['a/10'], ['a/2']]);
      const page = await repo.listState(connectorId, 'files', { after: 'a/10', limit: 2 });
      expect(page).toEqual([
        { key: 'a/2', value: 2 },
        { key: 'b', value: 0 },
      ]);
    });

    it('lets a member read their organisation state only', async () => {
      const repo = context.repo();
      const a = await context.freshConnector();
      const b = await context.freshConnector();
      for (const { connectorId } of [a, b]) {
        const run = await repo.startSync({ connectorId });
        await repo.commitCheckpoint(
          run.syncRunId,
          {},
          { upserts: [{ namespace: 'n', key: 'k', value: connectorId }] },
        );
      }
      const member = randomUUID();
      await context.fixture().addMember(member, a.orgId, 'member');
      const asMember = repo.withUser(member);
      expect(await asMember.getState(a.connectorId, 'n', ['k'])).toEqual(new Map([['k', a.connectorId]]));
      expect((await asMember.getState(b.connectorId, 'n', ['k'])).size).toBe(0);
      expect(await asMember.listState(b.connectorId, 'n')).toEqual([]);
      const run = await repo.startSync({ connectorId: a.connectorId });
      await context.expectRepositoryError(
        asMember.commitCheckpoint(
          run.syncRunId,
          {},
          { upserts: [{ namespace: 'n', key: 'k', value: 'member' }] },
        ),
        'not_allowed',
      );
    });
  });
}
