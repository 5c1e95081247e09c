// A local fake of the Notion API (version 2025-09-03) on node:http, spoken to by the real
// @notionhq/client: Bearer tokens, the Notion-Version header (any other version is refused),
// search sorted by last_edited_time with cursors, block children in pages of at most 100, data
// source queries, OAuth token exchange with Basic auth, documented error bodies, 429 with
// Retry-After, 529 service_overload, hanging requests, and (optionally) Notion's rate limit.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BOT_ID, FakeNotionStore } from './fake-notion-store.ts';
import { ERROR_CODES, list, paginate, readJson } from './fake-notion-wire.ts';

export const PINNED_VERSION = '2025-09-03';
export const INTERNAL_TOKEN = 'ntn_fakeinternaltoken0123456789abcdef';

export interface FakeNotionOptions {
  /** Enforce Notion's budget: a token bucket of this rate; over it, 429 with Retry-After. */
  requestsPerSecond?: number | undefined;
  burst?: number | undefined;
}

interface Fault {
  status: number;
  /** Sent as the (200) body instead of the real answer. */
  body?: unknown;
  retryAfter?: string | undefined;
  hang?: boolean | undefined;
}

export interface OAuthGrant {
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  accessToken: string;
  workspaceId: string;
}

type Json = Record<string, unknown>;

export class FakeNotion {
  readonly store = new FakeNotionStore();
  readonly tokens = new Set<string>([INTERNAL_TOKEN]);
  readonly codes = new Map<string, OAuthGrant>();
  /** Live refresh tokens and the grant each renews (single-use: rotated on every refresh). */
  readonly refreshTokens = new Map<string, OAuthGrant>();
  refreshCalls = 0;
  /** Requests by route (`POST /v1/search`, `GET /v1/blocks/:id/children`...), faults and 429s included. */
  readonly requests = new Map<string, number>();
  /** Notion-Version values received. */
  readonly versions = new Set<string>();
  rateLimited = 0;
  /** Search answers `request_status: incomplete` (Notion stopped early: query_result_limit_reached). */
  searchIncomplete = false;
  /** Requests refused 401 (an unknown, revoked or expired token). */
  rejected = 0;
  total = 0;
  private faults: Fault[] = [];
  private readonly hanging = new Set<ServerResponse>();
  private tokensInBucket: number;
  private bucketAt = Date.now();
  url = '';

  /** The node:http server (for `injectFaults` from @tributary/testkit). */
  readonly server: Server;
  private readonly options: FakeNotionOptions;

  constructor(server: Server, options: FakeNotionOptions) {
    this.server = server;
    this.options = options;
    this.tokensInBucket = options.burst ?? options.requestsPerSecond ?? 0;
  }

  /** The next `count` requests answer `status` (429/529 with `retryAfter` seconds if given). */
  failNext(count: number, status: number, options: { retryAfter?: string } = {}): void {
    for (let index = 0; index < count; index++) this.faults.push({ status, retryAfter: options.retryAfter });
  }

  /** The next request answers 200 with `body` (a response of the wrong shape). */
  malformedNext(body: unknown): void {
    this.faults.push({ status: 200, body });
  }

  /** The next `count` requests never answer. */
  hangNext(count: number): void {
    for (let index = 0; index < count; index++) this.faults.push({ status: 0, hang: true });
  }

  revoke(token: string): void {
    this.tokens.delete(token);
  }

  count(route: string): number {
    return this.requests.get(route) ?? 0;
  }

  resetCounts(): void {
    this.requests.clear();
    this.total = 0;
    this.rateLimited = 0;
    this.rejected = 0;
  }

