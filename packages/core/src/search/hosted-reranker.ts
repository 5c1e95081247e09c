import { ConnectorApiError, InvalidConfigError, RateLimitError } from '../errors/index.js';
import { sleep } from '../http/clock.js';
import { createResponseError } from '../http/response-error.js';
import type { Reranker } from './reranker.js';

export interface HostedRerankerOptions {
  /**
   * The rerank endpoint, e.g. `https://api.cohere.com/v2/rerank` or `https://api.jina.ai/v1/rerank`:
   * any API that takes `{ model, query, documents, top_n }` and answers
   * `{ results: [{ index, relevance_score }] }`.
   */
  url: string;
  model: string;
  /** Sent as `Authorization: Bearer <apiKey>`; never logged or put in errors. */
  apiKey?: string | undefined;
  /** Injectable for tests and proxies; default the global `fetch`. */
  fetch?: typeof globalThis.fetch | undefined;
  /** Retries after 429 and 5xx (waiting `Retry-After`, else 1 s, 2 s, ...). Default 2. */
  maxRetries?: number | undefined;
  /** Longest wait for one `Retry-After`; a longer one fails with `RateLimitError`. Default 30 s. */
  maxRetryAfterMs?: number | undefined;
}

interface RerankResponse {
  results?: Array<{ index?: unknown; relevance_score?: unknown }>;
}

/**
 * A `Reranker` over a hosted reranking API (Cohere's and Jina's wire format). Texts it does not
 * score (an answer shorter than the input) get scores below every scored text, in their fused
 * order. Errors: `AuthError` (401/403), `RateLimitError` (429
 * after the retries), `ConnectorApiError` (other statuses, a malformed answer, network errors).
 */
export function createHostedReranker(options: HostedRerankerOptions): Reranker {
  let url: URL;
  try {
    url = new URL(options.url);
  } catch (cause) {
    throw new InvalidConfigError({
      subject: 'hosted reranker options',
      issues: [{ fieldPath: 'url', message: 'must be an absolute http(s) URL' }],
      cause,
    });
  }
  if (!options.model?.trim()) {
    throw new InvalidConfigError({
      subject: 'hosted reranker options',
      issues: [{ fieldPath: 'model', message: 'is required (the reranking model name)' }],
    });
  }
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const maxRetries = options.maxRetries ?? 2;
  const maxRetryAfterMs = options.maxRetryAfterMs ?? 30_000;
  const area = 'rerank';

  return {
    id: `hosted:${options.model}`,
    async rerank(query, texts, rerankOptions = {}) {
      if (texts.length === 0) return [];
      const body = JSON.stringify({
        model: options.model,
        query,
        documents: texts,
        top_n: texts.length,
      });
      for (let attempt = 0; ; attempt += 1) {
        let response: Response;
        try {
          response = await fetchImpl(url, {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              ...(options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {}),
            },
            body,
            signal: rerankOptions.signal,
          });
        } catch (cause) {
          rerankOptions.signal?.throwIfAborted();
          throw new ConnectorApiError({
            area,
            method: 'POST',
            url,
            cause,
            message: 'the reranking request failed',
          });
        }
        if (response.ok) {
          return parseScores((await response.json()) as RerankResponse, texts.length, url);
        }
        const error = createResponseError({
          provider: area,
          status: response.status,
          statusText: response.statusText,
          method: 'POST',
          url,
          headers: response.headers,
          body: await response.text(),
        });
        const retryable = response.status === 429 || response.status >= 500;
        const waitMs =
          (error instanceof RateLimitError ? error.retryAfterMs : undefined) ?? 1000 * 2 ** attempt;
        if (!retryable || attempt >= maxRetries || waitMs > maxRetryAfterMs) throw error;
        await sleep(waitMs, rerankOptions.signal);
      }
    },
  };
}

function parseScores(answer: RerankResponse, count: number, url: URL): number[] {
  if (!answer || !Array.isArray(answer.results)) {
    throw new ConnectorApiError({
      area: 'rerank',
      url,
      message: 'the reranking API answered without a results array',
      isRetryable: false,
    });
  }
  const scores = new Array<number | undefined>(count).fill(undefined);
  for (const result of answer.results) {
    const { index, relevance_score: score } = result;
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= count) continue;
    if (typeof score !== 'number' || !Number.isFinite(score)) continue;
    scores[index] = score;
  }
  const scored = scores.filter((score): score is number => score !== undefined);
  const floor = scored.length === 0 ? 0 : Math.min(...scored) - 1;
  // Unscored texts sink below every scored one, keeping their order among themselves.
  return scores.map((score, index) => score ?? floor - index / count);
}
