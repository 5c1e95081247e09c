// A local stand-in for OpenAI's audio/transcriptions endpoint, speaking its documented wire
// format (multipart request; JSON or verbose_json answer; error bodies with type/code).
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedTranscriptionRequest {
  authorization: string | undefined;
  model: string | undefined;
  fileName: string | undefined;
  fileBytes: number;
}

export interface FakeOpenAIServer {
  baseURL: string;
  requests: RecordedTranscriptionRequest[];
  /** Answer the next requests with this status and error body instead of a transcript. */
  failWith(status: number, code: string): void;
  close(): Promise<void>;
}

export async function startFakeOpenAIServer(
  transcript: (fileName: string) => string,
): Promise<FakeOpenAIServer> {
  const requests: RecordedTranscriptionRequest[] = [];
  let failure: { status: number; code: string } | undefined;
  const server: Server = createServer(async (request, response) => {
    const body = await readBody(request);
    if (request.method !== 'POST' || !request.url?.endsWith('/audio/transcriptions')) {
      response.writeHead(404, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ error: { message: 'not found', type: 'invalid_request_error' } }));
      return;
    }
    const form = await new Request('http://local', {
      method: 'POST',
      headers: { 'content-type': request.headers['content-type'] ?? '' },
      body,
    }).formData();
    const file = form.get('file') as File | null;
    requests.push({
      authorization: request.headers.authorization,
      model: form.get('model')?.toString(),
      fileName: file?.name,
      fileBytes: file ? file.size : 0,
    });
    if (failure) {
      response.writeHead(failure.status, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({
          error: { message: `fake ${failure.code}`, type: failure.code, code: failure.code },
        }),
      );
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(
      JSON.stringify({
        text: transcript(file?.name ?? ''),
        duration: 1.5,
        language: 'english',
        task: 'transcribe',
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    failWith(status, code) {
      failure = { status, code };
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of request) parts.push(part as Buffer);
  return Buffer.concat(parts);
}
