// A local fake of the Zoom REST API (v2) and Zoom's OAuth token endpoint, speaking the documented
// wire format, for tests and the benchmark. Self-contained (node: modules only) so
// `node --experimental-strip-types` can load it.
//
// Implemented: POST /oauth/token (Basic client auth; account_credentials, authorization_code and
// refresh_token grants, refresh tokens rotated and single-use), GET /v2/users/me, GET /v2/users
// (paginated with next_page_token), GET /v2/users/{userId}/recordings (from/to of at most one
// month, newest first, next_page_token that expires), GET /v2/meetings/{uuid}/recordings (uuid
// encoded once, or twice when it starts with / or holds //; 404 code 3301 when gone),
// GET /v2/past_meetings/{uuid}/participants (paginated), recording file downloads that need a
// Bearer token or the webhook's download token as access_token (bodies streamed), 401 code 124
// for unknown, expired or revoked access tokens, injected 429s (without Retry-After unless
// asked) and 5xx, a fixed latency per request, and webhook deliveries signed like Zoom's.
import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeZoomOptions {
  /** Added to every request before it is answered (benchmarks). Default 0. */
  latencyMs?: number;
  /** The fake's clock (token and page-token expiry). Default `Date.now`. */
  now?: () => number;
  /** Access token lifetime. Default 3600 s. */
  tokenLifetimeSeconds?: number;
  /** next_page_token lifetime. Default 15 minutes. */
  pageTokenLifetimeMs?: number;
}

export interface FakeParticipant {
  name: string;
  email?: string;
  userId?: string;
}

export interface FakeRecordingInput {
  hostId: string;
  topic?: string;
  /** ISO 8601 start. */
  startTime: string;
  durationMinutes?: number;
  /** WebVTT text; `undefined` for a meeting without a transcript. */
  transcript?: string;
  /** Zoom's chat file text. */
  chat?: string;
  /** Size of the audio-only M4A (bytes generated on download). Default 2,000. */
  audioBytes?: number;
  participants?: FakeParticipant[];
  /** Force a uuid (e.g. one starting with `/`). */
  uuid?: string;
}

interface FakeFile {
  id: string;
  type: 'MP4' | 'M4A' | 'TRANSCRIPT' | 'CHAT' | 'TIMELINE';
  content: string | { generatedBytes: number };
  status: 'completed' | 'processing';
}

export interface FakeMeeting {
  uuid: string;
  id: number;
  hostId: string;
  topic: string;
  startTime: string;
  duration: number;
  files: FakeFile[];
  participants: FakeParticipant[];
  trashed: boolean;
}

interface FakeUser {
  id: string;
  email: string;
  first_name: string;
  last_name: string;
}

interface AccessToken {
  expiresAt: number;
  userId: string | undefined;
  revoked: boolean;
}

export const S2S_APP = {
  accountId: 'acct_FAKE123',
  clientId: 'zoom-s2s-client',
  clientSecret: 'zoom-s2s-secret',
};
export const OAUTH_APP = {
  clientId: 'zoom-user-client',
  clientSecret: 'zoom-user-secret',
  redirectUri: 'https://app.example.com/oauth/zoom/callback',
};

export interface FakeZoom {
  readonly url: string;
  /** The http server (OAuth and API), e.g. for `injectFaults`. */
  readonly server: Server;
  readonly apiUrl: string;
  readonly oauthUrl: string;
  addUser(email: string, name?: string): string;
  userIds(): string[];
  addRecording(input: FakeRecordingInput): FakeMeeting;
  meeting(uuid: string): FakeMeeting | undefined;
  meetings(): FakeMeeting[];
  /** Moves a recording to the trash (no longer listed; 404 when fetched). */
  trash(uuid: string): void;
  /** Zoom finished (or redid) the transcript: a new TRANSCRIPT file. */
  setTranscript(uuid: string, vtt: string): void;
  setTopic(uuid: string, topic: string): void;
  /** An authorization code for the user OAuth app, as the callback would receive it. */
  issueAuthorizationCode(userId: string): string;
  /** Every access token issued so far is refused from now on (401), as if revoked server-side. */
  revokeAccessTokens(): void;
  /** A webhook download token for one meeting (valid for its files only). */
  issueDownloadToken(uuid: string): string;
  failNext(count: number, status: number, options?: { retryAfter?: string }): void;
  /** Requests per route: `token:<grant>`, `users.me`, `users.list`, `recordings.list`, `meeting.recordings`, `participants`, `download:<type>`. */
  callCount(route: string): number;
  calls(): Record<string, number>;
  resetCalls(): void;
  /** Recordings list requests whose range was over one month (must stay 0). */
  readonly rangeViolations: number;
  readonly expiredPageTokens: number;
  /** A webhook delivery signed with `secret` (timestamp in seconds; default now). */
  delivery(
    secret: string,
    body: unknown,
    options?: { timestamp?: number; signature?: string },
  ): WebhookDelivery;
  close(): Promise<void>;
}

