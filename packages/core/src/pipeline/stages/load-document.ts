import type { ExtractorRegistry } from '../../content/extractor-registry.js';
import { contentHash } from '../../content/normalize-text.js';
import type { DocumentInput } from '../../repository/knowledge-repository.js';
import type { JsonObject } from '../../spec/v1/json-value.js';
import type { SourceDocument } from '../../spec/v1/source-document.js';
import type { RunControl } from '../run-control.js';
import type { StageClock } from '../stage-timings.js';
import type { RateLimitGate } from './rate-limit-gate.js';
import { readContent } from './read-content.js';

/** A document that was loaded and extracted, waiting to be stored. */
export interface Prepared {
  source: SourceDocument;
  input: DocumentInput;
  text: string;
  structure: 'markdown' | 'plain' | 'transcript';
  bytes: number;
}

export interface LoadStage {
  extractors: ExtractorRegistry;
  control: RunControl;
  clock: StageClock;
  gate: RateLimitGate;
  maxContentBytes: number;
  /** The connector has the `permissions` capability (see `documentMetadata`). */
  capturesPermissions: boolean;
}

/**
 * Load (download, within the size cap, rate limits waited out) and extract one document. The
 * raw content is dropped as soon as its text is extracted.
 */
export async function loadDocument(source: SourceDocument, stage: LoadStage): Promise<Prepared> {
  const label = source.title || source.externalId;
  const content = await stage.gate.run(() =>
    stage.clock.time('load', () =>
      readContent(source.content, { signal: stage.control.signal, maxBytes: stage.maxContentBytes, label }),
    ),
  );
  stage.control.check();
  const extracted = await stage.clock.time('extract', () =>
    stage.extractors.extract({
      ...(content.bytes ? { bytes: content.bytes } : { text: content.text }),
      claimedMimeType: source.mimeType,
      fileName: source.title || undefined,
    }),
  );
  const text = extracted.text;
  const metadata = documentMetadata(source, stage.capturesPermissions);
  if (content.rawSha256) metadata.rawSha256 = content.rawSha256;
  return {
    source,
    text,
    structure: extracted.structure,
    bytes: content.size,
    input: {
      externalId: source.externalId,
      parentExternalId: source.parentExternalId ?? null,
      title: source.title || extracted.title || null,
      mimeType: extracted.mimeType,
      externalUrl: source.externalUrl ?? null,
      sourceVersion: source.version ?? null,
      sourceModifiedAt: source.modifiedAt ?? null,
      content: text,
      contentHash: contentHash(text),
      fileSizeBytes: content.size,
      sourceMetadata: source.metadata ?? {},
      metadata,
      processingStatus: 'processing',
    },
  };
}

/**
 * The document's ACL as stored in `metadata.permissions`. A connector with the `permissions`
 * capability that could not read a document's ACL writes `null`: the upsert merges metadata, so
 * leaving the key out would keep the previous ACL, while null hides the document in `source` mode.
 */
export function documentMetadata(source: SourceDocument, capturesPermissions: boolean): JsonObject {
  if (!source.permissions) return capturesPermissions ? { permissions: null } : {};
  return {
    permissions: source.permissions.map((p) => {
      const entry: JsonObject = { type: p.type, role: p.role };
      if (p.id !== undefined) entry.id = p.id;
      if (p.email !== undefined) entry.email = p.email;
      if (p.domain !== undefined) entry.domain = p.domain;
      if (p.displayName !== undefined) entry.displayName = p.displayName;
      return entry;
    }),
  };
}
