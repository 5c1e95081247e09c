import { constants, type Dir } from 'node:fs';
import { access, lstat, open, opendir, stat } from 'node:fs/promises';
import { extname, isAbsolute, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  type ConnectorChange,
  type ConnectorV1,
  defineConnector,
  type JsonValue,
  type Logger,
  type SourceDocument,
  TributaryError,
} from '@tributary/core';
import { z } from 'zod';

/** Connector type stored with every document. */
export const FOLDER_CONNECTOR_TYPE = 'local_folder';

/** Default number of listed files between two checkpoints. */
export const DEFAULT_CHECKPOINT_EVERY = 500;

const EXTENSION_PATTERN = /^(?:\*\.|\.)?([A-Za-z0-9][A-Za-z0-9_-]*(?:\.[A-Za-z0-9][A-Za-z0-9_-]*)*)$/;

/** What a folder connector syncs. Validated when the instance is created. */
const folderConfigObject = z
  .object({
    /** The folder to import, absolute (a relative path would depend on the worker's directory). */
    path: z
      .string()
      .min(1, 'is required')
      .refine((value) => isAbsolute(value), 'must be an absolute path'),
    /** Extensions to import: `md`, `.md` or `*.md` (case-insensitive). Default: every file. */
    include: z
      .array(z.string().regex(EXTENSION_PATTERN, 'must be an extension such as "md", ".pdf" or "*.txt"'))
      .min(1, 'must list at least one extension (leave it out to import every file)')
      .optional(),
    /** Files larger than this are skipped (and logged). Default: no limit. */
    maxFileBytes: z.number().int().positive().optional(),
    /** Import dot-files and dot-folders (`.git`, `.DS_Store`)? Default `false`. */
    includeHidden: z.boolean().optional(),
  })
  // No config at all is reported as a missing `path`, not as "expected object".
  .prefault({} as { path: string });

/** What `folderConfigSchema` produces. */
export type FolderConfig = z.infer<typeof folderConfigObject>;

export const folderConfigSchema: ConnectorV1<FolderConfig>['configSchema'] = folderConfigObject;

export interface FolderConnectorSettings {
  /** Listed files between two checkpoints. Default 500. */
  checkpointEvery?: number | undefined;
}

/**
 * The cursor: when the last listing started and the version (`mtimeMs:size`) of every file it
 * saw, keyed by relative POSIX path. Incremental syncs compare against it to emit only new and
 * changed files, and `delete` for the ones that disappeared.
 */
export interface FolderCursor {
  readonly version: 1;
  readonly scannedAt: string;
  readonly files: Readonly<Record<string, string>>;
}

const MIME_TYPES: Readonly<Record<string, string>> = {
  md: 'text/markdown',
  markdown: 'text/markdown',
  txt: 'text/plain',
  text: 'text/plain',
  log: 'text/plain',
  html: 'text/html',
  htm: 'text/html',
  csv: 'text/csv',
  tsv: 'text/tab-separated-values',
  json: 'application/json',
  vtt: 'text/vtt',
  srt: 'application/x-subrip',
  pdf: 'application/pdf',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
};

/**
 * The MIME type a file's extension suggests, or `undefined`. Only a claim: the pipeline sniffs the
 * bytes and trusts them over the name.
 */
export function guessMimeType(fileName: string): string | undefined {
  return MIME_TYPES[extname(fileName).slice(1).toLowerCase()];
}

/**
 * A connector for a folder on the local disk: every regular file below `config.path` becomes a
 * document whose `externalId` is its relative POSIX path and whose `version` is `mtimeMs:size`.
 * Listing reads metadata only; a file's bytes are read when the pipeline calls `load()`, which it
 * does only for new or changed versions. Incremental syncs compare with the cursor's file map and
 * emit upserts for new/changed files and deletes for vanished ones; full syncs list everything and
 * end with `listing-complete` (`complete: false` when a folder could not be read). Symbolic links
 * are not followed.
 *
 * @example
 * const instance = createConnectorInstance(createFolderConnector(), { config: { path: '/srv/handbook' } });
 * for await (const change of instance.sync()) console.log(change.kind);
 */
