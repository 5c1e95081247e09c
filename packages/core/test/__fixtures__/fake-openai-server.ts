import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A request the fake server received, body parsed. */
export interface EmbeddingsRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: { model: string; input: string[]; dimensions?: number; encoding_format?: string };
}

/** What to answer: an embeddings success (computed from the request) or a scripted error. */
export type FakeReply =
  | { kind: 'ok' }
  | {
      kind: 'error';
      status: number;
      headers?: Record<string, string>;
      error: { message: string; type: string; code: string | null };
    };

export interface FakeOpenAIServer {
  /** `http://127.0.0.1:<port>/v1`, to pass as `baseURL`. */
  readonly baseURL: string;
  readonly requests: EmbeddingsRequest[];
  /** Scripted replies, used in order; once used up, every request gets `{ kind: 'ok' }`. */
  script(...replies: FakeReply[]): void;
  close(): Promise<void>;
}

/**
 * A local `node:http` server speaking OpenAI's `POST /v1/embeddings` wire format:
 * `{ object: 'list', data: [{ object: 'embedding', index, embedding }], model, usage }`.
 * Each vector is derived from its input text (so tests can check order), and `usage.prompt_tokens`
 * is `tokensOf(input)` summed, as the real API reports it.
 */
export async function startFakeOpenAIServer(
  options: { tokensOf?: (text: string) => number } = {},
): Promise<FakeOpenAIServer> {
  const tokensOf = options.tokensOf ?? ((text: string) => text.split(/\s+/).filter(Boolean).length);
  const requests: EmbeddingsRequest[] = [];
  let replies: FakeReply[] = [];

  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as EmbeddingsRequest['body'];
      requests.push({
        method: request.method ?? '',
        path: request.url ?? '',
        headers: request.headers,
        body,
      });
      const reply = replies.shift() ?? { kind: 'ok' };
      if (reply.kind === 'error') {
        response.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
        response.end(JSON.stringify({ error: { ...reply.error, param: null } }));
        return;
      }
      if (request.url !== '/v1/embeddings' || request.method !== 'POST') {
        response.writeHead(404, { 'content-type': 'application/json' });
        response.end(
          JSON.stringify({
            error: { message: 'not found', type: 'invalid_request_error', code: null, param: null },
          }),
        );
        return;
      }
      const dimensions = body.dimensions ?? 1536;
      const promptTokens = body.input.reduce((sum, text) => sum + tokensOf(text), 0);
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({
          object: 'list',
          // Sent in reverse index order: the client must place vectors by `index`, not position.
          data: body.input
            .map((text, index) => ({ object: 'embedding', index, embedding: vectorFor(text, dimensions) }))
            .reverse(),
          model: body.model,
          usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    script: (...next) => {
      replies = next;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

/** A recognisable vector: first component is the text's length, the rest zeros. */
export function vectorFor(text: string, dimensions: number): number[] {
  const vector = new Array<number>(dimensions).fill(0);
  vector[0] = text.length;
  return vector;
}
