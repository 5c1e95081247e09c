// `scope-failed`: a part of the source the connector could not read is recorded like a failed
// document and ends the run `partial`, while everything else it yielded is stored; with an
// incomplete listing, nothing is swept.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createLexicalEmbedder, defineConnector, runSync } from '../src/index.js';
import { createMemoryRepository } from '../src/testing.js';

function connector(failScope: boolean) {
  return defineConnector<{ n?: number }>({
    type: 'scoped_source',
    displayName: 'Scoped source',
    capabilities: {
      incremental: false,
      deletions: false,
      webhooks: false,
      permissions: false,
      binaryContent: false,
    },
    async check() {},
    async *sync() {
      yield {
        kind: 'upsert',
        document: { externalId: 'a', title: 'A', content: { kind: 'text', text: 'alpha text' } },
      };
      if (failScope)
        yield {
          kind: 'scope-failed',
          scope: 'channels/locked',
          message: '[tributary] [scoped_source] channel locked (HTTP 403)',
        };
      else
        yield {
          kind: 'upsert',
          document: { externalId: 'b', title: 'B', content: { kind: 'text', text: 'beta text' } },
        };
      yield {
        kind: 'listing-complete',
        complete: !failScope,
        ...(failScope ? { reason: '1 scope failed' } : {}),
      };
      yield { kind: 'checkpoint', cursor: 1 };
    },
  });
}

describe('scope-failed changes', () => {
  it('record the scope as a failure, end the run partial, store the rest and sweep nothing', async () => {
    const repository = createMemoryRepository();
    const connectorId = repository.addConnector({ orgId: randomUUID(), connectorType: 'scoped_source' }).id;
    const embedder = createLexicalEmbedder({ dimensions: 16 });
    const first = await runSync({
      connector: connector(false),
      config: {},
      connectorId,
      repository,
      embedder,
    });
    expect(first.status).toBe('success');
    const second = await runSync({
      connector: connector(true),
      config: {},
      connectorId,
      repository,
      embedder,
    });
    expect(second.status).toBe('partial');
    expect(second.counts.failed).toBe(1);
    expect(second.errors).toEqual([
      { externalId: 'channels/locked', message: '[tributary] [scoped_source] channel locked (HTTP 403)' },
    ]);
    expect(second.sweep?.refused).toBe(true);
    const live = repository
      .listDocuments(connectorId)
      .filter((document) => !document.isDeleted)
      .map((document) => document.externalId);
    expect(live.sort()).toEqual(['a', 'b']);
  });
});