export function createFolderConnector(settings: FolderConnectorSettings = {}): ConnectorV1<FolderConfig> {
  const checkpointEvery = settings.checkpointEvery ?? DEFAULT_CHECKPOINT_EVERY;
  if (!Number.isInteger(checkpointEvery) || checkpointEvery < 1) {
    throw new RangeError(
      `[tributary] [local_folder] checkpointEvery must be a positive integer, got ${checkpointEvery}`,
    );
  }

  return defineConnector<FolderConfig>({
    type: FOLDER_CONNECTOR_TYPE,
    displayName: 'Local folder',
    capabilities: { incremental: true, deletions: true, binaryContent: true },
    configSchema: folderConfigSchema,

    async check(ctx) {
      await assertReadableFolder(ctx.config.path);
    },

    async *sync(ctx): AsyncGenerator<ConnectorChange> {
      const root = ctx.config.path;
      await assertReadableFolder(root);
      const scannedAt = new Date().toISOString();
      const previous = ctx.mode === 'incremental' ? parseCursor(ctx.cursor, ctx.logger) : undefined;
      const include = ctx.config.include?.map(normalizeExtension);
      // Versions as of this run. An incremental run starts from the previous map, so a checkpoint
      // taken mid-walk keeps files not reached yet at their committed versions (a resumed run
      // re-checks them); a full run starts empty and lists everything.
      const current = new Map<string, string>(Object.entries(previous?.files ?? {}));
      const seen = new Set<string>();
      const unreadable: string[] = [];
      let sinceCheckpoint = 0;

      const files = walk(root, '', {
        includeHidden: ctx.config.includeHidden ?? false,
        signal: ctx.signal,
        logger: ctx.logger,
        onUnreadable: (relativePath) => unreadable.push(relativePath),
      });
      for await (const file of files) {
        if (include && !matchesExtension(file.name, include)) continue;
        if (ctx.config.maxFileBytes !== undefined && file.size > ctx.config.maxFileBytes) {
          ctx.logger.warn('file over maxFileBytes skipped', {
            path: file.relativePath,
            sizeBytes: file.size,
            maxFileBytes: ctx.config.maxFileBytes,
          });
          continue;
        }
        seen.add(file.relativePath);
        const version = `${file.mtimeMs}:${file.size}`;
        const changed = previous === undefined || previous.files[file.relativePath] !== version;
        current.set(file.relativePath, version);
        if (ctx.mode === 'full' || changed) {
          yield { kind: 'upsert', document: toDocument(root, file, version) };
        }
        sinceCheckpoint += 1;
        if (sinceCheckpoint >= checkpointEvery) {
          sinceCheckpoint = 0;
          yield { kind: 'checkpoint', cursor: cursorOf(previous?.scannedAt ?? scannedAt, current) };
        }
      }

      const insideUnreadable = (relativePath: string) =>
        unreadable.some((folder) => folder === '' || relativePath.startsWith(`${folder}/`));
      for (const relativePath of Object.keys(previous?.files ?? {})) {
        if (seen.has(relativePath)) continue;
        // A file below a folder we could not read is unknown, not gone: keep its entry.
        if (insideUnreadable(relativePath)) continue;
        current.delete(relativePath);
        if (ctx.mode === 'incremental') yield { kind: 'delete', externalId: relativePath };
      }

      yield { kind: 'checkpoint', cursor: cursorOf(scannedAt, current) };
      if (ctx.mode === 'full') {
        yield unreadable.length === 0
          ? { kind: 'listing-complete', complete: true }
          : {
              kind: 'listing-complete',
              complete: false,
              reason: `could not read ${unreadable.length} folder(s): ${unreadable
                .slice(0, 5)
                .map((folder) => (folder === '' ? '.' : folder))
                .join(', ')}${unreadable.length > 5 ? ', ...' : ''}`,
            };
      }
    },
  });
}

interface ListedFile {
  /** POSIX path relative to the root: `guides/onboarding.md`. */
  relativePath: string;
  name: string;
  size: number;
  mtimeMs: number;
  mtime: Date;
}

interface WalkOptions {
  includeHidden: boolean;
  signal: AbortSignal;
  logger: Logger;
  onUnreadable(relativePath: string): void;
}

/**
 * Regular files below `directory`, depth first. `opendir` streams each folder's entries, so a
 * folder of a million files is never held in memory. Folders that cannot be opened or read are
 * reported through `onUnreadable` and skipped.
 */
