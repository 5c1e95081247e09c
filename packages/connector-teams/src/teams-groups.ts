// Microsoft 365 group memberships through Microsoft Graph (`/groups`, `/groups/{id}/members`,
// `/groups/{id}/transitiveMembers`), for permission-aware search: a team is a Microsoft 365 group,
// and with `channelPermissions: 'team'` a standard channel's threads name that group instead of
// listing the channel's members. A host calls this with the connector's credentials (application
// permission GroupMember.Read.All, admin consent) and hands the result to core's
// syncGroupMemberships; the database then expands a member's principals through the groups.
import {
  AuthError,
  ConnectorApiError,
  createHttpClient,
  type GroupMember,
  type GroupMembership,
  type HttpClient,
  InvalidConfigError,
  type Logger,
} from '@tributary/core';
import { z } from 'zod';
import { createGraphApi, type GraphApi, type GraphPage } from './graph-api.js';
import { segment } from './teams-ids.js';
import {
  DEFAULT_RATE_LIMIT,
  resolveSettings,
  TEAMS_CONNECTOR_TYPE,
  type TeamsConnectorSettings,
  type TeamsCredentials,
  teamsCredentialsSchema,
} from './teams-settings.js';

/** The Graph application permission that reads groups and their members. */
export const GROUP_MEMBER_PERMISSION = 'GroupMember.Read.All';

/** `/groups/{id}/members` and `/groups` return at most 999 objects a page. */
const MAX_GROUP_PAGE_SIZE = 999;

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const directoryObjectSchema = z
  .object({
    '@odata.type': z.string().nullish(),
    id: z.string(),
    mail: z.string().nullish(),
    userPrincipalName: z.string().nullish(),
  })
  .passthrough();
type DirectoryObject = z.infer<typeof directoryObjectSchema>;

export interface TeamsGroupMembershipsOptions {
  /** The connector's credentials (validated): app-only with GroupMember.Read.All, or delegated. */
  credentials: TeamsCredentials;
  /** graphBaseUrl, authorityHost, fetch, timeoutMs, rateLimit: as for the connector. */
  settings?: TeamsConnectorSettings | undefined;
  /** Groups to list (their ids; a team's id is its group's). Default: every group that has a team. */
  groupIds?: readonly string[] | undefined;
  /**
   * `false` (default): direct members from `/groups/{id}/members`; nested groups come through as
   * members of type `group` and are listed too (each once), and the database follows them.
   * `true`: `/groups/{id}/transitiveMembers`, Graph's flattened list: every user of the group and
   * of its nested groups as a direct member (more rows, no nesting left to follow).
   */
  transitive?: boolean | undefined;
  /** Members a page, 1-999. Default 999. */
  pageSize?: number | undefined;
  /** Retries (429 with Retry-After, 5xx), rate limit and cancellation; default: the connector's defaults. */
  http?: HttpClient | undefined;
  logger?: Logger | undefined;
  signal?: AbortSignal | undefined;
}

function groupMember(entry: DirectoryObject): GroupMember | undefined {
  const type = (entry['@odata.type'] ?? '').toLowerCase();
  if (type === '#microsoft.graph.group')
    return { type: 'group', id: entry.id, ...(entry.mail ? { email: entry.mail.toLowerCase() } : {}) };
  if (type !== '#microsoft.graph.user') return undefined; // devices, service principals, contacts
  const email = entry.mail ?? (entry.userPrincipalName?.includes('@') ? entry.userPrincipalName : undefined);
  return { type: 'user', id: entry.id, ...(email ? { email: email.toLowerCase() } : {}) };
}

function refused(error: unknown): unknown {
  if (ConnectorApiError.isInstance(error) && (error as ConnectorApiError).status === 403) {
    return new AuthError({
      connector: TEAMS_CONNECTOR_TYPE,
      status: 403,
      url: (error as ConnectorApiError).url,
      message: `Graph refused to list group members (HTTP 403): the app lacks the ${GROUP_MEMBER_PERMISSION} permission`,
      hint: `Add the Microsoft Graph application permission ${GROUP_MEMBER_PERMISSION} (delegated: ${GROUP_MEMBER_PERMISSION} for the signed-in user) to the app registration and grant admin consent`,
      cause: error,
    });
  }
  return error;
}

/**
 * Streams groups with their members (users with their Entra object id and mail, nested groups)
 * for `syncGroupMemberships`. Pages follow `@odata.nextLink`; memory holds one group's members.
 * A 403 is an `AuthError` naming GroupMember.Read.All; a group deleted while listing is skipped.
 */
