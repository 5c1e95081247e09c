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

/**
 * A part of the source (a channel, a meeting, a folder) could not be read while the rest could.
 * The pipeline records it like a failed document (under `scope`, with `message`) and the run ends
 * `partial` instead of `success`; the connector goes on with the next part. Yield a
 * `listing-complete` with `complete: false` too in a full sync, so nothing under the failed part
 * is swept. Never put credentials in `message`.
 */
export interface ScopeFailedChange {
  readonly kind: 'scope-failed';
  /** What failed, e.g. `teams/<teamId>/channels/<channelId>`: stored where a document id would be. */
  readonly scope: string;
  /** Why, starting `[tributary] [<connector>]`. */
  readonly message: string;
}

/** What `sync(ctx)` yields. */
export type ConnectorChange =
  | UpsertChange
  | DeleteChange
  | CheckpointChange
  | ListingCompleteChange
  | ScopeFailedChange;