async function* walk(
  root: string,
  relativeDirectory: string,
  options: WalkOptions,
): AsyncGenerator<ListedFile> {
  options.signal.throwIfAborted();
  const absoluteDirectory = relativeDirectory === '' ? root : join(root, ...relativeDirectory.split('/'));
  let directory: Dir;
  try {
    directory = await opendir(absoluteDirectory);
  } catch (error) {
    options.logger.warn('folder could not be read; its files are left as they are', {
      folder: relativeDirectory || '.',
      error: describeError(error),
    });
    options.onUnreadable(relativeDirectory);
    return;
  }
  try {
    for await (const entry of directory) {
      options.signal.throwIfAborted();
      if (!options.includeHidden && entry.name.startsWith('.')) continue;
      const relativePath = relativeDirectory === '' ? entry.name : `${relativeDirectory}/${entry.name}`;
      if (entry.isDirectory()) {
        yield* walk(root, relativePath, options);
      } else if (entry.isFile()) {
        let stats: Awaited<ReturnType<typeof lstat>>;
        try {
          stats = await lstat(join(absoluteDirectory, entry.name));
        } catch {
          continue; // removed while listing: it is simply not there
        }
        if (!stats.isFile()) continue;
        yield {
          relativePath,
          name: entry.name,
          size: stats.size,
          mtimeMs: stats.mtimeMs,
          mtime: stats.mtime,
        };
      }
      // Symbolic links, sockets, devices: never followed or read.
    }
  } catch (error) {
    if (options.signal.aborted) throw error;
    options.logger.warn('folder listing failed part-way; its remaining files are left as they are', {
      folder: relativeDirectory || '.',
      error: describeError(error),
    });
    options.onUnreadable(relativeDirectory);
  }
}

function toDocument(root: string, file: ListedFile, version: string): SourceDocument {
  const absolutePath = join(root, ...file.relativePath.split('/'));
  const slash = file.relativePath.lastIndexOf('/');
  return {
    externalId: file.relativePath,
    parentExternalId: slash === -1 ? undefined : file.relativePath.slice(0, slash),
    title: file.name,
    mimeType: guessMimeType(file.name),
    externalUrl: pathToFileURL(absolutePath).href,
    version,
    modifiedAt: file.mtime.toISOString(),
    metadata: { relativePath: file.relativePath, sizeBytes: file.size },
    content: {
      kind: 'lazy',
      // Opened only now, when the pipeline decided it needs the bytes; streamed, never buffered.
      async load({ signal }) {
        const handle = await open(absolutePath, 'r');
        const info = await handle.stat();
        return {
          kind: 'stream',
          stream: handle.createReadStream({ autoClose: true, signal }),
          sizeBytes: info.size,
        };
      },
    },
  };
}

function cursorOf(scannedAt: string, files: ReadonlyMap<string, string>): JsonValue {
  return { version: 1, scannedAt, files: Object.fromEntries(files) };
}

function parseCursor(cursor: JsonValue | undefined, logger: Logger): FolderCursor | undefined {
  if (cursor === undefined || cursor === null) return undefined;
  if (
    typeof cursor === 'object' &&
    !Array.isArray(cursor) &&
    cursor.version === 1 &&
    typeof cursor.scannedAt === 'string' &&
    typeof cursor.files === 'object' &&
    cursor.files !== null &&
    !Array.isArray(cursor.files) &&
    Object.values(cursor.files).every((value) => typeof value === 'string')
  ) {
    return cursor as unknown as FolderCursor;
  }
  logger.warn('cursor not recognised; listing every file as new (no deletes this time)', {
    connector: FOLDER_CONNECTOR_TYPE,
  });
  return { version: 1, scannedAt: new Date(0).toISOString(), files: {} };
}

async function assertReadableFolder(path: string): Promise<void> {
  try {
    const info = await stat(path);
    if (!info.isDirectory()) throw new Error('not a directory');
    await access(path, constants.R_OK | constants.X_OK);
  } catch (error) {
    throw new TributaryError({
      code: 'folder_unreadable',
      connector: FOLDER_CONNECTOR_TYPE,
      message: `the folder ${JSON.stringify(path)} cannot be read (${describeError(error)})`,
      hint: 'Check that the path exists, is a folder and is readable by this process, then sync again',
      cause: error,
    });
  }
}

function normalizeExtension(pattern: string): string {
  return (EXTENSION_PATTERN.exec(pattern)?.[1] ?? pattern).toLowerCase();
}

/** `Report.PDF` matches `pdf`; `backup.tar.gz` matches `gz` and `tar.gz`. */
function matchesExtension(fileName: string, extensions: readonly string[]): boolean {
  const lower = fileName.toLowerCase();
  return extensions.some(
    (extension) => lower.endsWith(`.${extension}`) && lower.length > extension.length + 1,
  );
}

function describeError(error: unknown): string {
  if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string') {
    return error.code;
  }
  return error instanceof Error ? error.message : String(error);
}
