// A local fake of the Google Drive v3 API, the Sheets API (sheet list only), Docs export links
// and Google's OAuth token endpoint, speaking the documented wire format, for tests and the
// benchmark. Self-contained (node: modules only) so `node --experimental-strip-types` can load it.
//
// Implemented: files.list (q parsing of the clauses the connector sends, pageToken pagination,
// `fields` projection, corpora/driveId, optional empty/partial pages and incompleteSearch),
// files.get (fields, alt=media), files.export (10 MB cap → 403 exportSizeLimitExceeded),
// permissions.list, drives.list, about.get, changes.getStartPageToken/list/watch, channels.stop,
// the JWT bearer grant (signature verified with the service account's public key) and the
// refresh-token grant (revocation → invalid_grant), 401 for unknown access tokens and for tokens
// rejected before their expiry (rejectAccessTokens), injected
// 403 rateLimitExceeded/userRateLimitExceeded, 429 with Retry-After, and 5xx.
import { createHash, createVerify, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export const FOLDER = 'application/vnd.google-apps.folder';
export const DOC = 'application/vnd.google-apps.document';
export const SHEET = 'application/vnd.google-apps.spreadsheet';
export const SLIDES = 'application/vnd.google-apps.presentation';
export const GOOGLE_AUDIENCE = 'https://oauth2.googleapis.com/token';
const EXPORT_LIMIT = 10 * 1024 * 1024;

export interface FakePermission {
  id: string;
  type: 'user' | 'group' | 'domain' | 'anyone';
  role: 'owner' | 'organizer' | 'fileOrganizer' | 'writer' | 'commenter' | 'reader';
  emailAddress?: string;
  domain?: string;
  displayName?: string;
  allowFileDiscovery?: boolean;
}

export interface FakeSheet {
  sheetId: number;
  title: string;
  csv: string;
}

export interface FakeFile {
  id: string;
  name: string;
  mimeType: string;
  parents: string[];
  driveId?: string;
  trashed: boolean;
  modifiedTime: string;
  version: number;
  /** Binary bytes, or the text of a Doc/Slides. */
  content?: string | Uint8Array;
  /** Docs: the Markdown export; absent → generated from `content`. */
  markdown?: string;
  /** Docs: text/markdown export answers 400 (an old Drive), to exercise the plain-text fallback. */
  noMarkdown?: boolean;
  sheets?: FakeSheet[];
  owners: { displayName: string; emailAddress: string; permissionId: string }[];
  permissions: FakePermission[];
  sharedWithMeTime?: string;
}

interface ChangeEntry {
  seq: number;
  fileId: string;
  removed: boolean;
  time: string;
  driveId?: string;
}

interface Channel {
  id: string;
  resourceId: string;
  address: string;
  token: string;
  expiration: number;
  messageNumber: number;
}

/** Which API request triggers `rejectAccessTokens`. */
export type RejectAt = 'any' | 'files.list' | 'files.media';

interface Fault {
  status: number;
  reason?: string;
  retryAfter?: string;
}

export interface FakeNotification {
  method: string;
  url: string;
  headers: Record<string, string>;
  rawBody: Uint8Array;
}

export interface FakeDriveOptions {
  /** First page of every listing empty, later pages half full (Drive may do both). */
  partialPages?: boolean;
  /** Every files.list answer says incompleteSearch: true. */
  incompleteSearch?: boolean;
  /** The Sheets API is not enabled in the project: it answers 403 accessNotConfigured. */
  sheetsApiDisabled?: boolean;
  /** `expires_in` of issued access tokens (default 3599 s). */
  tokenLifetimeSeconds?: number;
}

export interface NewFileInput {
  id?: string;
  name: string;
  mimeType?: string;
  parent: string;
  content?: string | Uint8Array;
  markdown?: string;
  noMarkdown?: boolean;
  sheets?: FakeSheet[];
  permissions?: FakePermission[];
  sharedWithMe?: boolean;
}

class HttpError extends Error {
  status: number;
  body: unknown;
  headers: Record<string, string>;
  constructor(status: number, body: unknown, headers: Record<string, string> = {}) {
    super(`HTTP ${status}`);
    this.status = status;
    this.body = body;
    this.headers = headers;
  }
}

function apiError(status: number, reason: string, message: string): HttpError {
  return new HttpError(status, {
    error: { code: status, message, errors: [{ domain: 'global', reason, message }] },
  });
}

// ---- q parsing ---------------------------------------------------------------------------------

type Token =
  | { kind: 'string'; value: string }
  | { kind: 'word'; value: string }
  | { kind: 'op'; value: string };
type Predicate = (file: FakeFile) => boolean;

function tokenize(q: string): Token[] {
  const tokens: Token[] = [];
  let index = 0;
  while (index < q.length) {
    const char = q[index] as string;
    if (/\s/.test(char)) {
      index += 1;
    } else if (char === "'") {
      let value = '';
      index += 1;
      while (index < q.length && q[index] !== "'") {
        if (q[index] === '\\') index += 1;
        value += q[index] ?? '';
        index += 1;
      }
      if (q[index] !== "'") throw apiError(400, 'invalid', `Invalid Value: unterminated string in q`);
      index += 1;
      tokens.push({ kind: 'string', value });
    } else if (char === '(' || char === ')') {
      tokens.push({ kind: 'op', value: char });
      index += 1;
    } else if (/[=!<>]/.test(char)) {
      const two = q.slice(index, index + 2);
      const op = ['!=', '<=', '>='].includes(two) ? two : char;
      tokens.push({ kind: 'op', value: op });
      index += op.length;
    } else {
      const match = /^[A-Za-z_][A-Za-z0-9_]*/.exec(q.slice(index));
      if (!match) throw apiError(400, 'invalid', `Invalid Value: cannot parse q at ${index}`);
      tokens.push({ kind: 'word', value: match[0] });
      index += match[0].length;
    }
  }
  return tokens;
}

/** Parses the q subset the connector uses; anything else is a 400 (so tests prove what is sent). */
export function parseQuery(q: string): Predicate {
  const tokens = tokenize(q);
  let position = 0;
  const peek = () => tokens[position];
  const next = () => {
    const token = tokens[position];
    if (!token) throw apiError(400, 'invalid', 'Invalid Value: q ended early');
    position += 1;
    return token;
  };
  const word = (token: Token | undefined, value: string) => token?.kind === 'word' && token.value === value;

  const parseOr = (): Predicate => {
    let left = parseAnd();
    while (word(peek(), 'or')) {
      next();
      const right = parseAnd();
      const l = left;
      left = (file) => l(file) || right(file);
    }
    return left;
  };
  const parseAnd = (): Predicate => {
    let left = parseTerm();
    while (word(peek(), 'and')) {
      next();
      const right = parseTerm();
      const l = left;
      left = (file) => l(file) && right(file);
    }
    return left;
  };
  const parseTerm = (): Predicate => {
    const token = next();
    if (token.kind === 'op' && token.value === '(') {
      const inner = parseOr();
      const close = next();
      if (close.kind !== 'op' || close.value !== ')')
        throw apiError(400, 'invalid', 'Invalid Value: missing )');
      return inner;
    }
    if (word(token, 'not')) {
      const inner = parseTerm();
      return (file) => !inner(file);
    }
    if (token.kind === 'string') {
      const keyword = next();
      const field = next();
      if (!word(keyword, 'in') || !word(field, 'parents')) {
        throw apiError(400, 'invalid', `Invalid Value: unsupported clause '${token.value}' ${keyword.value}`);
      }
      return (file) => file.parents.includes(token.value);
    }
    if (token.kind !== 'word') throw apiError(400, 'invalid', `Invalid Value: unexpected ${token.value}`);
    const operator = next();
    const operand = next();
    const field = token.value;
    if (operator.kind !== 'op')
      throw apiError(400, 'invalid', `Invalid Value: expected an operator after ${field}`);
    if (field === 'trashed' || field === 'sharedWithMe') {
      if (operand.kind !== 'word' || !['true', 'false'].includes(operand.value) || operator.value !== '=') {
        throw apiError(400, 'invalid', `Invalid Value: ${field} takes = true|false`);
      }
      const expected = operand.value === 'true';
      return field === 'trashed'
        ? (file) => file.trashed === expected
        : (file) => (file.sharedWithMeTime !== undefined) === expected;
    }
    if (operand.kind !== 'string')
      throw apiError(400, 'invalid', `Invalid Value: ${field} needs a quoted value`);
    if (field === 'mimeType' || field === 'name') {
      if (operator.value === '=') return (file) => file[field] === operand.value;
      if (operator.value === '!=') return (file) => file[field] !== operand.value;
      throw apiError(400, 'invalid', `Invalid Value: ${field} ${operator.value}`);
    }
    if (field === 'modifiedTime') {
      const limit = Date.parse(operand.value);
      if (Number.isNaN(limit)) throw apiError(400, 'invalid', 'Invalid Value: modifiedTime must be RFC 3339');
      const compare: Record<string, (a: number, b: number) => boolean> = {
        '>': (a, b) => a > b,
        '>=': (a, b) => a >= b,
        '<': (a, b) => a < b,
        '<=': (a, b) => a <= b,
        '=': (a, b) => a === b,
      };
      const test = compare[operator.value];
      if (!test) throw apiError(400, 'invalid', `Invalid Value: modifiedTime ${operator.value}`);
      return (file) => test(Date.parse(file.modifiedTime), limit);
    }
    throw apiError(400, 'invalid', `Invalid Value: unsupported field ${field}`);
  };

  const predicate = parseOr();
  if (position !== tokens.length) throw apiError(400, 'invalid', 'Invalid Value: trailing tokens in q');
  return predicate;
}

// ---- fields projection -------------------------------------------------------------------------

type FieldTree = Map<string, FieldTree | null>;

export function parseFields(fields: string): FieldTree {
  let position = 0;
  const parseList = (): FieldTree => {
    const tree: FieldTree = new Map();
    while (position < fields.length) {
      const match = /^[A-Za-z_][A-Za-z0-9_.]*/.exec(fields.slice(position));
      if (!match) throw apiError(400, 'invalidParameter', `Invalid field selection ${fields}`);
      position += match[0].length;
      let sub: FieldTree | null = null;
      if (fields[position] === '(') {
        position += 1;
        sub = parseList();
        if (fields[position] !== ')')
          throw apiError(400, 'invalidParameter', `Invalid field selection ${fields}`);
        position += 1;
      }
      // a.b(c) is a(b(c))
      const parts = match[0].split('.');
      let node = tree;
      for (const [index, part] of parts.entries()) {
        if (index === parts.length - 1) {
          node.set(part, sub);
        } else {
          const existing = node.get(part);
          const child: FieldTree = existing ?? new Map();
          node.set(part, child);
          node = child;
        }
      }
      if (fields[position] === ',') position += 1;
      else break;
    }
    return tree;
  };
  return parseList();
}

function project(value: unknown, tree: FieldTree | null): unknown {
  if (tree === null || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((item) => project(item, tree));
  const result: Record<string, unknown> = {};
  for (const [key, sub] of tree) {
    const field = (value as Record<string, unknown>)[key];
    if (field !== undefined) result[key] = project(field, sub);
  }
  return result;
}

// ---- JWT ---------------------------------------------------------------------------------------

function base64UrlJson(part: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
}

// ---- the server --------------------------------------------------------------------------------

export interface FakeDrive {
  /** `http://127.0.0.1:<port>/`: Drive rootUrl, Sheets root and export links. */
  readonly url: string;
  /** The HTTP server itself (for `injectFaults` from @tributary/testkit). */
  readonly server: Server;
  /** The token endpoint. */
  readonly tokenUrl: string;
  readonly rootFolderId: string;
  readonly files: Map<string, FakeFile>;
  /** Requests per operation (`files.list`, `files.export`, `token`...), and `api` for all non-token calls. */
  readonly calls: Map<string, number>;
  options: FakeDriveOptions;
  callCount(operation?: string): number;
  resetCalls(): void;
  addServiceAccount(email: string, publicKeyPem: string, options?: { delegatedSubjects?: string[] }): void;
  addOAuthClient(clientId: string, clientSecret: string, refreshToken: string): void;
  /** Revokes a refresh token and every access token issued from it. */
  revokeRefreshToken(refreshToken: string): void;
  /** Expires every access token issued so far (the client must refresh). */
  expireAccessTokens(): void;
  /**
   * Google rejects the access token in use (401 `authError`) before its expiry, once: when the
   * next API request matching `at` arrives (after `skip` of them), every access token issued so
   * far stops working, as if revoked server-side; the client's next token works. With
   * `freshTokensToo`, every token issued afterwards is refused as well (a key Google no longer
   * accepts, clock skew). Rejections are counted as `unauthorized`, token requests as `token`.
   */
  rejectAccessTokens(options?: { at?: RejectAt; skip?: number; freshTokensToo?: boolean }): void;
  addSharedDrive(name: string, id?: string): string;
  addFolder(name: string, parent: string, options?: { id?: string; sharedWithMe?: boolean }): string;
  addFile(input: NewFileInput): string;
  updateContent(id: string, content: string | Uint8Array): void;
  rename(id: string, name: string): void;
  move(id: string, newParent: string): void;
  trash(id: string): void;
  untrash(id: string): void;
  /** Deleted for good: a `removed` change. */
  remove(id: string): void;
  /** The account lost access: a `removed` change, the file no longer visible. */
  revokeAccess(id: string): void;
  setPermissions(id: string, permissions: FakePermission[]): void;
  /** The next `count` token requests fail with this status (a 5xx or 429). */
  failNextTokenRequests(count: number, status: number): void;
  /** The next `count` API requests (token requests excluded) fail with this status. */
  failNext(count: number, status: number, options?: { reason?: string; retryAfter?: string }): void;
  channel(id: string): Channel | undefined;
  /** The push notification Drive would POST to a channel's address. */
  notification(channelId: string, state: string): FakeNotification;
  close(): Promise<void>;
}

export async function startFakeDrive(options: FakeDriveOptions = {}): Promise<FakeDrive> {
  const files = new Map<string, FakeFile>();
  // Children by parent id, rebuilt after any insert, move or removal: a `'<id>' in parents` listing
  // then reads one folder's children, not every file (trees of 20,000 folders stay fast).
  let byParent: Map<string, FakeFile[]> | undefined;
  const childrenOf = (parent: string): FakeFile[] => {
    if (!byParent) {
      byParent = new Map();
      for (const file of files.values()) {
        for (const id of file.parents) {
          const list = byParent.get(id) ?? [];
          list.push(file);
          byParent.set(id, list);
        }
      }
    }
    return byParent.get(parent) ?? [];
  };
  const drives = new Map<string, { id: string; name: string }>();
  const changes: ChangeEntry[] = [];
  const hidden = new Set<string>();
  const calls = new Map<string, number>();
  const accessTokens = new Map<string, { refreshToken?: string; expired: boolean }>();
  const refreshTokens = new Map<string, { clientId: string; revoked: boolean }>();
  const oauthClients = new Map<string, string>();
  const serviceAccounts = new Map<string, { publicKey: string; subjects: Set<string> | undefined }>();
  const channels = new Map<string, Channel>();
  const faults: Fault[] = [];
  const tokenFaults: number[] = [];
  let pendingRejection: { at: RejectAt; skip: number; freshTokensToo: boolean } | undefined;
  let refuseNewTokens = false;
  const rejectionMatches = (request: IncomingMessage, url: URL, at: RejectAt) => {
    if (at === 'any') return true;
    if (request.method !== 'GET') return false;
    if (at === 'files.list') return url.pathname === '/drive/v3/files';
    return /^\/drive\/v3\/files\/[^/]+$/.test(url.pathname) && url.searchParams.get('alt') === 'media';
  };
  let nextSeq = 1;
  let idCounter = 0;
  let clock = Date.parse('2025-01-01T00:00:00.000Z');
  const now = () => {
    clock += 1000;
    return new Date(clock).toISOString();
  };
  const newId = (prefix: string) => {
    idCounter += 1;
    return `${prefix}${String(idCounter).padStart(6, '0')}`;
  };
  const count = (operation: string) => {
    calls.set(operation, (calls.get(operation) ?? 0) + 1);
  };

  const owner = { displayName: 'Ada Owner', emailAddress: 'ada@example.com', permissionId: 'perm-owner' };
  const ownerPermission: FakePermission = {
    id: 'perm-owner',
    type: 'user',
    role: 'owner',
    emailAddress: 'ada@example.com',
    displayName: 'Ada Owner',
  };
  const rootFolderId = 'myroot0000001';
  files.set(rootFolderId, {
    id: rootFolderId,
    name: 'My Drive',
    mimeType: FOLDER,
    parents: [],
    trashed: false,
    modifiedTime: now(),
    version: 1,
    owners: [owner],
    permissions: [ownerPermission],
  });

  let server: Server;
  let base = '';

  const logChange = (file: FakeFile, removed = false) => {
    changes.push({
      seq: nextSeq++,
      fileId: file.id,
      removed,
      time: file.modifiedTime,
      ...(file.driveId ? { driveId: file.driveId } : {}),
    });
  };
  const touch = (file: FakeFile) => {
    file.version += 1;
    file.modifiedTime = now();
    logChange(file);
  };
  const mustGet = (id: string) => {
    const file = files.get(id);
    if (!file) throw new Error(`fake drive: no file ${id}`);
    return file;
  };
  const isTrashed = (file: FakeFile): boolean => {
    if (file.trashed) return true;
    const parent = file.parents[0] ? files.get(file.parents[0]) : undefined;
    return parent ? isTrashed(parent) : false;
  };

  const fileResource = (file: FakeFile): Record<string, unknown> => {
    const google = file.mimeType.startsWith('application/vnd.google-apps.');
    const bytes =
      !google && file.content !== undefined
        ? typeof file.content === 'string'
          ? Buffer.from(file.content)
          : Buffer.from(file.content)
        : undefined;
    const webBase = file.mimeType === FOLDER ? 'drive/folders' : google ? 'document/d' : 'file/d';
    return {
      kind: 'drive#file',
      id: file.id,
      name: file.name,
      mimeType: file.mimeType,
      parents: [...file.parents],
      trashed: isTrashed(file),
      modifiedTime: file.modifiedTime,
      version: String(file.version),
      webViewLink: `https://drive.google.com/${webBase}/${file.id}/view`,
      ...(file.driveId ? { driveId: file.driveId } : {}),
      ...(bytes
        ? { size: String(bytes.byteLength), md5Checksum: createHash('md5').update(bytes).digest('hex') }
        : {}),
      owners: file.driveId ? undefined : file.owners,
      ...(file.sharedWithMeTime ? { sharedWithMeTime: file.sharedWithMeTime } : {}),
      // Drive leaves `permissions` out for shared drive items (permissions.list has them).
      ...(file.driveId ? {} : { permissions: file.permissions }),
      ...(file.mimeType === SHEET
        ? {
            exportLinks: {
              'text/csv': `${base}spreadsheets/export?id=${file.id}&exportFormat=csv`,
              'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': `${base}spreadsheets/export?id=${file.id}&exportFormat=xlsx`,
            },
          }
        : {}),
    };
  };

  // ---- token endpoint ----
  const handleToken = (form: URLSearchParams): unknown => {
    count('token');
    const grant = form.get('grant_type');
    if (grant === 'urn:ietf:params:oauth:grant-type:jwt-bearer') {
      const assertion = form.get('assertion') ?? '';
      const [header, payload, signature] = assertion.split('.');
      if (!header || !payload || !signature) {
        throw new HttpError(400, { error: 'invalid_grant', error_description: 'Invalid JWT.' });
      }
      const claims = base64UrlJson(payload);
      const account = serviceAccounts.get(String(claims.iss));
      if (!account)
        throw new HttpError(400, { error: 'invalid_grant', error_description: 'Invalid issuer.' });
      const verifier = createVerify('RSA-SHA256');
      verifier.update(`${header}.${payload}`);
      if (
        base64UrlJson(header).alg !== 'RS256' ||
        !verifier.verify(account.publicKey, Buffer.from(signature, 'base64url'))
      ) {
        throw new HttpError(400, { error: 'invalid_grant', error_description: 'Invalid JWT Signature.' });
      }
      if (claims.aud !== GOOGLE_AUDIENCE) {
        throw new HttpError(400, { error: 'invalid_grant', error_description: 'Invalid JWT audience.' });
      }
      if (typeof claims.exp !== 'number' || claims.exp * 1000 < Date.now()) {
        throw new HttpError(400, { error: 'invalid_grant', error_description: 'Invalid JWT: expired.' });
      }
      if (!String(claims.scope ?? '').includes('drive')) {
        throw new HttpError(400, { error: 'invalid_scope', error_description: 'No Drive scope.' });
      }
      if (claims.sub !== undefined && claims.sub !== claims.iss) {
        if (!account.subjects?.has(String(claims.sub))) {
          throw new HttpError(401, {
            error: 'unauthorized_client',
            error_description: 'Client is unauthorized to retrieve access tokens using this method.',
          });
        }
      }
      const token = `ya29.sa-${randomBytes(12).toString('hex')}`;
      accessTokens.set(token, { expired: refuseNewTokens });
      return { access_token: token, expires_in: options.tokenLifetimeSeconds ?? 3599, token_type: 'Bearer' };
    }
    if (grant === 'refresh_token') {
      const clientId = form.get('client_id') ?? '';
      if (oauthClients.get(clientId) !== form.get('client_secret')) {
        throw new HttpError(401, {
          error: 'invalid_client',
          error_description: 'The OAuth client was not found.',
        });
      }
      const refreshToken = form.get('refresh_token') ?? '';
      const record = refreshTokens.get(refreshToken);
      if (!record || record.revoked || record.clientId !== clientId) {
        throw new HttpError(400, {
          error: 'invalid_grant',
          error_description: 'Token has been expired or revoked.',
        });
      }
      const token = `ya29.user-${randomBytes(12).toString('hex')}`;
      accessTokens.set(token, { refreshToken, expired: refuseNewTokens });
      return {
        access_token: token,
        expires_in: options.tokenLifetimeSeconds ?? 3599,
        token_type: 'Bearer',
        scope: 'https://www.googleapis.com/auth/drive.readonly',
      };
    }
    throw new HttpError(400, { error: 'unsupported_grant_type', error_description: 'Invalid grant_type.' });
  };

  const authorize = (request: IncomingMessage) => {
    const header = request.headers.authorization ?? '';
    const token = header.startsWith('Bearer ') ? header.slice(7) : '';
    const record = accessTokens.get(token);
    if (!record || record.expired) {
      count('unauthorized');
      throw new HttpError(401, {
        error: {
          code: 401,
          message: 'Request had invalid authentication credentials. Expected OAuth 2 access token.',
          errors: [
            {
              domain: 'global',
              reason: 'authError',
              message: 'Invalid Credentials',
              location: 'Authorization',
            },
          ],
          status: 'UNAUTHENTICATED',
        },
      });
    }
  };

  const visible = (file: FakeFile) => !hidden.has(file.id) && file.id !== rootFolderId;

  // ---- files.list ----
  const listFiles = (params: URLSearchParams): unknown => {
    count('files.list');
    const q = params.get('q') ?? '';
    const predicate = q ? parseQuery(q) : () => true;
    const corpora = params.get('corpora') ?? 'user';
    const driveId = params.get('driveId') ?? undefined;
    if (corpora === 'drive' && !driveId)
      throw apiError(400, 'invalid', 'driveId is required with corpora=drive');
    if (driveId && params.get('includeItemsFromAllDrives') !== 'true') {
      throw apiError(
        403,
        'teamDrivesParameterNotSupported',
        'includeItemsFromAllDrives must be set with driveId',
      );
    }
    const allDrives =
      params.get('includeItemsFromAllDrives') === 'true' && params.get('supportsAllDrives') === 'true';
    const pageSize = Math.min(1000, Math.max(1, Number(params.get('pageSize') ?? 100)));
    const parentClause = /^'((?:[^'\\]|\\.)*)' in parents\b/.exec(q);
    const candidates = parentClause
      ? childrenOf((parentClause[1] ?? '').replace(/\\(.)/g, '$1'))
      : files.values();
    const matching = [...candidates]
      .filter((file) => visible(file))
      .filter((file) =>
        corpora === 'drive' ? file.driveId === driveId : allDrives || file.driveId === undefined,
      )
      .filter((file) => {
        const copy = { ...file, trashed: isTrashed(file) };
        return predicate(copy);
      })
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    let offset = 0;
    let pageNumber = 0;
    const pageToken = params.get('pageToken');
    if (pageToken) {
      try {
        const decoded = JSON.parse(Buffer.from(pageToken, 'base64url').toString('utf8')) as {
          offset: number;
          page: number;
          q: string;
        };
        if (decoded.q !== q) throw new Error('q differs');
        offset = decoded.offset;
        pageNumber = decoded.page;
      } catch {
        throw apiError(400, 'invalid', 'Invalid Value: pageToken');
      }
    }
    let size = pageSize;
    if (options.partialPages) size = pageNumber === 0 ? 0 : Math.max(1, Math.ceil(pageSize / 2));
    const slice = matching.slice(offset, offset + size);
    const end = offset + slice.length;
    const more = end < matching.length;
    const body: Record<string, unknown> = {
      kind: 'drive#fileList',
      incompleteSearch: options.incompleteSearch === true,
      files: slice.map(fileResource),
    };
    if (more) {
      body.nextPageToken = Buffer.from(JSON.stringify({ offset: end, page: pageNumber + 1, q })).toString(
        'base64url',
      );
    }
    return projectWith(body, params, 'kind,incompleteSearch,files(kind,id,name,mimeType)');
  };

  const projectWith = (body: unknown, params: URLSearchParams, defaults: string) => {
    const fields = params.get('fields');
    return project(body, parseFields(fields ?? defaults));
  };

  const getVisibleFile = (id: string): FakeFile => {
    const resolved = id === 'root' ? rootFolderId : id;
    const file = files.get(resolved);
    if (!file || hidden.has(file.id)) throw apiError(404, 'notFound', `File not found: ${id}.`);
    return file;
  };

  const exportFile = (file: FakeFile, mimeType: string): { type: string; body: Buffer } => {
    count('files.export');
    let text: string;
    if (file.mimeType === DOC) {
      const content = typeof file.content === 'string' ? file.content : '';
      if (mimeType === 'text/markdown') {
        if (file.noMarkdown) throw apiError(400, 'badRequest', 'Export to text/markdown is not supported.');
        text = file.markdown ?? content;
      } else if (mimeType === 'text/plain') {
        text = (file.markdown ?? content).replace(/^#+\s*/gm, '');
      } else throw apiError(400, 'badRequest', `Export to ${mimeType} is not supported.`);
    } else if (file.mimeType === SLIDES) {
      if (mimeType !== 'text/plain')
        throw apiError(400, 'badRequest', `Export to ${mimeType} is not supported.`);
      text = typeof file.content === 'string' ? file.content : '';
    } else if (file.mimeType === SHEET) {
      if (mimeType !== 'text/csv')
        throw apiError(400, 'badRequest', `Export to ${mimeType} is not supported.`);
      text = file.sheets?.[0]?.csv ?? '';
    } else {
      throw apiError(403, 'fileNotExportable', 'Export only supports Docs Editors files.');
    }
    const body = Buffer.from(text, 'utf8');
    if (body.byteLength > EXPORT_LIMIT) {
      throw apiError(403, 'exportSizeLimitExceeded', 'This file is too large to be exported.');
    }
    return { type: `${mimeType}; charset=utf-8`, body };
  };

  // ---- changes ----
  const listChanges = (params: URLSearchParams): unknown => {
    count('changes.list');
    const token = Number(params.get('pageToken'));
    if (!Number.isInteger(token) || token < 1 || token > nextSeq) {
      throw apiError(400, 'invalid', 'Invalid Value: pageToken');
    }
    const pageSize = Math.min(1000, Math.max(1, Number(params.get('pageSize') ?? 100)));
    const entries = changes.filter((entry) => entry.seq >= token).slice(0, pageSize);
    const last = entries[entries.length - 1];
    const more = last !== undefined && changes.some((entry) => entry.seq > last.seq);
    const body: Record<string, unknown> = {
      kind: 'drive#changeList',
      changes: entries.map((entry) => {
        const file = files.get(entry.fileId);
        const removed = entry.removed || !file || hidden.has(entry.fileId);
        return {
          kind: 'drive#change',
          changeType: 'file',
          time: entry.time,
          removed,
          fileId: entry.fileId,
          ...(entry.driveId ? { driveId: entry.driveId } : {}),
          ...(removed || !file ? {} : { file: fileResource(file) }),
        };
      }),
    };
    if (more && last) body.nextPageToken = String(last.seq + 1);
    else body.newStartPageToken = String(nextSeq);
    return projectWith(body, params, 'kind,nextPageToken,newStartPageToken,changes');
  };

  const handleApi = async (request: IncomingMessage, url: URL, readBody: () => Promise<string>) => {
    const path = url.pathname;
    const params = url.searchParams;
    const method = request.method ?? 'GET';

    if (method === 'GET' && path === '/drive/v3/about') {
      count('about.get');
      return {
        json: projectWith(
          { kind: 'drive#about', user: { displayName: owner.displayName, emailAddress: owner.emailAddress } },
          params,
          'kind',
        ),
      };
    }
    if (method === 'GET' && path === '/drive/v3/files') return { json: listFiles(params) };
    const exportMatch = /^\/drive\/v3\/files\/([^/]+)\/export$/.exec(path);
    if (method === 'GET' && exportMatch) {
      const file = getVisibleFile(decodeURIComponent(exportMatch[1] as string));
      const exported = exportFile(file, params.get('mimeType') ?? '');
      return { raw: exported.body, type: exported.type };
    }
    const permissionsMatch = /^\/drive\/v3\/files\/([^/]+)\/permissions$/.exec(path);
    if (method === 'GET' && permissionsMatch) {
      count('permissions.list');
      const file = getVisibleFile(decodeURIComponent(permissionsMatch[1] as string));
      const size = Math.min(100, Number(params.get('pageSize') ?? 100));
      const offset = Number(params.get('pageToken') ?? 0);
      const slice = file.permissions.slice(offset, offset + size);
      const body: Record<string, unknown> = { kind: 'drive#permissionList', permissions: slice };
      if (offset + size < file.permissions.length) body.nextPageToken = String(offset + size);
      return { json: projectWith(body, params, 'kind,permissions') };
    }
    const fileMatch = /^\/drive\/v3\/files\/([^/]+)$/.exec(path);
    if (method === 'GET' && fileMatch) {
      const file = getVisibleFile(decodeURIComponent(fileMatch[1] as string));
      if (params.get('alt') === 'media') {
        count('files.media');
        if (file.mimeType.startsWith('application/vnd.google-apps.')) {
          throw apiError(
            403,
            'fileNotDownloadable',
            'Only files with binary content can be downloaded. Use Export with Docs Editors files.',
          );
        }
        const content = file.content ?? '';
        return {
          raw: Buffer.from(typeof content === 'string' ? Buffer.from(content) : content),
          type: file.mimeType,
        };
      }
      count('files.get');
      return { json: projectWith(fileResource(file), params, 'kind,id,name,mimeType') };
    }
    if (method === 'GET' && path === '/drive/v3/drives') {
      count('drives.list');
      return {
        json: projectWith({ kind: 'drive#driveList', drives: [...drives.values()] }, params, 'kind,drives'),
      };
    }
    if (method === 'GET' && path === '/drive/v3/changes/startPageToken') {
      count('changes.getStartPageToken');
      return { json: { kind: 'drive#startPageToken', startPageToken: String(nextSeq) } };
    }
    if (method === 'GET' && path === '/drive/v3/changes') return { json: listChanges(params) };
    if (method === 'POST' && path === '/drive/v3/changes/watch') {
      count('changes.watch');
      const token = Number(params.get('pageToken'));
      if (!Number.isInteger(token) || token < 1)
        throw apiError(400, 'required', 'Required parameter: pageToken');
      const body = JSON.parse(await readBody()) as {
        id?: string;
        type?: string;
        address?: string;
        token?: string;
        expiration?: string;
      };
      if (!body.id || body.type !== 'web_hook' || !body.address?.startsWith('https://')) {
        throw apiError(
          400,
          'invalid',
          'Invalid channel: id, type web_hook and an https address are required',
        );
      }
      if (channels.has(body.id)) throw apiError(400, 'channelIdNotUnique', 'Channel id not unique');
      const maxExpiration = Date.now() + 7 * 24 * 3600 * 1000;
      const expiration = Math.min(Number(body.expiration ?? maxExpiration), maxExpiration);
      const channel: Channel = {
        id: body.id,
        resourceId: `res-${randomBytes(6).toString('hex')}`,
        address: body.address,
        token: body.token ?? '',
        expiration,
        messageNumber: 0,
      };
      channels.set(channel.id, channel);
      return {
        json: {
          kind: 'api#channel',
          id: channel.id,
          resourceId: channel.resourceId,
          resourceUri: `${base}drive/v3/changes?alt=json&pageToken=${token}`,
          token: channel.token,
          expiration: String(expiration),
        },
      };
    }
    if (method === 'POST' && path === '/drive/v3/channels/stop') {
      count('channels.stop');
      const body = JSON.parse(await readBody()) as { id?: string; resourceId?: string };
      const channel = body.id ? channels.get(body.id) : undefined;
      if (!channel || channel.resourceId !== body.resourceId) {
        throw apiError(404, 'notFound', `Channel '${body.id}' not found for project`);
      }
      channels.delete(channel.id);
      return { status: 204 };
    }
    const sheetsMatch = /^\/v4\/spreadsheets\/([^/]+)$/.exec(path);
    if (method === 'GET' && sheetsMatch) {
      count('sheets.get');
      if (options.sheetsApiDisabled) {
        throw apiError(
          403,
          'accessNotConfigured',
          'Google Sheets API has not been used in project 123 before or it is disabled.',
        );
      }
      const file = getVisibleFile(decodeURIComponent(sheetsMatch[1] as string));
      if (file.mimeType !== SHEET)
        throw apiError(400, 'badRequest', 'This operation is not supported for this document');
      return {
        json: {
          sheets: (file.sheets ?? []).map((sheet, index) => ({
            properties: { sheetId: sheet.sheetId, title: sheet.title, index },
          })),
        },
      };
    }
    if (method === 'GET' && path === '/spreadsheets/export') {
      count('sheets.exportLink');
      const file = getVisibleFile(params.get('id') ?? '');
      const gid = Number(params.get('gid') ?? 0);
      const sheet = file.sheets?.find((candidate) => candidate.sheetId === gid) ?? file.sheets?.[0];
      if (!sheet) throw apiError(404, 'notFound', 'Sheet not found');
      return { raw: Buffer.from(sheet.csv, 'utf8'), type: 'text/csv; charset=utf-8' };
    }
    throw apiError(404, 'notFound', `No route ${method} ${path}`);
  };

  const send = (
    response: ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ) => {
    const text = JSON.stringify(body);
    response.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', ...headers });
    response.end(text);
  };

  server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://fake.local');
    const chunks: Buffer[] = [];
    let bodyPromise: Promise<string> | undefined;
    const readBody = () => {
      bodyPromise ??= new Promise<string>((resolve, reject) => {
        request.on('data', (chunk: Buffer) => chunks.push(chunk));
        request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
        request.on('error', reject);
      });
      return bodyPromise;
    };
    void (async () => {
      try {
        if (url.pathname === '/token' && request.method === 'POST') {
          const tokenFault = tokenFaults.shift();
          if (tokenFault !== undefined) {
            count('token');
            count('token.fault');
            send(
              response,
              tokenFault,
              { error: 'internal_failure', error_description: 'Backend error' },
              { 'retry-after': '0' },
            );
            return;
          }
          send(response, 200, handleToken(new URLSearchParams(await readBody())));
          return;
        }
        count('api');
        if (pendingRejection && rejectionMatches(request, url, pendingRejection.at)) {
          if (pendingRejection.skip > 0) pendingRejection.skip -= 1;
          else {
            for (const token of accessTokens.values()) token.expired = true;
            refuseNewTokens = pendingRejection.freshTokensToo;
            pendingRejection = undefined;
          }
        }
        authorize(request);
        const fault = faults.shift();
        if (fault) {
          count('fault');
          const headers: Record<string, string> =
            fault.retryAfter !== undefined ? { 'retry-after': fault.retryAfter } : {};
          if (fault.status === 403) {
            const reason = fault.reason ?? 'userRateLimitExceeded';
            throw new HttpError(403, apiError(403, reason, 'User Rate Limit Exceeded').body, headers);
          }
          if (fault.status === 429) {
            throw new HttpError(429, apiError(429, 'rateLimitExceeded', 'Rate Limit Exceeded').body, {
              'retry-after': fault.retryAfter ?? '0',
            });
          }
          throw new HttpError(
            fault.status,
            apiError(fault.status, 'backendError', 'Backend Error').body,
            headers,
          );
        }
        const result = await handleApi(request, url, readBody);
        if ('status' in result && result.status === 204) {
          response.writeHead(204);
          response.end();
        } else if ('raw' in result && result.raw) {
          response.writeHead(200, { 'content-type': result.type ?? 'application/octet-stream' });
          response.end(result.raw);
        } else {
          send(response, 200, (result as { json: unknown }).json);
        }
      } catch (error) {
        if (error instanceof HttpError) send(response, error.status, error.body, error.headers);
        else
          send(response, 500, {
            error: { code: 500, message: String(error), errors: [{ reason: 'internalError' }] },
          });
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as AddressInfo;
  base = `http://127.0.0.1:${address.port}/`;

  const insert = (file: FakeFile) => {
    files.set(file.id, file);
    byParent = undefined;
    logChange(file);
  };

  const fake: FakeDrive = {
    url: base,
    server,
    tokenUrl: `${base}token`,
    rootFolderId,
    files,
    calls,
    options,
    callCount: (operation = 'api') => calls.get(operation) ?? 0,
    resetCalls: () => calls.clear(),
    addServiceAccount(email, publicKeyPem, accountOptions = {}) {
      serviceAccounts.set(email, {
        publicKey: publicKeyPem,
        subjects: accountOptions.delegatedSubjects ? new Set(accountOptions.delegatedSubjects) : undefined,
      });
    },
    addOAuthClient(clientId, clientSecret, refreshToken) {
      oauthClients.set(clientId, clientSecret);
      refreshTokens.set(refreshToken, { clientId, revoked: false });
    },
    revokeRefreshToken(refreshToken) {
      const record = refreshTokens.get(refreshToken);
      if (record) record.revoked = true;
      for (const token of accessTokens.values())
        if (token.refreshToken === refreshToken) token.expired = true;
    },
    expireAccessTokens() {
      for (const token of accessTokens.values()) token.expired = true;
    },
    rejectAccessTokens(rejectOptions = {}) {
      pendingRejection = {
        at: rejectOptions.at ?? 'any',
        skip: rejectOptions.skip ?? 0,
        freshTokensToo: rejectOptions.freshTokensToo ?? false,
      };
    },
    addSharedDrive(name, id) {
      const driveId = id ?? newId('0AD');
      drives.set(driveId, { id: driveId, name });
      return driveId;
    },
    addFolder(name, parent, folderOptions = {}) {
      const parentFile = files.get(parent);
      const driveId = drives.has(parent) ? parent : parentFile?.driveId;
      const id = folderOptions.id ?? newId('fold');
      insert({
        id,
        name,
        mimeType: FOLDER,
        parents: [parent],
        ...(driveId ? { driveId } : {}),
        trashed: false,
        modifiedTime: now(),
        version: 1,
        owners: [owner],
        permissions: [ownerPermission],
        ...(folderOptions.sharedWithMe ? { sharedWithMeTime: now() } : {}),
      });
      return id;
    },
    addFile(input) {
      const parentFile = files.get(input.parent);
      const driveId = drives.has(input.parent) ? input.parent : parentFile?.driveId;
      const id = input.id ?? newId('file');
      insert({
        id,
        name: input.name,
        mimeType: input.mimeType ?? 'text/plain',
        parents: [input.parent],
        ...(driveId ? { driveId } : {}),
        trashed: false,
        modifiedTime: now(),
        version: 1,
        ...(input.content !== undefined ? { content: input.content } : {}),
        ...(input.markdown !== undefined ? { markdown: input.markdown } : {}),
        ...(input.noMarkdown ? { noMarkdown: true } : {}),
        ...(input.sheets ? { sheets: input.sheets } : {}),
        owners: [owner],
        permissions: input.permissions ?? [ownerPermission],
        ...(input.sharedWithMe ? { sharedWithMeTime: now() } : {}),
      });
      return id;
    },
    updateContent(id, content) {
      const file = mustGet(id);
      file.content = content;
      if (file.markdown !== undefined && typeof content === 'string') file.markdown = content;
      touch(file);
    },
    rename(id, name) {
      const file = mustGet(id);
      file.name = name;
      touch(file);
    },
    move(id, newParent) {
      const file = mustGet(id);
      file.parents = [newParent];
      byParent = undefined;
      const parentFile = files.get(newParent);
      const driveId = drives.has(newParent) ? newParent : parentFile?.driveId;
      if (driveId) file.driveId = driveId;
      else delete file.driveId;
      touch(file);
    },
    trash(id) {
      const file = mustGet(id);
      file.trashed = true;
      touch(file);
    },
    untrash(id) {
      const file = mustGet(id);
      file.trashed = false;
      touch(file);
    },
    remove(id) {
      const file = mustGet(id);
      files.delete(id);
      byParent = undefined;
      file.modifiedTime = now();
      logChange(file, true);
    },
    revokeAccess(id) {
      const file = mustGet(id);
      hidden.add(id);
      file.modifiedTime = now();
      logChange(file, true);
    },
    setPermissions(id, permissions) {
      const file = mustGet(id);
      file.permissions = permissions;
      touch(file);
    },
    failNextTokenRequests(countOfRequests, status) {
      for (let index = 0; index < countOfRequests; index++) tokenFaults.push(status);
    },
    failNext(countOfRequests, status, faultOptions = {}) {
      for (let index = 0; index < countOfRequests; index++) {
        faults.push({
          status,
          ...(faultOptions.reason ? { reason: faultOptions.reason } : {}),
          ...(faultOptions.retryAfter !== undefined ? { retryAfter: faultOptions.retryAfter } : {}),
        });
      }
    },
    channel: (id) => channels.get(id),
    notification(channelId, state) {
      const channel = channels.get(channelId);
      if (!channel) throw new Error(`fake drive: no channel ${channelId}`);
      channel.messageNumber += 1;
      return {
        method: 'POST',
        url: channel.address,
        headers: {
          'x-goog-channel-id': channel.id,
          'x-goog-channel-token': channel.token,
          'x-goog-channel-expiration': new Date(channel.expiration).toUTCString(),
          'x-goog-resource-id': channel.resourceId,
          'x-goog-resource-uri': `${base}drive/v3/changes?alt=json`,
          'x-goog-resource-state': state,
          'x-goog-message-number': String(channel.messageNumber),
          ...(state === 'sync' ? {} : { 'x-goog-changed': 'content' }),
        },
        rawBody: new Uint8Array(),
      };
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
  return fake;
}
