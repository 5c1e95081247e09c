import type { KnowledgeRepository } from '../repository/knowledge-repository.js';
import type { StageClock } from './stage-timings.js';

/** Ids per `markDocumentsSeenById` call (the SQL function takes up to 5,000). */
const MARK_BATCH = 5000;

/**
 * Marks documents skipped by version as seen by the run's listing, by id and batched across
 * groups: an unchanged re-sync of 100,000 documents makes 20 calls of one array row each, and no
 * document row is rewritten (0023_listing_seen_marks). Marks only matter to the full-sync sweep and
 * to a resumed listing, so they must be stored before the next checkpoint and before the sweep:
 * the caller flushes before each commit and at the end.
 */
export class SeenMarker {
  #pending: string[] = [];
  #writing: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly repository: KnowledgeRepository,
    private readonly runId: string,
    private readonly clock: StageClock,
  ) {}

  /** Document ids (`DocumentVersion.id`), not external ids. */
  add(documentIds: readonly string[]): void {
    for (const id of documentIds) this.#pending.push(id);
    if (this.#pending.length >= MARK_BATCH) void this.#write().catch(() => undefined);
  }

  /** Everything added so far is stored (rejects with the first failed write). */
  async flush(): Promise<void> {
    await this.#write();
  }

  #write(): Promise<unknown> {
    const ids = this.#pending;
    this.#pending = [];
    const previous = this.#writing;
    const next = previous.then(async () => {
      for (let start = 0; start < ids.length; start += MARK_BATCH) {
        const slice = ids.slice(start, start + MARK_BATCH);
        await this.clock.time('write', () => this.repository.markDocumentsSeenById(this.runId, slice));
      }
    });
    this.#writing = next;
    return next;
  }
}
