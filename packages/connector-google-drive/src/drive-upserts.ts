import {
  ConnectorApiError,
  type ConnectorChange,
  type DocumentPermission,
  type Logger,
} from '@tributary/core';
import pMap from 'p-map';
import type { DriveFolders } from './drive-folder-state.js';
import type { Ctx } from './drive-sync-run.js';
import type { DriveApi, DriveFile } from './google-drive-api.js';
import { mapDriveFile, normalizePermissions } from './map-drive-file.js';

// Listed or changed files into upserts: the file's path from the folder map, its ACL, its document.

/** Concurrent permissions.list calls while mapping one page. */
const PERMISSION_CONCURRENCY = 4;

export async function toUpserts(
  ctx: Ctx,
  api: DriveApi,
  files: DriveFile[],
  folders: DriveFolders,
): Promise<ConnectorChange[]> {
  const withPermissions = ctx.config.includePermissions !== false;
  // Paths first, one folder lookup per distinct parent (cached, or one batched state read).
  const parentPaths = new Map<string, string | undefined>();
  for (const file of files) {
    const parent = file.parents?.[0];
    if (parent && !parentPaths.has(parent)) parentPaths.set(parent, await folders.path(parent));
  }
  return pMap(
    files,
    async (file) => {
      let permissions: DocumentPermission[] | undefined;
      if (withPermissions) permissions = await permissionsOf(api, file, ctx.logger);
      const parent = file.parents?.[0];
      const prefix = parent ? parentPaths.get(parent) : undefined;
      const path = prefix ? `${prefix}/${file.name ?? ''}` : (file.name ?? '');
      return {
        kind: 'upsert',
        document: mapDriveFile(file, { api, path, permissions, logger: ctx.logger }),
      } satisfies ConnectorChange;
    },
    { concurrency: PERMISSION_CONCURRENCY },
  );
}

/**
 * ACLs from the listing when Drive filled them (My Drive files), else one permissions.list call
 * (shared drive files, whose listing has no `permissions`). A file whose ACL the account may not
 * read keeps no permissions (and a warning), rather than failing.
 */
async function permissionsOf(
  api: DriveApi,
  file: DriveFile,
  logger: Logger,
): Promise<DocumentPermission[] | undefined> {
  if (file.permissions) return normalizePermissions(file.permissions);
  try {
    return normalizePermissions(await api.listPermissions(file.id ?? ''));
  } catch (error) {
    if (!ConnectorApiError.isInstance(error) || error.isRetryable) throw error;
    logger.warn('file permissions not readable; stored without permissions', {
      fileId: file.id,
      status: error.status,
    });
    return undefined;
  }
}
