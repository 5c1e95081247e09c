import type { JsonValue } from './json-value.js';
import type { SourceDocument } from './source-document.js';

/** A document was created or changed (or, in a full sync, listed). */
export interface UpsertChange {
  readonly kind: 'upsert';
  readonly document: SourceDocument;
}

/** A document is gone from the source (deleted, trashed, access lost). */
export interface DeleteChange {
  readonly kind: 'delete';
  readonly externalId: string;
}

/**
 * Everything yielded before this point may be committed, and a resumed sync starts from `cursor`.
 * The pipeline stores the cursor only after every earlier change is durable.
 */
export interface CheckpointChange {
  readonly kind: 'checkpoint';
  readonly cursor: JsonValue;
}

/**
 * A full sync says whether its listing covered the whole source. The delete sweep (documents not
 * seen are soft-deleted) runs only after `complete: true`; `complete: false` with a `reason`
 * (a folder could not be listed, a page limit was hit) tells the pipeline to skip the sweep and
 * log why. No such change at all also means no sweep.
 */
export interface ListingCompleteChange {
  readonly kind: 'listing-complete';
  readonly complete: boolean;
  readonly reason?: string | undefined;
}

/** What `sync(ctx)` yields. */
export type ConnectorChange = UpsertChange | DeleteChange | CheckpointChange | ListingCompleteChange;
