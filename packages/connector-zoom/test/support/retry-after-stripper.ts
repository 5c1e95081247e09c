// testkit's `injectFaults` sends every 429 with a Retry-After header; Graph sends some without.
// Wrapped around a server after `injectFaults`, this drops the header from every other 429 the
// server writes, so a flaky run sees both kinds.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';

export function stripRetryAfterFromEveryOther429(server: Server): { stripped(): number } {
  let throttled = 0;
  let stripped = 0;
  const inner = server.listeners('request') as ((
    request: IncomingMessage,
    response: ServerResponse,
  ) => void)[];
  server.removeAllListeners('request');
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    const writeHead = response.writeHead.bind(response) as (...args: unknown[]) => ServerResponse;
    response.writeHead = ((status: number, ...rest: unknown[]) => {
      const headers = rest.find((part) => typeof part === 'object' && part !== null) as
        | Record<string, string>
        | undefined;
      if (status === 429 && headers && 'retry-after' in headers && throttled++ % 2 === 0) {
        delete headers['retry-after'];
        stripped += 1;
      }
      return writeHead(status, ...rest);
    }) as ServerResponse['writeHead'];
    for (const handler of inner) handler.call(server, request, response);
  });
  return { stripped: () => stripped };
}
