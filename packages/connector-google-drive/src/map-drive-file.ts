import {
  ConnectorApiError,
  createExtractorRegistry,
  type DocumentPermission,
  type JsonObject,
  type LoadedContent,
  type PermissionRole,
  type SourceDocument,
} from '@tributary/core';
import type { DriveApi, DriveFile, DrivePermission } from './google-drive-api.js';
import { GOOGLE_DRIVE_CONNECTOR_TYPE, type GoogleDriveConfig } from './google-drive-settings.js';

export const FOLDER_MIME_TYPE = 'application/vnd.google-apps.folder';
export const GOOGLE_DOC_MIME_TYPE = 'application/vnd.google-apps.document';
export const GOOGLE_SHEET_MIME_TYPE = 'application/vnd.google-apps.spreadsheet';
export const GOOGLE_SLIDES_MIME_TYPE = 'application/vnd.google-apps.presentation';

/** Drive's cap on files.export output. */
export const EXPORT_SIZE_LIMIT_BYTES = 10 * 1024 * 1024;

/** How each Google Workspace type is turned into text; other `vnd.google-apps.*` types are skipped. */
const EXPORTS: Readonly<Record<string, { mimeType: string }>> = {
  [GOOGLE_DOC_MIME_TYPE]: { mimeType: 'text/markdown' },
  [GOOGLE_SHEET_MIME_TYPE]: { mimeType: 'text/markdown' },
  [GOOGLE_SLIDES_MIME_TYPE]: { mimeType: 'text/plain' },
};

export function isFolder(file: DriveFile): boolean {
  return file.mimeType === FOLDER_MIME_TYPE;
}

/** Google types without text worth indexing (forms, drawings, shortcuts, sites...). */
export function isUnsupportedGoogleType(mimeType: string | null | undefined): boolean {
  return (
    typeof mimeType === 'string' &&
    mimeType.startsWith('application/vnd.google-apps.') &&
    EXPORTS[mimeType] === undefined
  );
}

function matchesMime(mimeType: string, patterns: readonly string[]): boolean {
  return patterns.some((pattern) =>
    pattern.endsWith('/*') ? mimeType.startsWith(pattern.slice(0, -1)) : pattern === mimeType,
  );
}

/** Whether a (non-folder, not trashed) file passes the config's MIME, size and date filters. */
export function passesFilters(file: DriveFile, config: GoogleDriveConfig): boolean {
  const mimeType = file.mimeType ?? 'application/octet-stream';
  if (isFolder(file) || isUnsupportedGoogleType(mimeType)) return false;
  if (config.includeMimeTypes && !matchesMime(mimeType, config.includeMimeTypes)) return false;
  if (config.excludeMimeTypes && matchesMime(mimeType, config.excludeMimeTypes)) return false;
  if (
    config.maxFileSizeBytes !== undefined &&
    file.size != null &&
    Number(file.size) > config.maxFileSizeBytes
  ) {
    return false;
  }
  if (config.modifiedAfter !== undefined && file.modifiedTime) {
    if (Date.parse(file.modifiedTime) <= Date.parse(config.modifiedAfter)) return false;
  }
  return true;
}

const ROLES: Readonly<Record<string, PermissionRole>> = {
  owner: 'owner',
  organizer: 'owner',
  fileOrganizer: 'editor',
  writer: 'editor',
  commenter: 'commenter',
  reader: 'reader',
};

/** Drive ACL entries in core's normalised shape (deleted accounts and unknown types left out). */
export function normalizePermissions(permissions: readonly DrivePermission[]): DocumentPermission[] {
  const result: DocumentPermission[] = [];
  for (const permission of permissions) {
    if (permission.deleted) continue;
    const role = ROLES[permission.role ?? ''] ?? 'reader';
    const base = {
      ...(permission.displayName ? { displayName: permission.displayName } : {}),
      role,
    };
    switch (permission.type) {
      case 'user':
      case 'group':
        result.push({
          type: permission.type,
          ...(permission.id ? { id: permission.id } : {}),
          ...(permission.emailAddress ? { email: permission.emailAddress.toLowerCase() } : {}),
          ...base,
        });
        break;
      case 'domain':
        if (permission.domain)
          result.push({ type: 'domain', domain: permission.domain.toLowerCase(), ...base });
        break;
      case 'anyone':
        result.push({ type: 'anyone', ...base });
        break;
      default:
        break;
    }
  }
  return result;
}

/**
 * The version the pipeline compares: Drive's `version` (bumped by any change to the file,
 * including a rename or a move, so titles and paths stay current), else the checksum, else the
 * modified time.
 */
export function fileVersion(file: DriveFile): string | undefined {
  if (file.version) return `v${file.version}`;
  if (file.md5Checksum) return `md5:${file.md5Checksum}`;
  return file.modifiedTime ?? undefined;
}

export interface MapFileOptions {
  api: DriveApi;
  path: string;
  permissions: DocumentPermission[] | undefined;
  logger: { warn(message: string, fields?: Record<string, unknown>): void };
}

