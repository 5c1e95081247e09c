import type { KnowledgeRepository } from '../repository/knowledge-repository.js';
import { RepositoryError } from '../repository/repository-error.js';
import type { SyncSweepSummary } from './types.js';

/**
 * The full-sync delete sweep, refused (and saying why) when the run did not finish or the
 * listing was not complete. Returns `leaseLost` when the run lost its lease meanwhile.
 */
export async function sweepUnseen(options: {
  repository: KnowledgeRepository;
  runId: string;
  maxSweepFraction: number;
  failure: { status: string; message: string } | undefined;
  listing: { complete: boolean; reason?: string | undefined } | undefined;
}): Promise<{ sweep: SyncSweepSummary; leaseLost?: string }> {
  const { failure, listing, maxSweepFraction } = options;
  const notSwept = (reason: string): SyncSweepSummary => ({
    swept: 0,
    unseen: null,
    total: null,
    refused: true,
    reason,
  });
  if (failure) return { sweep: notSwept(`the run did not finish (${failure.status}): ${failure.message}`) };
  if (!listing) return { sweep: notSwept('the connector did not report whether its listing was complete') };
  if (!listing.complete) {
    return { sweep: notSwept(`the listing was incomplete${listing.reason ? `: ${listing.reason}` : ''}`) };
  }
  try {
    const result = await options.repository.sweepUnseenDocuments(options.runId, maxSweepFraction);
    return {
      sweep: {
        ...result,
        reason: result.refused
          ? `${result.unseen} of ${result.total} documents were not seen, more than the ${maxSweepFraction} guard allows`
          : undefined,
      },
    };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (RepositoryError.isInstance(error) && error.reason === 'lease_lost') {
      return { sweep: notSwept(`the sweep failed: ${message}`), leaseLost: message };
    }
    return { sweep: notSwept(`the sweep failed: ${message}`) };
  }
}