export async function* listTeamsGroupMemberships(
  options: TeamsGroupMembershipsOptions,
): AsyncGenerator<GroupMembership> {
  const parsed = teamsCredentialsSchema.safeParse(options.credentials);
  if (!parsed.success) {
    throw InvalidConfigError.fromSchemaIssues(parsed.error, {
      connector: TEAMS_CONNECTOR_TYPE,
      subject: 'credentials',
    });
  }
  const pageSize = options.pageSize ?? MAX_GROUP_PAGE_SIZE;
  const issues: { fieldPath: string; message: string }[] = [];
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > MAX_GROUP_PAGE_SIZE)
    issues.push({ fieldPath: 'pageSize', message: `must be an integer from 1 to ${MAX_GROUP_PAGE_SIZE}` });
  (options.groupIds ?? []).forEach((id, index) => {
    if (!GUID.test(id))
      issues.push({ fieldPath: `groupIds[${index}]`, message: 'must be a group id (a GUID)' });
  });
  if (options.groupIds?.length === 0)
    issues.push({
      fieldPath: 'groupIds',
      message: 'must list at least one group id (leave it out for every team)',
    });
  if (issues.length > 0) {
    throw new InvalidConfigError({
      connector: TEAMS_CONNECTOR_TYPE,
      subject: 'group sync options',
      issues,
      hint: 'Pass team (group) ids as GUIDs, or leave groupIds out to list every team.',
    });
  }
  const settings = resolveSettings(options.settings ?? {});
  const http =
    options.http ??
    createHttpClient({
      provider: TEAMS_CONNECTOR_TYPE,
      fetch: settings.fetch,
      rateLimit: options.settings?.rateLimit ?? DEFAULT_RATE_LIMIT,
      logger: options.logger,
      signal: options.signal,
    });
  const api: GraphApi = createGraphApi({
    http,
    credentials: parsed.data,
    settings,
    logger: options.logger,
    signal: options.signal,
  });
  const call = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (error) {
      throw refused(error);
    }
  };

  const relation = options.transitive ? 'transitiveMembers' : 'members';
  const select = '$select=id,mail,userPrincipalName';
  const seen = new Set<string>();
  const queue: { id: string; mail: string | undefined }[] = [];
  const enqueue = (id: string, mail: string | null | undefined) => {
    if (seen.has(id)) return;
    seen.add(id);
    queue.push({ id, mail: mail ? mail.toLowerCase() : undefined });
  };

  async function* members(group: { id: string; mail: string | undefined }) {
    const out: GroupMember[] = [];
    let link: string | undefined = `/groups/${segment(group.id)}/${relation}?${select}&$top=${pageSize}`;
    while (link) {
      const current: string = link;
      const page: GraphPage<DirectoryObject> = await call(() => api.page(current, directoryObjectSchema));
      for (const entry of page.items) {
        const member = groupMember(entry);
        if (!member) continue;
        if (member.type === 'group') {
          // Transitive: the nested group's users are already listed here; the group row itself
          // is left out (nothing to follow).
          if (options.transitive) continue;
          enqueue(entry.id, entry.mail);
        }
        out.push(member);
      }
      link = page.nextLink;
    }
    yield { id: group.id, ...(group.mail ? { email: group.mail } : {}), members: out };
  }

  const drain = async function* (): AsyncGenerator<GroupMembership> {
    while (queue.length > 0) {
      const group = queue.shift() as { id: string; mail: string | undefined };
      try {
        yield* members(group);
      } catch (error) {
        // Deleted between the listing and its members: nothing to grant.
        if (ConnectorApiError.isInstance(error) && (error as ConnectorApiError).status === 404) {
          options.logger?.warn('group not found while listing its members; skipped', { group: group.id });
          continue;
        }
        throw error;
      }
    }
  };

  if (options.groupIds) {
    for (const id of options.groupIds) {
      const group = await call(() =>
        api.get(`/groups/${segment(id)}?$select=id,mail`, directoryObjectSchema),
      ).catch((error: unknown) => {
        if (ConnectorApiError.isInstance(error) && (error as ConnectorApiError).status === 404)
          return undefined;
        throw error;
      });
      if (group) enqueue(group.id, group.mail);
      else options.logger?.warn('group not found; skipped', { group: id });
    }
    yield* drain();
    return;
  }
  // Every team's group, page by page; nested groups found on the way are listed after each page.
  let link: string | undefined =
    `/groups?$filter=${encodeURIComponent("resourceProvisioningOptions/Any(x:x eq 'Team')")}&$select=id,mail&$top=${pageSize}`;
  while (link) {
    const current: string = link;
    const page: GraphPage<DirectoryObject> = await call(() => api.page(current, directoryObjectSchema));
    for (const group of page.items) enqueue(group.id, group.mail);
    yield* drain();
    link = page.nextLink;
  }
}