  close(): Promise<void> {
    for (const response of this.hanging) response.destroy();
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private overBudget(): number | undefined {
    const rate = this.options.requestsPerSecond;
    if (!rate) return undefined;
    const burst = this.options.burst ?? rate;
    const now = Date.now();
    this.tokensInBucket = Math.min(burst, this.tokensInBucket + ((now - this.bucketAt) / 1000) * rate);
    this.bucketAt = now;
    if (this.tokensInBucket >= 1) {
      this.tokensInBucket -= 1;
      return undefined;
    }
    return Math.ceil((1 - this.tokensInBucket) / rate);
  }

  async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://fake');
    const method = request.method ?? 'GET';
    const route = `${method} ${url.pathname.replace(/[0-9a-f-]{32,36}/g, ':id')}`;
    this.requests.set(route, (this.requests.get(route) ?? 0) + 1);
    this.total += 1;
    const body = await readJson(request);
    const send = (status: number, json: unknown, headers: Record<string, string> = {}) => {
      response.writeHead(status, { 'content-type': 'application/json', ...headers });
      response.end(JSON.stringify(json));
    };
    const error = (status: number, message: string, headers: Record<string, string> = {}, code?: string) =>
      send(
        status,
        {
          object: 'error',
          status,
          code: code ?? ERROR_CODES[status] ?? 'internal_server_error',
          message,
          request_id: 'req-fake',
        },
        headers,
      );

    const wait = this.overBudget();
    if (wait !== undefined) {
      this.rateLimited += 1;
      return error(429, 'You have been rate limited. Please try again in a few minutes.', {
        'retry-after': String(wait),
      });
    }
    const fault = this.faults.shift();
    if (fault?.hang) {
      this.hanging.add(response);
      response.on('close', () => this.hanging.delete(response));
      return;
    }
    if (fault?.body !== undefined) return send(200, fault.body);
    if (fault)
      return error(
        fault.status,
        'injected fault',
        fault.retryAfter ? { 'retry-after': fault.retryAfter } : {},
      );

    const version = request.headers['notion-version'];
    if (typeof version === 'string') this.versions.add(version);
    if (version !== PINNED_VERSION) {
      return error(
        400,
        `Notion-Version ${String(version)} is not the pinned ${PINNED_VERSION}`,
        {},
        'missing_version',
      );
    }
    if (method === 'POST' && url.pathname === '/v1/oauth/token')
      return this.oauthToken(request, body, send, error);
    const authorization = request.headers.authorization ?? '';
    const token = authorization.startsWith('Bearer ') ? authorization.slice(7) : '';
    if (!this.tokens.has(token)) {
      this.rejected += 1;
      return error(401, 'API token is invalid.');
    }
    const result = this.route(method, url, body);
    if ('status' in result && typeof result.status === 'number' && result.object === 'error') {
      return error(result.status, String(result.message));
    }
    send(200, result);
  }

  private route(method: string, url: URL, body: Json): Json {
    const store = this.store;
    const notFound = (id: string) => ({
      object: 'error',
      status: 404,
      message: `Could not find object with ID: ${id}. Make sure the relevant pages and databases are shared with your integration.`,
    });
    const path = url.pathname;
    const at = (pattern: RegExp) => pattern.exec(path)?.[1];
    let id: string | undefined;
    if (method === 'GET' && path === '/v1/users/me') {
      return {
        object: 'user',
        id: BOT_ID,
        type: 'bot',
        name: 'Tributary',
        bot: { owner: { type: 'workspace', workspace: true }, workspace_name: 'Fake workspace' },
      };
    }
    if (method === 'POST' && path === '/v1/search') return this.search(body);
    id = method === 'GET' ? at(/^\/v1\/pages\/([^/]+)$/) : undefined;
    if (id !== undefined) {
      const page = store.visible(id);
      return page ? store.pageJson(page) : notFound(id);
    }
    id = method === 'GET' ? at(/^\/v1\/blocks\/([^/]+)\/children$/) : undefined;
    if (id !== undefined) {
      const ownerPage = store.pages.get(id);
      if ((ownerPage && !ownerPage.shared) || (!ownerPage && !store.blocks.has(id))) return notFound(id);
      const pageSize = Math.min(100, Number(url.searchParams.get('page_size') ?? 100));
      const ids = store.children.get(id) ?? [];
      const cursor = url.searchParams.get('start_cursor');
      const start = cursor ? Math.max(0, ids.indexOf(cursor)) : 0;
      const slice = ids.slice(start, start + pageSize);
      const next = ids[start + pageSize];
      return list(
        slice.map((blockId) => store.blockJson(store.blocks.get(blockId) as never)),
        next ?? null,
        'block',
      );
    }
    id = method === 'GET' ? at(/^\/v1\/blocks\/([^/]+)$/) : undefined;
    if (id !== undefined) {
      const found = store.blocks.get(id);
      return found ? store.blockJson(found) : notFound(id);
    }
    id = method === 'GET' ? at(/^\/v1\/data_sources\/([^/]+)$/) : undefined;
    if (id !== undefined) {
      const source = store.dataSources.get(id);
      return source?.shared ? store.dataSourceJson(source) : notFound(id);
    }
    id = method === 'POST' ? at(/^\/v1\/data_sources\/([^/]+)\/query$/) : undefined;
    if (id !== undefined) {
      if (!store.dataSources.get(id)?.shared) return notFound(id);
      const rows = [...store.pages.values()].filter(
        (page) => page.shared && !page.inTrash && page.parent.data_source_id === id,
      );
      return paginate(
        rows.map((page) => store.pageJson(page)),
        body,
        'page_or_data_source',
      );
    }
    return { object: 'error', status: 400, message: `no route ${method} ${path}` };
  }

