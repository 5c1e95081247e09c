// A local fake of the Microsoft identity platform token endpoint and of the Microsoft Graph v1.0
// endpoints the Teams connector reads, over https (test certificate), speaking the documented wire
// format: OAuth token responses and errors (client credentials, refresh token, authorization code),
// 401 for unknown bearer tokens, `@odata.nextLink` paging, delta queries with `@odata.deltaLink`
// (tokens that expire: 410 Gone), 429 with and without Retry-After, 5xx, per-path 403, WebVTT
// transcript content, recording bytes, and /subscriptions with the validation handshake sent to
// the notification URL and notifications delivered with clientState.
import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, request as httpsRequest, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { json, readBody } from './fake-http.ts';
import { FakeIdentity } from './fake-identity.ts';
import {
  type FakeArtifact,
  type FakeGroup,
  type FakeMeeting,
  type FakeTenant,
  messageJson,
} from './fake-tenant.ts';

/** A meeting's join URL, shaped like Teams' (percent-encoded thread id and a query string). */
export function joinWebUrlOf(meeting: FakeMeeting): string {
  return `https://teams.microsoft.com/l/meetup-join/19%3ameeting_${meeting.id}%40thread.v2/0?context=%7b%22Tid%22%3a%22t%22%7d`;
}

export interface FakeGraphOptions {
  tenant: FakeTenant;
  cert: { cert: string; key: string; ca: string };
  tenantId?: string;
  clientId?: string;
  clientSecret?: string;
  /** Items per page of /teams, channels, members, replies. */
  pageSize?: number;
}

export interface FakeSubscription {
  id: string;
  resource: string;
  changeType: string;
  notificationUrl: string;
  lifecycleNotificationUrl: string | undefined;
  expirationDateTime: string;
  clientState: string;
  reauthorizations: number;
}

interface Fault {
  /** 0: no answer at all. */
  status: number;
  retryAfter?: string;
}

export interface FakeGraph {
  url: string;
  /** The https server (identity and Graph), e.g. for `injectFaults`. */
  server: Server;
  tenantId: string;
  clientId: string;
  clientSecret: string;
  tenant: FakeTenant;
  subscriptions: Map<string, FakeSubscription>;
  /** Requests by kind: `token`, `delta`, `replies`, `transcript-content`, `recording-content`, `graph` (all Graph calls). */
  callCount(kind?: string): number;
  resetCounts(): void;
  /** The next `count` Graph requests answer `status` (429 with optional Retry-After, 5xx). */
  failNext(count: number, status: number, options?: { retryAfter?: string }): void;
  /** The next `count` Graph requests get no answer at all (the client's timeout must fire). */
  stallNext(count: number): void;
  /** Every Graph request whose path matches answers `status` until cleared. */
  failPath(pattern: RegExp, status: number): void;
  clearPathFailures(): void;
  /**
   * Every delta token issued so far is refused from now on: 410 Gone (`SyncStateNotFound`), or as
   * some resources do, 400 with the code `resyncRequired`.
   */
  expireDeltaTokens(answer?: '410' | 'resyncRequired'): void;
  /** A refresh token for the delegated flow, and an authorization code that yields it. */
  issueAuthCode(user: { id: string }): { code: string; refreshToken: string };
  revokeAccessTokens(): void;
  /** POSTs a delivery to the subscription's notification (or lifecycle) URL and returns the status and time. */
  deliver(
    subscriptionId: string,
    notifications: Record<string, unknown>[],
    lifecycle?: boolean,
  ): Promise<{ status: number; body: string }>;
  /** A notification body entry as Graph sends it for this subscription. */
  notification(subscriptionId: string, changeType: string, resource: string): Record<string, unknown>;
  lifecycleNotification(subscriptionId: string, lifecycleEvent: string): Record<string, unknown>;
  close(): Promise<void>;
}

