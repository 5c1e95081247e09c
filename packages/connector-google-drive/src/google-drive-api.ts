import type { Readable } from 'node:stream';
import { drive, type drive_v3 } from '@googleapis/drive';
import type { HttpClient, SyncMetrics } from '@tributary/core';
import {
  AccessTokenRefreshedError,
  isAccessTokenRejection,
  mapGoogleError,
  rejectedTokenError,
} from './drive-errors.js';
import { createGoogleAuthClient, createTokenRefresher, type GoogleAuthClient } from './google-drive-auth.js';
import {
  DEFAULT_ROOT_URL,
  DEFAULT_SHEETS_ROOT_URL,
  type GoogleDriveConnectorSettings,
  type GoogleDriveCredentials,
  MAX_PAGE_SIZE,
} from './google-drive-settings.js';

export type DriveFile = drive_v3.Schema$File;
export type DriveChange = drive_v3.Schema$Change;
export type DrivePermission = drive_v3.Schema$Permission;
export type DriveChannel = drive_v3.Schema$Channel;

/**
 * Fields asked for every listed file. Explicit, because files.list returns only kind, id, name,
 * mimeType and resourceKey by default; `permissions` is filled for My Drive files (shared drive
 * files get a permissions.list call instead).
 */
export const FILE_FIELDS =
  'id,name,mimeType,modifiedTime,parents,size,md5Checksum,version,webViewLink,trashed,driveId,' +
  'sharedWithMeTime,owners(displayName,emailAddress,permissionId),' +
  'permissions(id,type,role,emailAddress,domain,displayName,deleted,allowFileDiscovery)';

export const PERMISSION_FIELDS = 'id,type,role,emailAddress,domain,displayName,deleted,allowFileDiscovery';

export interface FileListPage {
  files: DriveFile[];
  nextPageToken: string | undefined;
  incompleteSearch: boolean;
}

export interface ChangeListPage {
  changes: DriveChange[];
  nextPageToken: string | undefined;
  newStartPageToken: string | undefined;
}

export interface ListFilesInput {
  q: string;
  pageToken?: string | undefined;
  /** `drive` with `driveId` for a shared drive; `user` otherwise. */
  driveId?: string | undefined;
}

export interface SpreadsheetSheet {
  sheetId: number;
  title: string;
}

/**
 * The Drive calls the connector makes, each through `http.withRetries` (one retry owner: the
 * Google client's own retries are off), each counted as an API call and gated by the request
 * budget, with Google errors converted by `mapGoogleError`.
 */
export interface DriveApi {
  readonly auth: GoogleAuthClient;
  readonly pageSize: number;
  about(): Promise<drive_v3.Schema$About>;
  listFiles(input: ListFilesInput): Promise<FileListPage>;
  getFile(fileId: string, fields: string, perDocument?: boolean): Promise<DriveFile>;
  exportText(fileId: string, mimeType: string): Promise<string>;
  download(fileId: string): Promise<AsyncIterable<Uint8Array>>;
  getStartPageToken(): Promise<string>;
  listChanges(pageToken: string): Promise<ChangeListPage>;
  watchChanges(pageToken: string, channel: drive_v3.Schema$Channel): Promise<DriveChannel>;
  stopChannel(channel: { id: string; resourceId: string }): Promise<void>;
  listPermissions(fileId: string): Promise<DrivePermission[]>;
  listDrives(): Promise<drive_v3.Schema$Drive[]>;
  listSheets(spreadsheetId: string): Promise<SpreadsheetSheet[]>;
  fetchText(url: string): Promise<string>;
}

export interface CreateDriveApiOptions {
  http: HttpClient;
  /** Where downloaded and exported bytes are counted (`summary.bytes`). */
  metrics?: SyncMetrics | undefined;
  credentials: GoogleDriveCredentials;
  settings: GoogleDriveConnectorSettings;
}