  private search(body: Json): Json {
    const filter = body.filter as { value?: string; in_trash?: boolean } | undefined;
    const store = this.store;
    // As documented: live objects only, or with `in_trash: true` trashed objects only.
    const trash = filter?.in_trash === true;
    const pages = [...store.pages.values()]
      .filter((page) => page.shared && page.inTrash === trash && !store.notIndexed.has(page.id))
      .map((page) => store.pageJson(page));
    const sources = [...store.dataSources.values()]
      .filter((source) => source.shared && source.inTrash === trash)
      .map((source) => store.dataSourceJson(source));
    const objects =
      filter?.value === 'page' ? pages : filter?.value === 'data_source' ? sources : [...pages, ...sources];
    const direction = (body.sort as { direction?: string } | undefined)?.direction ?? 'descending';
    objects.sort((a, b) => {
      const order =
        String(a.last_edited_time).localeCompare(String(b.last_edited_time)) ||
        String(a.id).localeCompare(String(b.id));
      return direction === 'ascending' ? order : -order;
    });
    const status = this.searchIncomplete
      ? { type: 'incomplete', incomplete_reason: 'query_result_limit_reached' }
      : { type: 'complete' };
    return { ...paginate(objects, body, 'page_or_data_source'), request_status: status };
  }

  private oauthToken(
    request: IncomingMessage,
    body: Json,
    send: (status: number, json: unknown) => void,
    error: (status: number, message: string, headers?: Record<string, string>, code?: string) => void,
  ): void {
    const basic = request.headers.authorization ?? '';
    const [clientId, clientSecret] = Buffer.from(basic.replace(/^Basic /, ''), 'base64')
      .toString()
      .split(':');
    if (body.grant_type === 'refresh_token') {
      this.refreshCalls += 1;
      const refresh = this.refreshTokens.get(String(body.refresh_token));
      if (
        !basic.startsWith('Basic ') ||
        !refresh ||
        refresh.clientId !== clientId ||
        refresh.clientSecret !== clientSecret
      ) {
        error(400, 'Invalid refresh token.', {}, 'invalid_grant');
        return;
      }
      // Rotation: the refresh token is single-use; a new pair replaces it.
      this.refreshTokens.delete(String(body.refresh_token));
      this.tokens.delete(refresh.accessToken);
      const generation = this.refreshCalls;
      const grant = { ...refresh, accessToken: `ntn_refreshed${generation}AccessToken0123456789` };
      send(200, this.tokenResponse(grant, `refresh-${generation}-${grant.accessToken}`));
      return;
    }
    const grant = this.codes.get(String(body.code));
    if (
      !basic.startsWith('Basic ') ||
      !grant ||
      grant.clientId !== clientId ||
      grant.clientSecret !== clientSecret
    ) {
      error(401, 'invalid client or code', {}, 'invalid_client');
      return;
    }
    if (body.grant_type !== 'authorization_code' || body.redirect_uri !== grant.redirectUri) {
      error(400, 'invalid grant', {}, 'invalid_grant');
      return;
    }
    this.codes.delete(String(body.code));
    send(200, this.tokenResponse(grant, `refresh-${grant.accessToken}`));
  }

  /** Issues an access token (and its refresh token) for a grant. */
  private tokenResponse(grant: OAuthGrant, refreshToken: string): Json {
    this.tokens.add(grant.accessToken);
    this.refreshTokens.set(refreshToken, grant);
    return {
      access_token: grant.accessToken,
      token_type: 'bearer',
      refresh_token: refreshToken,
      bot_id: BOT_ID,
      workspace_icon: null,
      workspace_name: 'Fake workspace',
      workspace_id: grant.workspaceId,
      owner: {
        type: 'user',
        user: {
          object: 'user',
          id: '22222222-2222-4222-8222-222222222222',
          name: 'Ada',
          avatar_url: null,
          type: 'person',
          person: { email: 'ada@example.com' },
        },
      },
      duplicated_template_id: null,
      request_id: 'req-fake',
    };
  }
}

export async function startFakeNotion(options: FakeNotionOptions = {}): Promise<FakeNotion> {
  let fake: FakeNotion | undefined;
  const server = createServer((request, response) => {
    fake?.handle(request, response).catch((error: unknown) => {
      response.writeHead(500, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({
          object: 'error',
          status: 500,
          code: 'internal_server_error',
          message: String(error),
        }),
      );
    });
  });
  fake = new FakeNotion(server, options);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return fake;
}