function graphError(
  response: ServerResponse,
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
) {
  json(
    response,
    status,
    { error: { code, message, innerError: { 'request-id': randomUUID(), date: new Date().toISOString() } } },
    headers,
  );
}

function token(state: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(state)).toString('base64url');
}

function untoken(value: string | null): Record<string, number> | undefined {
  if (!value) return undefined;
  try {
    return JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
}

export async function startFakeGraph(options: FakeGraphOptions): Promise<FakeGraph> {
  const { tenant } = options;
  const tenantId = options.tenantId ?? randomUUID();
  const clientId = options.clientId ?? randomUUID();
  const clientSecret = options.clientSecret ?? `secret-${randomBytes(8).toString('hex')}`;
  const pageSize = options.pageSize ?? 20;
  const counts = new Map<string, number>();
  const faults: Fault[] = [];
  const pathFaults: { pattern: RegExp; status: number }[] = [];
  const subscriptions = new Map<string, FakeSubscription>();
  let epoch = 1;
  let expiredAnswer: '410' | 'resyncRequired' = '410';
  let base = '';

  const count = (kind: string) => counts.set(kind, (counts.get(kind) ?? 0) + 1);
  const identity = new FakeIdentity({
    tenantId,
    clientId,
    clientSecret,
    issuer: () => base,
    onRequest: () => count('token'),
  });

  const page = <T>(response: ServerResponse, url: URL, items: T[], map: (item: T) => unknown) => {
    const top = Math.min(Number(url.searchParams.get('$top') ?? pageSize) || pageSize, 999);
    const offset = Number(url.searchParams.get('$skiptoken') ?? 0) || 0;
    const slice = items.slice(offset, offset + top);
    const body: Record<string, unknown> = {
      '@odata.context': `${base}/v1.0/$metadata`,
      value: slice.map(map),
    };
    if (offset + top < items.length) {
      const next = new URL(url);
      next.searchParams.set('$skiptoken', String(offset + top));
      body['@odata.nextLink'] = next.toString();
    }
    json(response, 200, body);
  };

  /** A delta query: fresh (everything live), or since a token; paged by `$skiptoken`. */
  const delta = <T extends { seq: number }>(
    response: ServerResponse,
    url: URL,
    all: T[],
    live: (item: T) => boolean,
    map: (item: T) => unknown,
    top: number,
  ) => {
    count('delta');
    const skip = untoken(url.searchParams.get('$skiptoken'));
    const since = (skip ?? untoken(url.searchParams.get('$deltatoken')) ?? { since: -1, epoch }) as {
      since: number;
      epoch: number;
    };
    if (since.epoch !== epoch) {
      if (expiredAnswer === 'resyncRequired')
        graphError(
          response,
          400,
          'resyncRequired',
          'Resync required. Replace any local items with the server versions.',
        );
      else graphError(response, 410, 'SyncStateNotFound', 'The sync state generation is old. Please resync.');
      return;
    }
    const cut = skip?.cut ?? tenant.seq;
    const fresh = since.since < 0;
    const filterMatch = /lastModifiedDateTime gt ([^ ]+)/.exec(url.searchParams.get('$filter') ?? '');
    const after = filterMatch ? Date.parse(filterMatch[1] as string) : undefined;
    const items = all
      .filter((item) => item.seq <= cut && (fresh ? live(item) : item.seq > since.since))
      .filter(
        (item) =>
          after === undefined ||
          Date.parse((item as unknown as { lastModifiedDateTime?: string }).lastModifiedDateTime ?? '') >
            after,
      )
      .sort((a, b) => a.seq - b.seq);
    const offset = skip?.offset ?? 0;
    const slice = items.slice(offset, offset + top);
    const body: Record<string, unknown> = {
      '@odata.context': `${base}/v1.0/$metadata`,
      value: slice.map(map),
    };
    const link = new URL(url);
    link.search = '';
    if (offset + top < items.length) {
      link.searchParams.set('$skiptoken', token({ since: since.since, cut, offset: offset + top, epoch }));
      body['@odata.nextLink'] = link.toString();
    } else {
      link.searchParams.set('$deltatoken', token({ since: cut, epoch }));
      body['@odata.deltaLink'] = link.toString();
    }
    json(response, 200, body);
  };

  const artifactJson = (artifact: FakeArtifact, kind: 'transcript' | 'recording') =>
    artifact.deleted
      ? { id: artifact.id, '@removed': { reason: 'deleted' } }
      : {
          id: artifact.id,
          meetingId: artifact.meetingId,
          createdDateTime: artifact.createdDateTime,
          endDateTime: artifact.endDateTime,
          contentCorrelationId: randomUUID(),
          meetingOrganizer: { user: { id: artifact.organizerId, tenantId } },
          [`${kind}ContentUrl`]: `${base}/v1.0/users/${artifact.organizerId}/onlineMeetings/${artifact.meetingId}/${kind}s/${artifact.id}/content`,
        };

  /** A directoryObject as Graph returns it: `@odata.type` always, the other properties per `$select`. */
  const directoryObject = (
    url: URL,
    object:
      | { kind: 'user'; user: { id: string; displayName: string; email: string } }
      | { kind: 'group'; group: FakeGroup },
  ) => {
    const full: Record<string, unknown> =
      object.kind === 'user'
        ? {
            '@odata.type': '#microsoft.graph.user',
            id: object.user.id,
            displayName: object.user.displayName,
            mail: object.user.email,
            userPrincipalName: object.user.email,
          }
        : {
            '@odata.type': '#microsoft.graph.group',
            id: object.group.id,
            displayName: object.group.displayName,
            mail: object.group.mail,
            resourceProvisioningOptions: tenant.teams.has(object.group.id) ? ['Team'] : [],
          };
    const select = url.searchParams.get('$select');
    if (!select) return full;
    const keep = new Set(['@odata.type', ...select.split(',').map((field) => field.trim())]);
    return Object.fromEntries(Object.entries(full).filter(([key]) => keep.has(key)));
  };

  /**
   * GET /groups (optionally `$filter=resourceProvisioningOptions/Any(x:x eq 'Team')`), /groups/{id},
   * /groups/{id}/members (direct: users and nested groups) and /groups/{id}/transitiveMembers
   * (every user and group reachable through nesting, each once), paged with `@odata.nextLink`.
   */
  const groupRoutes = (response: ServerResponse, url: URL, path: string) => {
    count('groups');
    if (path === '/groups') {
      const filter = url.searchParams.get('$filter');
      const teamsOnly = filter !== null && /resourceProvisioningOptions\/Any\(x:x eq 'Team'\)/i.test(filter);
      if (filter !== null && !teamsOnly)
        return graphError(response, 400, 'Request_UnsupportedQuery', `Unsupported filter ${filter}`);
      const groups = [...tenant.groups.values()].filter((group) => !teamsOnly || tenant.teams.has(group.id));
      return page(response, url, groups, (group) => directoryObject(url, { kind: 'group', group }));
    }
    const match = /^\/groups\/([^/]+)(?:\/(members|transitiveMembers))?$/.exec(path);
    const group = tenant.groups.get(match?.[1] as string);
    if (!match || !group)
      return graphError(
        response,
        404,
        'Request_ResourceNotFound',
        `Resource '${match?.[1]}' does not exist or one of its queried reference-property objects are not present.`,
      );
    if (!match[2]) return json(response, 200, directoryObject(url, { kind: 'group', group }));
    count('group-members');
    type Entry =
      | { kind: 'user'; user: { id: string; displayName: string; email: string } }
      | { kind: 'group'; group: FakeGroup };
    const entries: Entry[] = [];
    const seen = new Set<string>([group.id]);
    const walk = (current: FakeGroup) => {
      for (const member of current.members) {
        const id = 'user' in member ? member.user.id : member.group;
        if (seen.has(id)) continue;
        seen.add(id);
        if ('user' in member) entries.push({ kind: 'user', user: member.user });
        else {
          const nested = tenant.groups.get(member.group);
          if (!nested) continue;
          entries.push({ kind: 'group', group: nested });
          if (match[2] === 'transitiveMembers') walk(nested);
        }
      }
    };
    walk(group);
    return page(response, url, entries, (entry) => directoryObject(url, entry));
  };

  const graph = async (request: IncomingMessage, response: ServerResponse, url: URL) => {
    count('graph');
    const auth = request.headers.authorization ?? '';
    if (!auth.startsWith('Bearer ') || !identity.accessTokens.has(auth.slice(7))) {
      graphError(response, 401, 'InvalidAuthenticationToken', 'Access token is empty or invalid.');
      return;
    }
    const fault = faults.shift();
    if (fault) {
      if (fault.status === 0) return; // stalled: the connection stays open, unanswered
      if (fault.status === 429)
        graphError(
          response,
          429,
          'TooManyRequests',
          'Too many requests',
          fault.retryAfter !== undefined ? { 'retry-after': fault.retryAfter } : {},
        );
      else
        graphError(response, fault.status, 'ServiceUnavailable', 'The service is temporarily unavailable.');
      return;
    }
    const path = decodeURIComponent(url.pathname.replace(/^\/v1\.0/, ''));
    const pathFault = pathFaults.find((candidate) => candidate.pattern.test(path));
    if (pathFault) {
      graphError(
        response,
        pathFault.status,
        'Forbidden',
        'Insufficient privileges to complete the operation.',
      );
      return;
    }
    const method = request.method ?? 'GET';
    if (method !== 'GET') {
      await subscriptionRoutes(request, response, path, method);
      return;
    }
    if (path === '/groups/delta') {
      // Teams are groups; a membership change of a team reports the group with `members@delta`.
      const teams = [...tenant.teams.values()];
      return delta(
        response,
        url,
        teams,
        () => true,
        (team) => ({ id: team.id, displayName: team.displayName, 'members@delta': [] }),
        pageSize,
      );
    }
    if (path === '/groups' || /^\/groups\/[^/]+(?:\/(?:members|transitiveMembers))?$/.test(path)) {
      groupRoutes(response, url, path);
      return;
    }
    if (path === '/teams' || path === '/me/joinedTeams')
      return page(response, url, [...tenant.teams.values()], (team) => ({
        id: team.id,
        displayName: team.displayName,
      }));
    const teamMatch = /^\/teams\/([^/]+)$/.exec(path);
    if (teamMatch) {
      const team = tenant.teams.get(teamMatch[1] as string);
      if (!team) return graphError(response, 404, 'NotFound', 'No team found with Group Id');
      return json(response, 200, { id: team.id, displayName: team.displayName });
    }
    const teamPath = /^\/teams\/([^/]+)\/channels(?:\/([^/]+))?(\/.*)?$/.exec(path);
    if (teamPath) {
      const team = tenant.teams.get(teamPath[1] as string);
      if (!team) return graphError(response, 404, 'NotFound', 'No team found');
      if (!teamPath[2])
        return page(response, url, [...team.channels.values()], (channel) => ({
          id: channel.id,
          displayName: channel.displayName,
          membershipType: channel.membershipType,
          webUrl: `https://teams.microsoft.com/l/channel/${encodeURIComponent(channel.id)}`,
        }));
      const channel = team.channels.get(teamPath[2]);
      if (!channel) return graphError(response, 404, 'NotFound', 'Channel not found');
      const rest = teamPath[3] ?? '';
      if (rest === '')
        return json(response, 200, {
          id: channel.id,
          displayName: channel.displayName,
          membershipType: channel.membershipType,
        });
      if (rest === '/members') {
        count('members');
        return page(response, url, channel.members, (member) => ({
          '@odata.type': '#microsoft.graph.aadUserConversationMember',
          id: randomUUID(),
          userId: member.user.id,
          email: member.user.email,
          displayName: member.user.displayName,
          roles: member.owner ? ['owner'] : [],
        }));
      }
      if (rest === '/messages/delta') {
        const top = Math.min(Number(url.searchParams.get('$top') ?? 50) || 50, 50);
        return delta(
          response,
          url,
          [...channel.roots.values()],
          (root) => !root.deletedDateTime,
          (root) => messageJson(team.id, channel.id, root),
          top,
        );
      }
      const message = /^\/messages\/([^/]+)(\/replies)?$/.exec(rest);
      if (message) {
        const root = channel.roots.get(message[1] as string);
        if (!root) return graphError(response, 404, 'NotFound', 'Message not found');
        if (!message[2]) return json(response, 200, messageJson(team.id, channel.id, root));
        count('replies');
        return page(response, url, root.replies, (reply) => messageJson(team.id, channel.id, reply));
      }
    }
    const organizerDelta =
      /^\/users\/([^/]+)\/onlineMeetings\/getAll(Transcripts|Recordings)\(meetingOrganizerUserId='([^']+)'(?:,startDateTime=[^)]*)?\)\/delta$/.exec(
        path,
      );
    if (organizerDelta) {
      const kind = organizerDelta[2] === 'Transcripts' ? 'transcript' : 'recording';
      const source = kind === 'transcript' ? tenant.transcripts : tenant.recordings;
      const mine = [...source.values()].filter((artifact) => artifact.organizerId === organizerDelta[3]);
      return delta(
        response,
        url,
        mine,
        (artifact) => !artifact.deleted,
        (artifact) => artifactJson(artifact, kind),
        20,
      );
    }
    const meetingJson = (meeting: FakeMeeting) => {
      const participant = (user: { id: string; displayName: string; email: string }, role: string) => ({
        upn: user.email,
        role,
        identity: { user: { id: user.id, displayName: user.displayName, tenantId } },
      });
      return {
        id: meeting.id,
        subject: meeting.subject,
        startDateTime: meeting.startDateTime,
        endDateTime: meeting.endDateTime,
        joinWebUrl: joinWebUrlOf(meeting),
        participants: {
          organizer: participant(meeting.organizer, 'presenter'),
          attendees: meeting.attendees.map((user) => participant(user, 'attendee')),
        },
      };
    };
    const byJoinUrl = /^\/users\/([^/]+)\/onlineMeetings$/.exec(path);
    if (byJoinUrl) {
      // GET /users/{id}/onlineMeetings?$filter=JoinWebUrl eq '{joinWebUrl}' (the only filter Graph supports here).
      const filter = /^JoinWebUrl eq '(.*)'$/i.exec(url.searchParams.get('$filter') ?? '');
      if (!filter) return graphError(response, 400, 'BadRequest', 'Filter on JoinWebUrl is required');
      const wanted = (filter[1] as string).replace(/''/g, "'");
      const found = [...tenant.meetings.values()].filter(
        (meeting) => meeting.organizer.id === byJoinUrl[1] && joinWebUrlOf(meeting) === wanted,
      );
      return json(response, 200, { value: found.map(meetingJson) });
    }
    const meetingPath =
      /^\/users\/([^/]+)\/onlineMeetings\/([^/]+)(?:\/(transcripts|recordings)(?:\/([^/]+)(\/content)?)?)?$/.exec(
        path,
      );
    if (meetingPath) {
      const meeting = tenant.meetings.get(meetingPath[2] as string);
      if (!meeting || meeting.organizer.id !== meetingPath[1])
        return graphError(response, 404, 'NotFound', 'Meeting not found');
      if (!meetingPath[3]) return json(response, 200, meetingJson(meeting));
      if (!meetingPath[4]) {
        const kind = meetingPath[3] === 'transcripts' ? 'transcript' : 'recording';
        count(`${kind}-list`);
        const source = kind === 'transcript' ? tenant.transcripts : tenant.recordings;
        const mine = [...source.values()].filter((item) => item.meetingId === meeting.id && !item.deleted);
        return page(response, url, mine, (artifact) => artifactJson(artifact, kind));
      }
      const kind = meetingPath[3] === 'transcripts' ? 'transcript' : 'recording';
      const artifact = (kind === 'transcript' ? tenant.transcripts : tenant.recordings).get(
        meetingPath[4] as string,
      );
      if (!artifact || artifact.deleted || artifact.meetingId !== meeting.id)
        return graphError(response, 404, 'NotFound', `${kind} not found`);
      if (!meetingPath[5]) return json(response, 200, artifactJson(artifact, kind));
      count(`${kind}-content`);
      if (kind === 'transcript') {
        if (url.searchParams.get('$format') !== 'text/vtt')
          return graphError(response, 400, 'BadRequest', '$format=text/vtt is required');
        response.writeHead(200, { 'content-type': 'text/vtt' });
        response.end(artifact.content);
        return;
      }
      response.writeHead(200, {
        'content-type': 'video/mp4',
        'content-length': String((artifact.content as Uint8Array).byteLength),
      });
      response.end(artifact.content);
      return;
    }
    graphError(response, 400, 'BadRequest', `Unsupported fake Graph route ${path}`);
  };

  const post = (
    target: string,
    body: string,
  ): Promise<{ status: number; body: string; contentType: string }> =>
    new Promise((resolve, reject) => {
      const url = new URL(target);
      const request = httpsRequest(
        url,
        {
          method: 'POST',
          ca: options.cert.ca,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
          timeout: 10_000,
        },
        (response) => {
          const parts: Buffer[] = [];
          response.on('data', (part) => parts.push(part));
          response.on('end', () =>
            resolve({
              status: response.statusCode ?? 0,
              body: Buffer.concat(parts).toString('utf8'),
              contentType: String(response.headers['content-type'] ?? ''),
            }),
          );
        },
      );
      request.on('error', reject);
      request.end(body);
    });

  const validate = async (notificationUrl: string): Promise<boolean> => {
    const challenge = `Validation: Testing client application reachability for subscription Request-Id: ${randomUUID()} +&<>`;
    const target = new URL(notificationUrl);
    target.searchParams.set('validationToken', challenge);
    const answer = await post(target.toString(), '').catch(() => undefined);
    return answer?.status === 200 && answer.body === challenge && answer.contentType.startsWith('text/plain');
  };

  const subscriptionRoutes = async (
    request: IncomingMessage,
    response: ServerResponse,
    path: string,
    method: string,
  ) => {
    count('subscriptions');
    const body =
      method === 'DELETE' ? {} : (JSON.parse((await readBody(request)) || '{}') as Record<string, string>);
    if (method === 'POST' && path === '/subscriptions') {
      for (const url of [body.notificationUrl, body.lifecycleNotificationUrl].filter(Boolean) as string[]) {
        if (!(await validate(url)))
          return graphError(
            response,
            400,
            'ValidationError',
            `Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request (${url}).`,
          );
      }
      const subscription: FakeSubscription = {
        id: randomUUID(),
        resource: body.resource as string,
        changeType: body.changeType as string,
        notificationUrl: body.notificationUrl as string,
        lifecycleNotificationUrl: body.lifecycleNotificationUrl,
        expirationDateTime: body.expirationDateTime as string,
        clientState: body.clientState as string,
        reauthorizations: 0,
      };
      subscriptions.set(subscription.id, subscription);
      const { clientState: _c, reauthorizations: _r, ...visible } = subscription;
      return json(response, 201, visible);
    }
    const match = /^\/subscriptions\/([^/]+)(\/reauthorize)?$/.exec(path);
    if (match) {
      const subscription = subscriptions.get(match[1] as string);
      if (!subscription) return graphError(response, 404, 'ResourceNotFound', 'The object was not found.');
      if (method === 'DELETE') {
        subscriptions.delete(subscription.id);
        response.writeHead(204).end();
        return;
      }
      if (method === 'POST' && match[2]) {
        subscription.reauthorizations += 1;
        response.writeHead(204).end();
        return;
      }
      if (method === 'PATCH') {
        subscription.expirationDateTime = body.expirationDateTime as string;
        const { clientState: _c, reauthorizations: _r, ...visible } = subscription;
        return json(response, 200, visible);
      }
    }
    graphError(response, 405, 'MethodNotAllowed', `${method} ${path}`);
  };

  const server: Server = createServer(
    { cert: options.cert.cert, key: options.cert.key },
    (request, response) => {
      const url = new URL(request.url ?? '/', base);
      const handle = async () => {
        if (request.method === 'POST' && /^\/[^/]+\/oauth2\/v2\.0\/token$/.test(url.pathname))
          return identity.tokenEndpoint(request, response);
        if (url.pathname.startsWith('/v1.0/')) return graph(request, response, url);
        graphError(response, 404, 'NotFound', url.pathname);
      };
      handle().catch((error: unknown) => {
        if (!response.headersSent) graphError(response, 500, 'InternalServerError', String(error));
      });
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `https://localhost:${(server.address() as AddressInfo).port}`;

  const notification = (subscriptionId: string, changeType: string, resource: string) => {
    const subscription = subscriptions.get(subscriptionId);
    return {
      subscriptionId,
      subscriptionExpirationDateTime: subscription?.expirationDateTime,
      changeType,
      resource,
      resourceData: {
        '@odata.type': '#Microsoft.Graph.chatMessage',
        '@odata.id': resource,
        id: resource.split("'").at(-2),
      },
      clientState: subscription?.clientState,
      tenantId,
    };
  };

  return {
    url: base,
    server,
    tenantId,
    clientId,
    clientSecret,
    tenant,
    subscriptions,
    callCount: (kind = 'graph') => counts.get(kind) ?? 0,
    resetCounts: () => counts.clear(),
    failNext(countOfRequests, status, faultOptions = {}) {
      for (let index = 0; index < countOfRequests; index++)
        faults.push({ status, retryAfter: faultOptions.retryAfter });
    },
    stallNext(countOfRequests) {
      for (let index = 0; index < countOfRequests; index++) faults.push({ status: 0 });
    },
    failPath: (pattern, status) => pathFaults.push({ pattern, status }),
    clearPathFailures: () => {
      pathFaults.length = 0;
    },
    expireDeltaTokens: (answer = '410') => {
      expiredAnswer = answer;
      epoch += 1;
    },
    issueAuthCode(user) {
      const code = `code-${randomBytes(8).toString('hex')}`;
      identity.authCodes.set(code, user.id);
      const refreshToken = `rt-${randomBytes(12).toString('hex')}`;
      identity.refreshTokens.set(refreshToken, user.id);
      return { code, refreshToken };
    },
    revokeAccessTokens: () => identity.accessTokens.clear(),
    async deliver(subscriptionId, notifications, lifecycle = false) {
      const subscription = subscriptions.get(subscriptionId);
      if (!subscription) throw new Error(`no subscription ${subscriptionId}`);
      const target = lifecycle
        ? (subscription.lifecycleNotificationUrl ?? subscription.notificationUrl)
        : subscription.notificationUrl;
      const answer = await post(target, JSON.stringify({ value: notifications }));
      return { status: answer.status, body: answer.body };
    },
    notification,
    lifecycleNotification(subscriptionId, lifecycleEvent) {
      const subscription = subscriptions.get(subscriptionId);
      return {
        subscriptionId,
        subscriptionExpirationDateTime: subscription?.expirationDateTime,
        lifecycleEvent,
        resource: subscription?.resource,
        clientState: subscription?.clientState,
        tenantId,
      };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
