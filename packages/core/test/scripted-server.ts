import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One scripted answer. `hang: true` never answers (until the server closes). */
export interface ScriptedReply {
  status?: number;
  headers?: Record<string, string>;
  body?: string;
  /** Wait this long before sending the headers. */
  delayMs?: number;
  hang?: boolean;
}

export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface ScriptedServer {
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
  readonly requests: SeenRequest[];
  /** Replaces the script; `reply(request, index)` where index counts requests since the last `script()`. */
  script(reply: (request: SeenRequest, index: number) => ScriptedReply): void;
  /** Shorthand: answer with these replies in order, repeating the last one. */
  sequence(...replies: ScriptedReply[]): void;
  close(): Promise<void>;
}

/** A real `node:http` server on 127.0.0.1, port 0, answering from a script. No fetch mocks. */
export async function startScriptedServer(): Promise<ScriptedServer> {
  let reply: (request: SeenRequest, index: number) => ScriptedReply = () => ({ status: 200, body: '{}' });
  const requests: SeenRequest[] = [];
  let index = 0;
  const pending = new Set<ServerResponse>();
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const seen: SeenRequest = {
        method: request.method ?? 'GET',
        url: request.url ?? '/',
        headers: request.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(seen);
      const step = reply(seen, index++);
      if (step.hang) {
        pending.add(response);
        return;
      }
      const send = () => {
        response.writeHead(step.status ?? 200, { 'content-type': 'application/json', ...step.headers });
        response.end(step.body ?? '');
      };
      if (step.delayMs) {
        pending.add(response);
        const timer = setTimeout(() => {
          pending.delete(response);
          if (!response.destroyed) send();
        }, step.delayMs);
        response.on('close', () => clearTimeout(timer));
      } else {
        send();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const script = (next: (request: SeenRequest, index: number) => ScriptedReply) => {
    reply = next;
    index = 0;
    requests.length = 0;
  };
  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    script,
    sequence(...replies) {
      script((_request, at) => replies[Math.min(at, replies.length - 1)] ?? { status: 200 });
    },
    async close() {
      for (const response of pending) response.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A clock whose `sleep` records the wait and advances time instantly. */
export function createFakeClock(start = Date.UTC(2025, 0, 15, 12, 0, 0)) {
  let now = start;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => now,
    advance(ms: number) {
      now += ms;
    },
    async sleep(ms: number, signal?: AbortSignal) {
      signal?.throwIfAborted();
      sleeps.push(ms);
      now += ms;
    },
  };
}
