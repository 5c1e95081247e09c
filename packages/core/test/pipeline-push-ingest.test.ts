// startPushIngest: a host hands documents to a running ingest; flush() resolves once they are
// durably stored (a committed checkpoint), a pause in pushes commits by itself, close() ends the
// run with its summary, and a run that cannot start (lease held) rejects pushes instead of
// dropping them silently.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  createLexicalEmbedder,
  type SourceDocument,
  type SyncProgressEvent,
  startPushIngest,
} from '../src/index.js';
import { createMemoryRepository } from '../src/testing.js';

function note(id: string, text: string): SourceDocument {
  return {
    externalId: id,
    title: id,
    mimeType: 'text/plain',
    version: text,
    content: { kind: 'text', text },
  };
}

function setup() {
  const repository = createMemoryRepository();
  const record = repository.addConnector({ orgId: randomUUID(), connectorType: 'push', name: 'Pushed' });
  return { repository, connectorId: record.id };
}

describe('startPushIngest', () => {
  it('flush() resolves once what was pushed is stored; close() ends the run with its summary', async () => {
    const { repository, connectorId } = setup();
    const ingest = startPushIngest({
      connectorId,
      repository,
      embedder: createLexicalEmbedder(),
      idleFlushMs: 60_000,
    });
    await ingest.push(note('a', 'Alpha rivers flow north.'));
    await ingest.push(note('b', 'Beta lakes are deep.'));
    await ingest.flush();
    const stored = await repository.getDocumentVersions(connectorId, ['a', 'b']);
    expect([...stored.values()].map((v) => v.processingStatus)).toEqual(['completed', 'completed']);
    expect((await repository.getConnector(connectorId))?.syncCursor).toEqual({ pushed: 2 });

    await ingest.push(note('c', 'Gamma streams meander.'));
    await ingest.delete('a');
    const summary = await ingest.close();
    expect(summary.status).toBe('success');
    expect(summary.counts).toMatchObject({ seen: 3, inserted: 3, deleted: 1 });
    expect(summary.sweep).toBeUndefined();
    expect((await repository.getConnector(connectorId))?.syncCursor).toEqual({ pushed: 4 });
    expect((await repository.getDocumentVersions(connectorId, ['a'])).get('a')?.isDeleted).toBe(true);
    await expect(ingest.push(note('d', 'too late'))).rejects.toThrow(/has ended \(success\)/);
  });

  it('commits by itself when pushes pause for idleFlushMs', async () => {
    const { repository, connectorId } = setup();
    const events: SyncProgressEvent[] = [];
    let committed: () => void = () => undefined;
    const checkpointSeen = new Promise<void>((resolve) => {
      committed = resolve;
    });
    const ingest = startPushIngest({
      connectorId,
      repository,
      embedder: createLexicalEmbedder(),
      idleFlushMs: 20,
      onProgress: (event) => {
        events.push(event);
        if (event.type === 'checkpoint') committed();
      },
    });
    await ingest.push(note('x', 'Delta sediment builds land.'));
    await checkpointSeen;
    expect((await repository.getDocumentVersions(connectorId, ['x'])).get('x')?.processingStatus).toBe(
      'completed',
    );
    expect(events.filter((e) => e.type === 'checkpoint')).toHaveLength(1);
    await ingest.close();
  });

  it('rejects pushes when another run holds the connector, saying until when', async () => {
    const { repository, connectorId } = setup();
    await repository.startSync({ connectorId, leaseSeconds: 600 });
    const ingest = startPushIngest({ connectorId, repository, embedder: createLexicalEmbedder() });
    const summary = await ingest.done;
    expect(summary.status).toBe('skipped');
    await expect(ingest.push(note('a', 'x'))).rejects.toThrow(/holds the lease \(until /);
    await expect(ingest.flush()).rejects.toThrow(/holds the lease/);
  });
});