/** A Drive file as a source document with lazy content: nothing is downloaded until `load()`. */
export function mapDriveFile(file: DriveFile, options: MapFileOptions): SourceDocument {
  const id = file.id ?? '';
  const mimeType = file.mimeType ?? 'application/octet-stream';
  const exported = EXPORTS[mimeType];
  const title = file.name ?? id;
  const metadata: JsonObject = {
    title,
    path: options.path,
    mimeType,
    ...(file.size != null ? { size: Number(file.size) } : {}),
    ...(file.modifiedTime ? { modifiedTime: file.modifiedTime } : {}),
    ...(file.webViewLink ? { webViewLink: file.webViewLink } : {}),
    ...(file.md5Checksum ? { md5Checksum: file.md5Checksum } : {}),
    ...(file.driveId ? { driveId: file.driveId } : {}),
    ...(file.parents ? { parents: [...file.parents] } : {}),
    owners: (file.owners ?? []).map((owner) => ({
      ...(owner.displayName ? { displayName: owner.displayName } : {}),
      ...(owner.emailAddress ? { email: owner.emailAddress } : {}),
    })),
    ...(exported ? { exportedAs: exported.mimeType } : {}),
    ...(options.permissions
      ? { permissions: options.permissions.map((p) => ({ ...p })) as JsonObject[] }
      : {}),
  };
  return {
    externalId: id,
    parentExternalId: file.parents?.[0] ?? undefined,
    title,
    mimeType: exported ? exported.mimeType : mimeType,
    externalUrl: file.webViewLink ?? undefined,
    version: fileVersion(file),
    modifiedAt: file.modifiedTime ?? undefined,
    metadata,
    ...(options.permissions ? { permissions: options.permissions } : {}),
    content: {
      kind: 'lazy',
      load: () => loadContent(file, options),
    },
  };
}

async function loadContent(file: DriveFile, options: MapFileOptions): Promise<LoadedContent> {
  const id = file.id ?? '';
  const { api } = options;
  switch (file.mimeType) {
    case GOOGLE_DOC_MIME_TYPE:
      return { kind: 'text', text: await exportDoc(api, file) };
    case GOOGLE_SLIDES_MIME_TYPE:
      return { kind: 'text', text: await exportOrExplain(api, file, 'text/plain') };
    case GOOGLE_SHEET_MIME_TYPE:
      return { kind: 'text', text: await exportSheets(api, file, options.logger) };
    default: {
      const stream = await api.download(id);
      return {
        kind: 'stream',
        stream,
        ...(file.size != null ? { sizeBytes: Number(file.size) } : {}),
      };
    }
  }
}

/** Docs as Markdown (Drive's `text/markdown` export); plain text when Markdown is refused. */
async function exportDoc(api: DriveApi, file: DriveFile): Promise<string> {
  try {
    return await exportOrExplain(api, file, 'text/markdown');
  } catch (error) {
    if (ConnectorApiError.isInstance(error) && error.status === 400) {
      return exportOrExplain(api, file, 'text/plain');
    }
    throw error;
  }
}

async function exportOrExplain(api: DriveApi, file: DriveFile, mimeType: string): Promise<string> {
  try {
    return await api.exportText(file.id ?? '', mimeType);
  } catch (error) {
    if (
      ConnectorApiError.isInstance(error) &&
      error.status === 403 &&
      /exportSizeLimitExceeded/.test(error.message)
    ) {
      throw new ConnectorApiError({
        connector: GOOGLE_DRIVE_CONNECTOR_TYPE,
        status: 403,
        isRetryable: false,
        message: `"${file.name ?? file.id}" (${file.id}) is larger than Drive's 10 MB export limit (exportSizeLimitExceeded), so its text cannot be exported`,
        hint: 'Split the document into smaller ones, or leave it out with excludeMimeTypes; it stays recorded as failed until then',
      });
    }
    throw error;
  }
}

const csvRegistry = createExtractorRegistry();

/**
 * Every sheet of a spreadsheet, not only the first: files.export to `text/csv` exports the first
 * sheet only. The Sheets API lists the sheets (`sheetId` = the `gid`), and each sheet is fetched
 * as CSV through the file's `exportLinks['text/csv']` with `gid=<sheetId>`. Each CSV becomes
 * Markdown tables (core's CSV extractor) under a `## <sheet title>` heading, so chunks keep the
 * sheet name as context. When the Sheets API is not available (disabled in the project, 403/404)
 * the first sheet is exported with files.export and a warning says so.
 */
async function exportSheets(
  api: DriveApi,
  file: DriveFile,
  logger: MapFileOptions['logger'],
): Promise<string> {
  const id = file.id ?? '';
  let sheets: { sheetId: number; title: string }[];
  try {
    sheets = await api.listSheets(id);
  } catch (error) {
    if (ConnectorApiError.isInstance(error) && (error.status === 403 || error.status === 404)) {
      logger.warn('Sheets API unavailable; exporting the first sheet only', {
        fileId: id,
        status: error.status,
      });
      const csv = await exportOrExplain(api, file, 'text/csv');
      return sheetMarkdown(file.name ?? id, csv);
    }
    throw error;
  }
  const withLinks = await api.getFile(id, 'exportLinks', true);
  const csvLink = withLinks.exportLinks?.['text/csv'];
  if (!csvLink) {
    const csv = await exportOrExplain(api, file, 'text/csv');
    return sheetMarkdown(file.name ?? id, csv);
  }
  const parts: string[] = [];
  for (const sheet of sheets) {
    const url = new URL(csvLink);
    url.searchParams.set('gid', String(sheet.sheetId));
    const csv = await api.fetchText(url.href);
    parts.push(await sheetMarkdown(sheet.title, csv));
  }
  return parts.join('\n\n');
}

async function sheetMarkdown(title: string, csv: string): Promise<string> {
  if (csv.trim() === '') return `## ${title}\n\n(empty sheet)`;
  const extracted = await csvRegistry.extract({ text: csv, claimedMimeType: 'text/csv' });
  return `## ${title}\n\n${extracted.text}`;
}
