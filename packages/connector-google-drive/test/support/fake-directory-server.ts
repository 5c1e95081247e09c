// A local fake of the Admin SDK Directory API's groups.list and members.list and Google's OAuth
// token endpoint (refresh-token grant), speaking the documented wire format: Bearer tokens,
// maxResults / pageToken / nextPageToken paging (200 at most), `fields` accepted, Google's JSON
// error bodies, 429 with Retry-After and 503 on demand.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeDirectoryMember {
  id: string;
  email: string;
  type: 'USER' | 'GROUP' | 'CUSTOMER';
  status?: 'ACTIVE' | 'SUSPENDED';
}

export interface FakeDirectory {
  readonly url: string;
  readonly tokenUrl: string;
  readonly server: Server;
  /** Groups by id: email and members. */
  readonly groups: Map<string, { email: string; domain: string; members: FakeDirectoryMember[] }>;
  readonly calls: Map<string, number>;
  /** The next `count` API requests answer `status` (429 carries Retry-After: 1). */
  failNext(count: number, status: 429 | 503): void;
  close(): Promise<void>;
}

const ACCESS_TOKEN = 'ya29.fake-directory-token';

function googleError(status: number, reason: string, message: string) {
  return { error: { code: status, message, errors: [{ domain: 'global', reason, message }] } };
}

async function readBody(request: IncomingMessage): Promise<string> {
  const parts: Buffer[] = [];
  for await (const part of request) parts.push(part as Buffer);
  return Buffer.concat(parts).toString('utf8');
}

function page<T>(items: T[], url: URL): { items: T[]; nextPageToken?: string } {
  const size = Math.min(200, Number(url.searchParams.get('maxResults') ?? 200));
  const start = Number(url.searchParams.get('pageToken') ?? 0);
  const slice = items.slice(start, start + size);
  return start + size < items.length
    ? { items: slice, nextPageToken: String(start + size) }
    : { items: slice };
}

export async function startFakeDirectory(options: { refreshToken: string }): Promise<FakeDirectory> {
  const groups = new Map<string, { email: string; domain: string; members: FakeDirectoryMember[] }>();
  const calls = new Map<string, number>();
  let failures: { count: number; status: number } = { count: 0, status: 503 };
  const count = (operation: string) => calls.set(operation, (calls.get(operation) ?? 0) + 1);

  const server = createServer(async (request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      response.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', ...headers });
      response.end(JSON.stringify(body));
    };
    if (url.pathname === '/token' && request.method === 'POST') {
      count('token');
      const form = new URLSearchParams(await readBody(request));
      if (form.get('grant_type') !== 'refresh_token' || form.get('refresh_token') !== options.refreshToken) {
        send(400, { error: 'invalid_grant', error_description: 'Token has been expired or revoked.' });
        return;
      }
      send(200, { access_token: ACCESS_TOKEN, expires_in: 3599, token_type: 'Bearer' });
      return;
    }
    count('api');
    if (request.headers.authorization !== `Bearer ${ACCESS_TOKEN}`) {
      send(401, googleError(401, 'authError', 'Invalid Credentials'));
      return;
    }
    if (failures.count > 0) {
      failures.count -= 1;
      count(`failed.${failures.status}`);
      send(
        failures.status,
        googleError(
          failures.status,
          failures.status === 429 ? 'rateLimitExceeded' : 'backendError',
          'Try again',
        ),
        failures.status === 429 ? { 'retry-after': '1' } : {},
      );
      return;
    }
    if (request.method === 'GET' && url.pathname === '/admin/directory/v1/groups') {
      count('groups.list');
      const customer = url.searchParams.get('customer');
      const domain = url.searchParams.get('domain');
      if (!customer && !domain) {
        send(400, googleError(400, 'badRequest', 'Bad Request'));
        return;
      }
      const all = [...groups.entries()]
        .filter(([, g]) => !domain || g.domain === domain)
        .map(([id, g]) => ({ kind: 'admin#directory#group', id, email: g.email }));
      const { items, nextPageToken } = page(all, url);
      send(200, {
        kind: 'admin#directory#groups',
        groups: items,
        ...(nextPageToken ? { nextPageToken } : {}),
      });
      return;
    }
    const members = /^\/admin\/directory\/v1\/groups\/([^/]+)\/members$/.exec(url.pathname);
    if (request.method === 'GET' && members) {
      count('members.list');
      const key = decodeURIComponent(members[1] ?? '');
      const group = groups.get(key) ?? [...groups.values()].find((g) => g.email === key);
      if (!group) {
        send(404, googleError(404, 'notFound', 'Resource Not Found: groupKey'));
        return;
      }
      const { items, nextPageToken } = page(
        group.members.map((m) => ({ kind: 'admin#directory#member', status: 'ACTIVE', ...m })),
        url,
      );
      // An empty group has no `members` key at all, as the real API answers.
      send(200, {
        kind: 'admin#directory#members',
        ...(items.length ? { members: items } : {}),
        ...(nextPageToken ? { nextPageToken } : {}),
      });
      return;
    }
    send(404, googleError(404, 'notFound', 'Not Found'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}/`;
  return {
    url,
    tokenUrl: `${url}token`,
    server,
    groups,
    calls,
    failNext(n, status) {
      failures = { count: n, status };
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