export function createDriveApi({ http, metrics, credentials, settings }: CreateDriveApiOptions): DriveApi {
  const auth = createGoogleAuthClient(credentials, settings);
  const rootUrl = withSlash(settings.rootUrl ?? DEFAULT_ROOT_URL);
  const sheetsRootUrl = withSlash(settings.sheetsRootUrl ?? DEFAULT_SHEETS_ROOT_URL);
  const pageSize = Math.min(MAX_PAGE_SIZE, Math.max(1, Math.floor(settings.pageSize ?? MAX_PAGE_SIZE)));
  const client = drive({ version: 'v3', auth, rootUrl, retry: false });
  const credentialsType = credentials.type;

  const tokens = createTokenRefresher(auth);

  /**
   * One Drive call through `withRetries`. A 401 from the API (not from the token endpoint) means
   * the access token was rejected before its expiry (revoked server-side, clock skew): the first
   * one forces a new token and the request is retried once, at once, as a normal attempt of this
   * call (counted, gated by the request budget); a second 401 in the same call is an `AuthError`.
   */
  const call = async <T>(
    operation: string,
    fn: (signal: AbortSignal | undefined) => Promise<T>,
    perDocument = false,
    optionalApi = false,
  ): Promise<T> => {
    const errorOptions = { perDocument, credentialsType, optionalApi };
    let refreshedAfter401 = false;
    try {
      return await http.withRetries(
        async ({ signal }) => {
          const tokenGeneration = tokens.generation;
          try {
            return await fn(signal);
          } catch (error) {
            if (!isAccessTokenRejection(error)) throw mapGoogleError(error, errorOptions);
            if (refreshedAfter401) throw rejectedTokenError(`drive.${operation}`, credentialsType);
            refreshedAfter401 = true;
            try {
              await tokens.refreshAfterRejection(tokenGeneration);
            } catch (refreshError) {
              throw mapGoogleError(refreshError, errorOptions);
            }
            throw new AccessTokenRefreshedError(`drive.${operation}`);
          }
        },
        { operation: `drive.${operation}` },
      );
    } catch (error) {
      if (error instanceof AccessTokenRefreshedError) {
        throw rejectedTokenError(error.operation, credentialsType);
      }
      throw error;
    }
  };

  return {
    auth,
    pageSize,
    about: () =>
      call('about.get', async (signal) => {
        const response = await client.about.get({ fields: 'user(emailAddress,displayName)' }, { signal });
        return response.data;
      }),

    listFiles: (input) =>
      call('files.list', async (signal) => {
        const response = await client.files.list(
          {
            q: input.q,
            pageSize,
            pageToken: input.pageToken,
            fields: `nextPageToken,incompleteSearch,files(${FILE_FIELDS})`,
            supportsAllDrives: true,
            includeItemsFromAllDrives: true,
            corpora: input.driveId ? 'drive' : 'user',
            driveId: input.driveId,
          },
          { signal },
        );
        return {
          files: response.data.files ?? [],
          nextPageToken: response.data.nextPageToken || undefined,
          incompleteSearch: response.data.incompleteSearch === true,
        };
      }),

    getFile: (fileId, fields, perDocument = false) =>
      call(
        'files.get',
        async (signal) => {
          const response = await client.files.get({ fileId, fields, supportsAllDrives: true }, { signal });
          return response.data;
        },
        perDocument,
      ),

    exportText: (fileId, mimeType) =>
      call(
        'files.export',
        async (signal) => {
          const response = await client.files.export({ fileId, mimeType }, { signal, responseType: 'text' });
          const text = typeof response.data === 'string' ? response.data : String(response.data ?? '');
          metrics?.bytes.count(Buffer.byteLength(text));
          return text;
        },
        true,
      ),

    download: (fileId) =>
      call(
        'files.get(alt=media)',
        async (signal) => {
          const response = await client.files.get(
            { fileId, alt: 'media', supportsAllDrives: true },
            { signal, responseType: 'stream' },
          );
          return countBytes(response.data as unknown as Readable, metrics);
        },
        true,
      ),

    getStartPageToken: () =>
      call('changes.getStartPageToken', async (signal) => {
        const response = await client.changes.getStartPageToken({ supportsAllDrives: true }, { signal });
        const token = response.data.startPageToken;
        if (!token) throw new Error('[tributary] [google_drive] changes.getStartPageToken returned no token');
        return token;
      }),

    listChanges: (pageToken) =>
      call('changes.list', async (signal) => {
        const response = await client.changes.list(
          {
            pageToken,
            pageSize,
            includeRemoved: true,
            includeItemsFromAllDrives: true,
            supportsAllDrives: true,
            spaces: 'drive',
            fields: `nextPageToken,newStartPageToken,changes(changeType,removed,fileId,driveId,time,file(${FILE_FIELDS}))`,
          },
          { signal },
        );
        return {
          changes: response.data.changes ?? [],
          nextPageToken: response.data.nextPageToken || undefined,
          newStartPageToken: response.data.newStartPageToken || undefined,
        };
      }),

    watchChanges: (pageToken, channel) =>
      call('changes.watch', async (signal) => {
        const response = await client.changes.watch(
          {
            pageToken,
            includeRemoved: true,
            includeItemsFromAllDrives: true,
            supportsAllDrives: true,
            spaces: 'drive',
            requestBody: channel,
          },
          { signal },
        );
        return response.data;
      }),

    stopChannel: (channel) =>
      call('channels.stop', async (signal) => {
        await client.channels.stop(
          { requestBody: { id: channel.id, resourceId: channel.resourceId } },
          { signal },
        );
      }),

    listPermissions: async (fileId) => {
      const permissions: DrivePermission[] = [];
      let pageToken: string | undefined;
      do {
        const page = await call(
          'permissions.list',
          async (signal) => {
            const response = await client.permissions.list(
              {
                fileId,
                pageToken,
                pageSize: 100,
                supportsAllDrives: true,
                fields: `nextPageToken,permissions(${PERMISSION_FIELDS})`,
              },
              { signal },
            );
            return response.data;
          },
          true,
        );
        permissions.push(...(page.permissions ?? []));
        pageToken = page.nextPageToken || undefined;
      } while (pageToken);
      return permissions;
    },

    listDrives: async () => {
      const drives: drive_v3.Schema$Drive[] = [];
      let pageToken: string | undefined;
      do {
        const page = await call('drives.list', async (signal) => {
          const response = await client.drives.list(
            { pageSize: 100, pageToken, fields: 'nextPageToken,drives(id,name)' },
            { signal },
          );
          return response.data;
        });
        drives.push(...(page.drives ?? []));
        pageToken = page.nextPageToken || undefined;
      } while (pageToken);
      return drives;
    },

    listSheets: (spreadsheetId) =>
      call(
        'sheets.spreadsheets.get',
        async (signal) => {
          const url = new URL(`v4/spreadsheets/${encodeURIComponent(spreadsheetId)}`, sheetsRootUrl);
          url.searchParams.set('fields', 'sheets.properties(sheetId,title,index)');
          const response = await auth.request<{
            sheets?: { properties?: { sheetId?: number; title?: string } }[];
          }>({ url: url.href, signal, responseType: 'json' });
          return (response.data.sheets ?? []).map((sheet, index) => ({
            sheetId: sheet.properties?.sheetId ?? 0,
            title: sheet.properties?.title ?? `Sheet ${index + 1}`,
          }));
        },
        true,
        true,
      ),

    fetchText: (url) =>
      call(
        'export link',
        async (signal) => {
          const response = await auth.request<string>({ url, signal, responseType: 'text' });
          const text = typeof response.data === 'string' ? response.data : String(response.data ?? '');
          metrics?.bytes.count(Buffer.byteLength(text));
          return text;
        },
        true,
      ),
  };
}

function withSlash(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
}

/** The download as an async iterable that counts bytes as the pipeline reads them. */
function countBytes(stream: Readable, metrics: SyncMetrics | undefined): AsyncIterable<Uint8Array> {
  if (!metrics) return stream as AsyncIterable<Uint8Array>;
  return (async function* () {
    for await (const chunk of stream as AsyncIterable<Uint8Array>) {
      metrics.bytes.count(chunk.byteLength);
      yield chunk;
    }
  })();
}
