import { randomUUID } from 'node:crypto';
import {
  type ConnectorChange,
  createConnectorInstance,
  createLexicalEmbedder,
  type JsonValue,
  type LoadedContent,
  runSync,
  type SourceDocument,
  type UpsertChange,
} from '@tributary/core';
import { createMemoryRepository } from '@tributary/core/testing';
import { createUrlConnector, type UrlConfigInput, type UrlConnectorSettings } from '../src/index.js';
import type { Site } from './site-server.js';

/** Fast retries so failing tests do not sleep. */
export const FAST_RETRY = { retries: 2, minDelayMs: 1, maxDelayMs: 5 } as const;

/** A connector allowed to reach the local test site (and nothing else private). */
export function siteConnector(site: Site, settings: UrlConnectorSettings = {}) {
  return createUrlConnector({ allowedHosts: [site.host], retry: FAST_RETRY, ...settings });
}

/** Tests are not polite to their own server: a high rate unless the test sets one. */
export function fast(config: UrlConfigInput): UrlConfigInput {
  return { requestsPerSecond: 500, ...config };
}

/** Runs the connector's sync directly and collects its changes. */
export async function collect(
  connector: ReturnType<typeof createUrlConnector>,
  config: UrlConfigInput,
  cursor?: JsonValue,
): Promise<ConnectorChange[]> {
  const instance = createConnectorInstance(connector, { config: fast(config) });
  const changes: ConnectorChange[] = [];
  for await (const change of instance.sync({ cursor, mode: 'full' })) changes.push(change);
  return changes;
}

export function upserts(changes: readonly ConnectorChange[]): SourceDocument[] {
  return changes.filter((change): change is UpsertChange => change.kind === 'upsert').map((c) => c.document);
}

export function lastCursor(changes: readonly ConnectorChange[]): JsonValue | undefined {
  const checkpoints = changes.filter((change) => change.kind === 'checkpoint');
  const last = checkpoints[checkpoints.length - 1];
  return last?.kind === 'checkpoint' ? last.cursor : undefined;
}

export async function load(document: SourceDocument): Promise<LoadedContent> {
  const content = document.content;
  if (content.kind === 'lazy') return content.load({ signal: new AbortController().signal });
  return content;
}

export async function textOf(document: SourceDocument): Promise<string> {
  const content = await load(document);
  if (content.kind === 'text') return content.text;
  if (content.kind === 'bytes') return new TextDecoder().decode(content.bytes);
  throw new Error('stream content not expected');
}

/** A memory repository with one URL connector registered, and a sync function for it. */
export function pipeline(connector: ReturnType<typeof createUrlConnector>, config: UrlConfigInput) {
  const repository = createMemoryRepository();
  const record = repository.addConnector({ orgId: randomUUID(), connectorType: 'url', name: 'Web' });
  const embedder = createLexicalEmbedder({ dimensions: 64 });
  return {
    repository,
    connectorId: record.id,
    sync: () => runSync({ connector, config: fast(config), connectorId: record.id, repository, embedder }),
    documents: () => repository.listDocuments(record.id),
  };
}

/** A small valid PDF with one line of text (offsets computed, so the xref table is exact). */
export function minimalPdf(text: string): Uint8Array {
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    (() => {
      const stream = `BT /F1 18 Tf 72 720 Td (${text}) Tj ET`;
      return `<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`;
    })(),
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  let body = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((object, index) => {
    offsets.push(body.length);
    body += `${index + 1} 0 obj\n${object}\nendobj\n`;
  });
  const xref = body.length;
  body += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const offset of offsets) body += `${String(offset).padStart(10, '0')} 00000 n \n`;
  body += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return new TextEncoder().encode(body);
}