export interface WebhookDelivery {
  method: string;
  url: string;
  headers: Record<string, string>;
  rawBody: Uint8Array;
}

const MONTH_DAYS_MAX = 31;

export async function startFakeZoom(options: FakeZoomOptions = {}): Promise<FakeZoom> {
  const now = options.now ?? Date.now;
  const lifetime = options.tokenLifetimeSeconds ?? 3600;
  const pageTokenLifetimeMs = options.pageTokenLifetimeMs ?? 15 * 60 * 1000;
  const users: FakeUser[] = [];
  const meetings = new Map<string, FakeMeeting>();
  const files = new Map<string, { meeting: FakeMeeting; file: FakeFile }>();
  const accessTokens = new Map<string, AccessToken>();
  const refreshTokens = new Map<string, { userId: string; used: boolean }>();
  const codes = new Map<string, string>();
  const downloadTokens = new Map<string, string>();
  const pageTokens = new Map<string, { issuedAt: number; key: string; offset: number }>();
  const faults: { status: number; retryAfter?: string }[] = [];
  const counts = new Map<string, number>();
  let nextMeetingId = 81_000_000_000;
  let rangeViolations = 0;
  let expiredPageTokens = 0;
  let url = '';

  const count = (route: string) => counts.set(route, (counts.get(route) ?? 0) + 1);
  const token = (bytes = 18) => randomBytes(bytes).toString('base64url');

  const send = (
    response: ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ) => {
    const text = JSON.stringify(body);
    response.writeHead(status, { 'content-type': 'application/json;charset=UTF-8', ...headers });
    response.end(text);
  };
  const zoomError = (response: ServerResponse, status: number, code: number, message: string) =>
    send(response, status, { code, message });

  const readBody = (request: IncomingMessage) =>
    new Promise<string>((resolve, reject) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      request.on('error', reject);
    });

  const issueAccessToken = (userId: string | undefined) => {
    const value = `zat_${token(24)}`;
    accessTokens.set(value, { expiresAt: now() + lifetime * 1000, userId, revoked: false });
    return value;
  };

  const bearer = (request: IncomingMessage): AccessToken | undefined => {
    const header = request.headers.authorization ?? '';
    const match = /^Bearer (.+)$/.exec(header);
    if (!match) return undefined;
    const entry = accessTokens.get(match[1] as string);
    if (!entry || entry.revoked || entry.expiresAt <= now()) return undefined;
    return entry;
  };

  async function handleToken(request: IncomingMessage, response: ServerResponse) {
    const form = new URLSearchParams(await readBody(request));
    const grant = form.get('grant_type') ?? '';
    count(`token:${grant}`);
    const basic = /^Basic (.+)$/.exec(request.headers.authorization ?? '');
    const [clientId, clientSecret] = basic
      ? Buffer.from(basic[1] as string, 'base64')
          .toString()
          .split(':')
      : [];
    const s2s = clientId === S2S_APP.clientId && clientSecret === S2S_APP.clientSecret;
    const user = clientId === OAUTH_APP.clientId && clientSecret === OAUTH_APP.clientSecret;
    if (!s2s && !user)
      return send(response, 401, { reason: 'Invalid client_id or client_secret', error: 'invalid_client' });
    const tokenBody = (access: string, refresh?: string) => ({
      access_token: access,
      token_type: 'bearer',
      expires_in: lifetime,
      scope: 'cloud_recording:read:list_user_recordings:admin user:read:list_users:admin',
      ...(refresh ? { refresh_token: refresh } : {}),
    });
    if (grant === 'account_credentials' && s2s) {
      if (form.get('account_id') !== S2S_APP.accountId) {
        return send(response, 400, { reason: 'Invalid account_id', error: 'invalid_request' });
      }
      return send(response, 200, tokenBody(issueAccessToken(undefined)));
    }
    if (grant === 'authorization_code' && user) {
      const userId = codes.get(form.get('code') ?? '');
      if (!userId || form.get('redirect_uri') !== OAUTH_APP.redirectUri) {
        return send(response, 400, { reason: 'Invalid authorization code', error: 'invalid_grant' });
      }
      codes.delete(form.get('code') ?? '');
      const refresh = `zrt_${token()}`;
      refreshTokens.set(refresh, { userId, used: false });
      return send(response, 200, tokenBody(issueAccessToken(userId), refresh));
    }
    if (grant === 'refresh_token' && user) {
      const entry = refreshTokens.get(form.get('refresh_token') ?? '');
      if (!entry || entry.used)
        return send(response, 400, { reason: 'Invalid Token!', error: 'invalid_grant' });
      // Rotation: the old refresh token is spent, a new one comes with the access token.
      entry.used = true;
      const refresh = `zrt_${token()}`;
      refreshTokens.set(refresh, { userId: entry.userId, used: false });
      return send(response, 200, tokenBody(issueAccessToken(entry.userId), refresh));
    }
    return send(response, 400, { reason: 'Unsupported grant type', error: 'unsupported_grant_type' });
  }

  const findUser = (ref: string, auth: AccessToken): FakeUser | undefined => {
    if (ref === 'me') return auth.userId ? users.find((u) => u.id === auth.userId) : users[0];
    return users.find((u) => u.id === ref || u.email.toLowerCase() === ref.toLowerCase());
  };

  const fileJson = (meeting: FakeMeeting, file: FakeFile) => {
    const base = {
      meeting_id: meeting.uuid,
      recording_start: meeting.startTime,
      recording_end: new Date(Date.parse(meeting.startTime) + meeting.duration * 60_000)
        .toISOString()
        .replace('.000', ''),
      file_type: file.type,
      download_url: `${url}/rec/download/${file.id}`,
    };
    // TIMELINE (and CC) files have no id, status or size.
    if (file.type === 'TIMELINE') return base;
    const size =
      typeof file.content === 'string' ? Buffer.byteLength(file.content) : file.content.generatedBytes;
    return {
      ...base,
      id: file.id,
      file_extension: file.type === 'TRANSCRIPT' ? 'VTT' : file.type === 'CHAT' ? 'TXT' : file.type,
      file_size: size,
      play_url: `${url}/rec/play/${file.id}`,
      status: file.status,
      recording_type:
        file.type === 'TRANSCRIPT'
          ? 'audio_transcript'
          : file.type === 'CHAT'
            ? 'chat_file'
            : file.type === 'M4A'
              ? 'audio_only'
              : 'shared_screen_with_speaker_view',
    };
  };

  const meetingJson = (meeting: FakeMeeting) => {
    const host = users.find((u) => u.id === meeting.hostId);
    return {
      uuid: meeting.uuid,
      id: meeting.id,
      account_id: S2S_APP.accountId,
      host_id: meeting.hostId,
      ...(host ? { host_email: host.email } : {}),
      topic: meeting.topic,
      type: 2,
      start_time: meeting.startTime,
      timezone: 'UTC',
      duration: meeting.duration,
      total_size: meeting.files.reduce(
        (sum, f) => sum + (typeof f.content === 'string' ? f.content.length : f.content.generatedBytes),
        0,
      ),
      recording_count: meeting.files.length,
      share_url: `${url}/rec/share/${meeting.id}`,
      recording_files: meeting.files.map((file) => fileJson(meeting, file)),
    };
  };

  /** Paginates `items` with expiring page tokens bound to the query (`key`). */
  function pageOf<T>(
    items: T[],
    key: string,
    pageSize: number,
    pageToken: string | null,
    response: ServerResponse,
  ) {
    let offset = 0;
    if (pageToken) {
      const entry = pageTokens.get(pageToken);
      if (!entry || entry.key !== key) {
        zoomError(response, 400, 300, 'Invalid next_page_token.');
        return undefined;
      }
      if (entry.issuedAt + pageTokenLifetimeMs <= now()) {
        expiredPageTokens += 1;
        zoomError(response, 400, 300, 'The next page token is invalid or expired.');
        return undefined;
      }
      offset = entry.offset;
    }
    const page = items.slice(offset, offset + pageSize);
    let next = '';
    if (offset + pageSize < items.length) {
      next = token(24);
      pageTokens.set(next, { issuedAt: now(), key, offset: offset + pageSize });
    }
    return { page, next, total: items.length };
  }

  const decodeUuid = (segment: string) => {
    const once = decodeURIComponent(segment);
    return /%[0-9A-Fa-f]{2}/.test(once) ? decodeURIComponent(once) : once;
  };

  async function handleApi(request: IncomingMessage, response: ServerResponse, requestUrl: URL) {
    const path = requestUrl.pathname;
    const auth = bearer(request);
    const route = routeOf(path);
    count(route);
    const fault = faults.shift();
    if (fault) {
      return send(
        response,
        fault.status,
        {
          code: fault.status,
          message:
            fault.status === 429
              ? 'You have reached the maximum per-second rate limit for this API. Try again later.'
              : 'Internal error',
        },
        fault.retryAfter ? { 'retry-after': fault.retryAfter } : {},
      );
    }
    if (!auth) return zoomError(response, 401, 124, 'Invalid access token.');
    const query = requestUrl.searchParams;
    const pageSize = Math.min(Number(query.get('page_size') ?? 30) || 30, 300);

    if (route === 'users.me') {
      const user = findUser('me', auth);
      return user
        ? send(response, 200, { ...user, type: 2, status: 'active' })
        : zoomError(response, 404, 1001, 'User does not exist.');
    }
    if (route === 'users.list') {
      if (auth.userId)
        return zoomError(
          response,
          400,
          4711,
          'Invalid access token, does not contain scopes:[user:read:list_users:admin].',
        );
      const result = pageOf(users, 'users', pageSize, query.get('next_page_token'), response);
      if (!result) return;
      return send(response, 200, {
        page_count: Math.ceil(result.total / pageSize),
        page_number: 1,
        page_size: pageSize,
        total_records: result.total,
        next_page_token: result.next,
        users: result.page.map((u) => ({ ...u, type: 2, status: 'active' })),
      });
    }
    if (route === 'recordings.list') {
      const ref = decodeURIComponent(path.split('/')[3] ?? '');
      const user = findUser(ref, auth);
      if (!user) return zoomError(response, 404, 1001, `User does not exist: ${ref}`);
      const from = query.get('from') ?? '';
      const to = query.get('to') ?? '';
      const fromMs = Date.parse(`${from}T00:00:00Z`);
      const toMs = Date.parse(`${to}T00:00:00Z`);
      if (Number.isNaN(fromMs) || Number.isNaN(toMs) || toMs < fromMs)
        return zoomError(response, 300, 300, 'Invalid date range.');
      const oneMonthLater = new Date(fromMs);
      oneMonthLater.setUTCMonth(oneMonthLater.getUTCMonth() + 1);
      if (toMs > oneMonthLater.getTime() || (toMs - fromMs) / 86_400_000 > MONTH_DAYS_MAX) {
        rangeViolations += 1;
        return zoomError(response, 400, 300, 'The date range must be within one month.');
      }
      const listed = [...meetings.values()]
        .filter((m) => m.hostId === user.id && !m.trashed)
        .filter((m) => {
          const day = m.startTime.slice(0, 10);
          return day >= from && day <= to;
        })
        .sort((a, b) => b.startTime.localeCompare(a.startTime) || a.uuid.localeCompare(b.uuid));
      const result = pageOf(
        listed,
        `rec:${user.id}:${from}:${to}`,
        pageSize,
        query.get('next_page_token'),
        response,
      );
      if (!result) return;
      return send(response, 200, {
        from,
        to,
        page_count: Math.ceil(result.total / pageSize),
        page_size: pageSize,
        total_records: result.total,
        next_page_token: result.next,
        meetings: result.page.map(meetingJson),
      });
    }
    if (route === 'meeting.recordings') {
      const meeting = meetings.get(decodeUuid(path.split('/')[3] ?? ''));
      if (!meeting || meeting.trashed)
        return zoomError(response, 404, 3301, 'This recording does not exist.');
      return send(response, 200, meetingJson(meeting));
    }
    if (route === 'participants') {
      const uuid = decodeUuid(path.split('/')[3] ?? '');
      const meeting = meetings.get(uuid);
      if (!meeting) return zoomError(response, 404, 3001, 'Meeting does not exist.');
      const result = pageOf(
        meeting.participants,
        `p:${uuid}`,
        pageSize,
        query.get('next_page_token'),
        response,
      );
      if (!result) return;
      return send(response, 200, {
        page_count: Math.ceil(result.total / pageSize),
        page_size: pageSize,
        total_records: result.total,
        next_page_token: result.next,
        participants: result.page.map((p) => ({
          id: p.userId ?? '',
          name: p.name,
          user_email: p.email ?? '',
        })),
      });
    }
    return zoomError(response, 404, 404, `No such route ${path}`);
  }

  function handleDownload(request: IncomingMessage, response: ServerResponse, requestUrl: URL) {
    const fileId = requestUrl.pathname.split('/')[3] ?? '';
    const entry = files.get(fileId);
    count(`download:${entry?.file.type ?? 'unknown'}`);
    const fault = faults.shift();
    if (fault)
      return send(
        response,
        fault.status,
        { code: fault.status, message: 'fault' },
        fault.retryAfter ? { 'retry-after': fault.retryAfter } : {},
      );
    if (!entry || entry.meeting.trashed)
      return zoomError(response, 404, 3301, 'This recording does not exist.');
    const accessToken = requestUrl.searchParams.get('access_token');
    const allowed = accessToken
      ? downloadTokens.get(accessToken) === entry.meeting.uuid
      : bearer(request) !== undefined;
    if (!allowed) return zoomError(response, 401, 124, 'Invalid access token.');
    count(`download-auth:${accessToken ? 'download_token' : 'bearer'}`);
    const { content } = entry.file;
    const size = typeof content === 'string' ? Buffer.byteLength(content) : content.generatedBytes;
    response.writeHead(200, {
      'content-type':
        entry.file.type === 'TRANSCRIPT'
          ? 'text/vtt'
          : entry.file.type === 'CHAT'
            ? 'text/plain'
            : 'application/octet-stream',
      'content-length': String(size),
    });
    if (typeof content === 'string') return response.end(content);
    // Streamed in 64 KB chunks, as a real download arrives.
    let sent = 0;
    const writeMore = () => {
      while (sent < size) {
        const length = Math.min(65_536, size - sent);
        sent += length;
        if (!response.write(Buffer.alloc(length, 7))) return response.once('drain', writeMore);
      }
      response.end();
    };
    writeMore();
  }

  const server: Server = createServer((request, response) => {
    const requestUrl = new URL(request.url ?? '/', url);
    const handle = async () => {
      if (requestUrl.pathname === '/oauth/token' && request.method === 'POST')
        return handleToken(request, response);
      if (requestUrl.pathname.startsWith('/v2/')) return handleApi(request, response, requestUrl);
      if (requestUrl.pathname.startsWith('/rec/download/'))
        return handleDownload(request, response, requestUrl);
      return zoomError(response, 404, 404, 'not found');
    };
    const run = () =>
      handle().catch((error: unknown) => {
        if (!response.headersSent) send(response, 500, { code: 500, message: String(error) });
      });
    if (options.latencyMs) setTimeout(run, options.latencyMs);
    else void run();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const addFile = (meeting: FakeMeeting, type: FakeFile['type'], content: FakeFile['content']) => {
    const file: FakeFile = { id: `${type.toLowerCase()}-${token(9)}`, type, content, status: 'completed' };
    meeting.files.push(file);
    files.set(file.id, { meeting, file });
    return file;
  };

  return {
    url,
    server,
    apiUrl: `${url}/v2`,
    oauthUrl: url,
    addUser(email, name = email.split('@')[0] ?? email) {
      const id = `u${token(9).replace(/[-_]/g, 'x')}`;
      users.push({ id, email, first_name: name, last_name: 'Tester' });
      return id;
    },
    userIds: () => users.map((u) => u.id),
    addRecording(input) {
      const meeting: FakeMeeting = {
        uuid: input.uuid ?? randomBytes(16).toString('base64'),
        id: nextMeetingId++,
        hostId: input.hostId,
        topic: input.topic ?? 'Weekly sync',
        startTime: input.startTime,
        duration: input.durationMinutes ?? 30,
        files: [],
        participants: input.participants ?? [],
        trashed: false,
      };
      meetings.set(meeting.uuid, meeting);
      const audio = input.audioBytes ?? 2000;
      addFile(meeting, 'MP4', { generatedBytes: audio * 4 });
      addFile(meeting, 'M4A', { generatedBytes: audio });
      addFile(meeting, 'TIMELINE', '{"timeline":[]}');
      if (input.transcript !== undefined) addFile(meeting, 'TRANSCRIPT', input.transcript);
      if (input.chat !== undefined) addFile(meeting, 'CHAT', input.chat);
      return meeting;
    },
    meeting: (uuid) => meetings.get(uuid),
    meetings: () => [...meetings.values()],
    trash(uuid) {
      const meeting = meetings.get(uuid);
      if (meeting) meeting.trashed = true;
    },
    setTranscript(uuid, vtt) {
      const meeting = meetings.get(uuid);
      if (!meeting) throw new Error(`no meeting ${uuid}`);
      meeting.files = meeting.files.filter((file) => file.type !== 'TRANSCRIPT');
      addFile(meeting, 'TRANSCRIPT', vtt);
    },
    setTopic(uuid, topic) {
      const meeting = meetings.get(uuid);
      if (meeting) meeting.topic = topic;
    },
    issueAuthorizationCode(userId) {
      const code = `code_${token()}`;
      codes.set(code, userId);
      return code;
    },
    revokeAccessTokens() {
      for (const entry of accessTokens.values()) entry.revoked = true;
    },
    issueDownloadToken(uuid) {
      const value = `zdt_${token(24)}`;
      downloadTokens.set(value, uuid);
      return value;
    },
    failNext(countOfRequests, status, faultOptions = {}) {
      for (let index = 0; index < countOfRequests; index++) faults.push({ status, ...faultOptions });
    },
    callCount: (route) => counts.get(route) ?? 0,
    calls: () => Object.fromEntries(counts),
    resetCalls: () => counts.clear(),
    get rangeViolations() {
      return rangeViolations;
    },
    get expiredPageTokens() {
      return expiredPageTokens;
    },
    delivery(secret, body, deliveryOptions = {}) {
      const rawBody = Buffer.from(JSON.stringify(body));
      const timestamp = String(deliveryOptions.timestamp ?? Math.floor(now() / 1000));
      const signature =
        deliveryOptions.signature ??
        `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:`).update(rawBody).digest('hex')}`;
      return {
        method: 'POST',
        url: 'https://hooks.example.com/tributary/zoom',
        headers: {
          'content-type': 'application/json',
          'x-zm-request-timestamp': timestamp,
          'x-zm-signature': signature,
          'x-zm-trackingid': `v=2.0&s=${token(8)}`,
        },
        rawBody: new Uint8Array(rawBody),
      };
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

function routeOf(path: string): string {
  if (path === '/v2/users/me') return 'users.me';
  if (path === '/v2/users') return 'users.list';
  if (/^\/v2\/users\/[^/]+\/recordings$/.test(path)) return 'recordings.list';
  if (/^\/v2\/meetings\/[^/]+\/recordings$/.test(path)) return 'meeting.recordings';
  if (/^\/v2\/past_meetings\/[^/]+\/participants$/.test(path)) return 'participants';
  return 'unknown';
}

/** A WebVTT transcript the way Zoom writes it (`Speaker: text` cues). */
export function zoomVtt(lines: readonly [speaker: string, text: string][]): string {
  const cues = lines.map(([speaker, text], index) => {
    const start = index * 5;
    const stamp = (seconds: number) =>
      `${String(Math.floor(seconds / 3600)).padStart(2, '0')}:${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')}:${String(seconds % 60).padStart(2, '0')}.000`;
    return `${index + 1}\n${stamp(start)} --> ${stamp(start + 4)}\n${speaker}: ${text}`;
  });
  return `WEBVTT\n\n${cues.join('\n\n')}\n`;
}
