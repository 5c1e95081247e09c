// Google Workspace group memberships through the Admin SDK Directory API (groups.list and
// members.list), for permission-aware search: a Drive ACL often names a group, and only the
// directory knows who is in it. Optional: a host calls this with a `customer` or `domain` (the
// setting that turns it on) and credentials allowed to read the directory (a service account with
// domain-wide delegation impersonating an admin, scope admin.directory.group.readonly), and hands
// the result to core's syncGroupMemberships.
import { admin, type admin_directory_v1 } from '@googleapis/admin';
import {
  createHttpClient,
  type GroupMember,
  type GroupMembership,
  type HttpClient,
  InvalidConfigError,
} from '@tributary/core';
import { mapGoogleError } from './drive-errors.js';
import { createGoogleAuthClient } from './google-drive-auth.js';
import {
  DEFAULT_RATE_LIMIT,
  DEFAULT_ROOT_URL,
  GOOGLE_DRIVE_CONNECTOR_TYPE,
  type GoogleDriveConnectorSettings,
  type GoogleDriveCredentials,
  googleDriveCredentialsSchema,
} from './google-drive-settings.js';

/** Read-only access to groups and their members. */
export const DIRECTORY_GROUP_READONLY_SCOPE =
  'https://www.googleapis.com/auth/admin.directory.group.readonly';

/** groups.list and members.list return at most 200 items per page. */
const DIRECTORY_PAGE_SIZE = 200;

export interface GoogleGroupMembershipsOptions {
  /** The same credentials shape as the connector's (validated). */
  credentials: GoogleDriveCredentials;
  /** Which groups: a Workspace customer id (`my_customer`: the admin's own) ... */
  customer?: string | undefined;
  /** ... or one domain of it. One of the two is required. */
  domain?: string | undefined;
  /** rootUrl (the Admin SDK shares Drive's `https://www.googleapis.com/`), tokenUrl, fetch, rateLimit, pageSize. */
  settings?: GoogleDriveConnectorSettings | undefined;
  /** Retries, rate limit and cancellation; default: a client with the connector's defaults. */
  http?: HttpClient | undefined;
}

function member(entry: admin_directory_v1.Schema$Member): GroupMember | undefined {
  // CUSTOMER (everyone in the Workspace) is covered by `domain:` ACL keys already; suspended or
  // unknown kinds are left out rather than guessed at.
  if (entry.status && entry.status !== 'ACTIVE') return undefined;
  const type = entry.type === 'GROUP' ? 'group' : entry.type === 'USER' ? 'user' : undefined;
  if (!type || (!entry.id && !entry.email)) return undefined;
  return { type, id: entry.id ?? undefined, email: entry.email ?? undefined };
}

/**
 * Streams every group of the customer (or domain) with its direct members (nested groups are
 * members of type `group`; the database follows them). Pages are read one at a time: memory holds
 * one group's members, however large the directory.
 */
export async function* listGoogleGroupMemberships(
  options: GoogleGroupMembershipsOptions,
): AsyncGenerator<GroupMembership> {
  if (!options.customer && !options.domain) {
    throw new InvalidConfigError({
      connector: GOOGLE_DRIVE_CONNECTOR_TYPE,
      subject: 'group sync settings',
      issues: [{ fieldPath: 'customer', message: 'give a customer id (e.g. "my_customer") or a domain' }],
      hint: 'Group sync is optional: pass customer or domain to turn it on.',
    });
  }
  const parsed = googleDriveCredentialsSchema.safeParse(options.credentials);
  if (!parsed.success) {
    throw InvalidConfigError.fromSchemaIssues(parsed.error, {
      connector: GOOGLE_DRIVE_CONNECTOR_TYPE,
      subject: 'credentials',
    });
  }
  const settings: GoogleDriveConnectorSettings = {
    ...options.settings,
    scopes: options.settings?.scopes ?? [DIRECTORY_GROUP_READONLY_SCOPE],
  };
  const http =
    options.http ??
    createHttpClient({
      provider: GOOGLE_DRIVE_CONNECTOR_TYPE,
      fetch: settings.fetch,
      rateLimit: settings.rateLimit ?? DEFAULT_RATE_LIMIT,
    });
  const auth = createGoogleAuthClient(parsed.data, settings);
  const rootUrl = (settings.rootUrl ?? DEFAULT_ROOT_URL).replace(/\/?$/, '/');
  const directory = admin({ version: 'directory_v1', auth, rootUrl, retry: false });
  const pageSize = Math.min(
    DIRECTORY_PAGE_SIZE,
    Math.max(1, Math.floor(settings.pageSize ?? DIRECTORY_PAGE_SIZE)),
  );
  const call = <T>(fn: (signal: AbortSignal | undefined) => Promise<T>) =>
    http.withRetries(async ({ signal }) => {
      try {
        return await fn(signal);
      } catch (error) {
        throw mapGoogleError(error, { credentialsType: parsed.data.type });
      }
    });

  let groupsToken: string | undefined;
  do {
    const page = await call((signal) =>
      directory.groups.list(
        {
          customer: options.domain ? undefined : options.customer,
          domain: options.domain,
          maxResults: pageSize,
          pageToken: groupsToken,
          fields: 'groups(id,email),nextPageToken',
        },
        { signal },
      ),
    );
    for (const group of page.data.groups ?? []) {
      if (!group.id && !group.email) continue;
      const members: GroupMember[] = [];
      let membersToken: string | undefined;
      do {
        const membersPage = await call((signal) =>
          directory.members.list(
            {
              groupKey: group.id ?? group.email ?? '',
              maxResults: pageSize,
              pageToken: membersToken,
              fields: 'members(id,email,type,status),nextPageToken',
            },
            { signal },
          ),
        );
        for (const entry of membersPage.data.members ?? []) {
          const converted = member(entry);
          if (converted) members.push(converted);
        }
        membersToken = membersPage.data.nextPageToken ?? undefined;
      } while (membersToken);
      yield { id: group.id ?? undefined, email: group.email ?? undefined, members };
    }
    groupsToken = page.data.nextPageToken ?? undefined;
  } while (groupsToken);
}
