import { createConnectorInstance, InvalidConfigError, runSync } from '@tributary/core';
import { expect } from 'vitest';
import {
  byId,
  type CheckContext,
  type CrashPoint,
  connectorOf,
  crashingRepository,
  describeSummary,
  Harness,
  initialSync,
  SimulatedCrash,
  suiteEmbedder,
  withSource,
} from './conformance-harness.js';
import type { ConformanceCheckName, ConformanceRun, InvalidConfigCase } from './conformance-types.js';

type Check = (context: CheckContext) => Promise<void>;

export const checks: Record<ConformanceCheckName, Check> = {
  async 'refuses invalid config'(context) {
    const { options } = context;
    expect(options.invalidConfigs.length, 'give at least one invalid config').toBeGreaterThan(0);
    for (const invalid of options.invalidConfigs) {
      let thrown: unknown;
      try {
        createConnectorInstance(connectorOf(options), {
          config: invalid.config,
          credentials: invalid.credentials,
        });
      } catch (error) {
        thrown = error;
      }
      expect(thrown, `config ${JSON.stringify(invalid.config)} must be refused`).toBeInstanceOf(
        InvalidConfigError,
      );
      const error = thrown as InvalidConfigError;
      const fields = error.issues.map((issue) => issue.fieldPath);
      expect(fields, `the error must name "${invalid.field}" (got: ${error.message})`).toContain(
        invalid.field,
      );
      expect(error.message).toContain(invalid.field);
    }
    // And a run with a bad config fails cleanly, storing nothing.
    await withSource(context, async (harness) => {
      const invalid = options.invalidConfigs[0] as InvalidConfigCase;
      const summary = await runSync({
        ...options.sync,
        connector: connectorOf(options),
        config: invalid.config,
        credentials: invalid.credentials ?? harness.source.credentials,
        connectorId: harness.connectorId,
        repository: harness.repository,
        embedder: suiteEmbedder(options),
        fetch: harness.source.fetch,
      });
      expect(summary.status).toBe('failed');
      expect(summary.error).toContain(invalid.field);
      expect(await harness.store.listDocuments()).toEqual([]);
    });
  },

  async 'accepts the source config'(context) {
    const { options } = context;
    await withSource(context, async (harness) => {
      const instance = createConnectorInstance(connectorOf(options), {
        config: harness.source.config,
        credentials: harness.source.credentials,
      });
      await expect(instance.check({ fetch: harness.source.fetch })).resolves.toBeUndefined();
    });
  },

  async 'syncs every document'(context) {
    await withSource(context, async (harness) => {
      const run = await initialSync(harness);
      for (const document of run.live) {
        expect(document.processingStatus, `${document.externalId} must be processed`).toBe('completed');
        expect(document.contentHash, `${document.externalId} must have a content hash`).toMatch(
          /^[0-9a-f]{64}$/,
        );
      }
      expect(run.summary.counts.inserted).toBe(run.live.length);
      expect(run.summary.counts.failed).toBe(0);
      expect(run.deleted).toEqual([]);
    });
  },

  async 're-run is deterministic'(context) {
    await withSource(context, async (harness) => {
      const first = await initialSync(harness);
      const other = await Harness.create(context, harness.source);
      const second = await other.sync({ mode: 'full' });
      expect(second.summary.status).toBe('success');
      expect(byId(second.live), 'two syncs of the same source must store the same documents').toEqual(
        byId(first.live),
      );
    });
  },

  async 'unchanged re-sync stores and embeds nothing'(context) {
    await withSource(context, async (harness) => {
      const first = await initialSync(harness);
      for (const mode of ['full', undefined] as const) {
        const again = await harness.sync({ mode });
        expect(again.summary.status, describeSummary(again.summary)).toBe('success');
        expect(again.summary.counts.inserted, `${mode ?? 'default'} re-sync inserted documents`).toBe(0);
        expect(again.summary.counts.updated, `${mode ?? 'default'} re-sync changed documents`).toBe(0);
        expect(again.summary.counts.deleted).toBe(0);
        expect(again.summary.embeddings.requests, 'nothing may be embedded again').toBe(0);
        expect(byId(again.live)).toEqual(byId(first.live));
      }
    });
  },

  async 'changes flow through'(context) {
    await withSource(context, async (harness) => {
      const first = await initialSync(harness);
      const changedId = await harness.source.change();
      const run = await harness.sync();
      expect(run.summary.status, describeSummary(run.summary)).toBe('success');
      const before = byId(first.live);
      const after = byId(run.live);
      expect(after[changedId], `changed document ${changedId} must still be live`).toBeDefined();
      expect(after[changedId]?.contentHash, `${changedId} must have its new content`).not.toBe(
        before[changedId]?.contentHash,
      );
      for (const [externalId, document] of Object.entries(before)) {
        if (externalId !== changedId)
          expect(after[externalId], `${externalId} must not change`).toEqual(document);
      }
      expect(run.summary.counts.updated).toBe(1);
      expect(run.summary.counts.inserted).toBe(0);
    });
  },

  async 'deletes flow through'(context) {
    await withSource(context, async (harness) => {
      const first = await initialSync(harness);
      const [removedId] = await harness.source.remove(1);
      expect(removedId, 'remove(1) must return the removed external id').toBeTypeOf('string');
      // The host's next sync: incremental where the connector can, full (with the sweep) otherwise.
      const run = await harness.sync();
      expect(run.summary.status, describeSummary(run.summary)).toBe('success');
      expect(run.deleted, `${removedId} must be soft-deleted`).toContain(removedId);
      expect(run.live.map((document) => document.externalId)).not.toContain(removedId);
      expect(byId(run.live)).toEqual(
        Object.fromEntries(
          Object.entries(byId(first.live)).filter(([externalId]) => externalId !== removedId),
        ),
      );
      expect(run.summary.counts.deleted).toBe(1);
    });
  },

  async 'resumes from every checkpoint'(context) {
    const { options } = context;
    await withSource(context, async (harness) => {
      const reference = await initialSync(harness);
      expect(
        reference.checkpoints,
        'the connector must yield at least 2 checkpoints over the source (configure a small page or checkpoint size)',
      ).toBeGreaterThanOrEqual(2);
      const points: CrashPoint[] = [
        { after: 'upsertDocuments', n: 1 },
        { after: 'replaceChunks', n: 1 },
        ...spread(reference.checkpoints, options.maxCrashPoints ?? 12).map((n) => ({
          after: 'checkpoint' as const,
          n,
        })),
      ];
      for (const point of points) {
        const crashed = await Harness.create(context, harness.source);
        // The crashing run: whatever it reports (or throws) is what a dead process leaves behind.
        await crashed
          .sync({ mode: 'full', repository: crashingRepository(crashed.repository, point) })
          .catch((error: unknown) => {
            if (!(error instanceof SimulatedCrash)) throw error;
          });
        await crashed.expireLeases();
        const resumed = await crashed.sync();
        const label = `crash after ${point.after} #${point.n}`;
        expect(
          resumed.summary.status,
          `${label}: the resumed sync: ${describeSummary(resumed.summary)}`,
        ).toBe('success');
        expect(byId(resumed.live), `${label}: the resumed sync must reach the same documents`).toEqual(
          byId(reference.live),
        );
        expect(resumed.deleted, `${label}: nothing may be deleted`).toEqual([]);
      }
    });
  },

  async 'survives rate limits and server errors'(context) {
    await withSource(context, async (harness) => {
      const reference = await initialSync(harness);
      const fail = harness.source.failNextRequests?.bind(harness.source);
      expect(
        fail,
        'the source has no failNextRequests: implement it, or pass httpFaults: false for a source not reached over HTTP',
      ).toBeTypeOf('function');
      const other = await Harness.create(context, harness.source);
      fail?.(2, 429);
      const afterRateLimit = await other.sync({ mode: 'full' });
      expect(afterRateLimit.summary.status, `after 429s: ${describeSummary(afterRateLimit.summary)}`).toBe(
        'success',
      );
      fail?.(1, 503);
      fail?.(1, 500);
      const afterServerErrors = await other.sync({ mode: 'full' });
      expect(
        afterServerErrors.summary.status,
        `after 5xx: ${describeSummary(afterServerErrors.summary)}`,
      ).toBe('success');
      expect(byId(afterServerErrors.live)).toEqual(byId(reference.live));
      expect(afterServerErrors.deleted).toEqual([]);
    });
  },

  async 'shrunken listing does not wipe data'(context) {
    await withSource(context, async (harness) => {
      const first = await initialSync(harness);
      const removed = await harness.source.remove(Math.ceil(first.live.length * 0.6));
      const run = await harness.sync({ mode: 'full' });
      expectGuardHeld(run, removed);
    });
  },

  async 'empty listing does not wipe data'(context) {
    await withSource(context, async (harness) => {
      const first = await initialSync(harness);
      const removed = await harness.source.remove(first.live.length);
      expect(removed.length).toBe(first.live.length);
      const run = await harness.sync({ mode: 'full' });
      expectGuardHeld(run, removed);
    });
  },
};

/**
 * After most of the source vanished from a full listing, the sweep must refuse; only documents
 * the connector itself reported deleted (a definitive 404, a trash event) may be gone.
 */
function expectGuardHeld(run: ConformanceRun, removed: readonly string[]): void {
  expect(
    run.summary.sweep?.swept ?? 0,
    'the sweep must not delete documents missing from a shrunken listing',
  ).toBe(0);
  const live = new Set(run.live.map((document) => document.externalId));
  for (const externalId of removed) {
    if (run.explicitDeletes.has(externalId)) continue;
    expect(live.has(externalId), `${externalId} was wiped without a delete from the connector`).toBe(true);
  }
  if (run.summary.sweep && run.summary.sweep.unseen !== null && run.summary.sweep.unseen > 0) {
    expect(run.summary.sweep.refused, 'the sweep must say it refused').toBe(true);
  }
}

/** Up to `max` numbers from 1..count, spread evenly, always including 1 and count. */
function spread(count: number, max: number): number[] {
  if (count <= max) return Array.from({ length: count }, (_, index) => index + 1);
  const picked = new Set<number>();
  for (let index = 0; index < max; index += 1) picked.add(1 + Math.round((index * (count - 1)) / (max - 1)));
  return [...picked];
}
