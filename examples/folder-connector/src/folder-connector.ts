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
 * The cursor: when the last listing started. The version (`mtimeMs:size`) of every file it saw
 * lives in `ctx.state`, namespace `files`, keyed by relative POSIX path (committed with each
 * checkpoint), so the cursor stays a few bytes however many files there are. Incremental syncs
 * compare against those versions to emit only new and changed files, and `delete` for the ones
 * that disappeared.
 */
export interface FolderCursor {
  readonly version: 2;
  readonly scannedAt: string;
}

/** The `ctx.state` namespace of file versions. */
export const FILES_NAMESPACE = 'files';

/** Version 1 cursors (before the state store) carried every file's version. */
interface LegacyFolderCursor {
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
      const parsed = parseCursor(ctx.cursor, ctx.logger);
      if (ctx.cursor === undefined || parsed === undefined) {
        // From scratch (no cursor, or one we cannot read): versions of an earlier life go.
        ctx.state.clear(FILES_NAMESPACE);
      } else if (parsed.version === 1) {
        // A version 1 cursor: its file map moves into ctx.state, committed with the first checkpoint.
        ctx.state.clear(FILES_NAMESPACE);
        for (const [path, version] of Object.entries(parsed.files))
          ctx.state.set(FILES_NAMESPACE, path, version);
      }
      const previous = ctx.mode === 'incremental' && parsed ? { scannedAt: parsed.scannedAt } : undefined;
      const include = ctx.config.include?.map(normalizeExtension);
      // An incremental run compares with the stored versions; a checkpoint taken mid-walk keeps files
      // not reached yet at their committed versions (a resumed run re-checks them). A full run lists
      // everything and records what it saw.
      const checkpoint = (at: string): ConnectorChange => ({
        kind: 'checkpoint',
        cursor: { version: 2, scannedAt: at } satisfies FolderCursor,
      });
      const seen = new Set<string>();
      const unreadable: string[] = [];
      let batch: ListedFile[] = [];

      // One state read per batch of listed files, then their upserts and a checkpoint.
      async function* flush(withCheckpoint: boolean): AsyncGenerator<ConnectorChange> {
        const stored = await ctx.state.get(
          FILES_NAMESPACE,
          batch.map((file) => file.relativePath),
        );
        for (const file of batch) {
          const version = `${file.mtimeMs}:${file.size}`;
          const changed = stored.get(file.relativePath) !== version;
          if (changed) ctx.state.set(FILES_NAMESPACE, file.relativePath, version);
          if (ctx.mode === 'full' || previous === undefined || changed) {
            yield { kind: 'upsert', document: toDocument(root, file, version) };
          }
        }
        batch = [];
        if (withCheckpoint) yield checkpoint(previous?.scannedAt ?? scannedAt);
      }

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
        batch.push(file);
        if (batch.length >= checkpointEvery) yield* flush(true);
      }
      if (batch.length > 0) yield* flush(false);

      // Files known from earlier runs that this walk did not see are gone (unless their folder
      // could not be read: unknown is not gone). The namespace is read page by page.
      const insideUnreadable = (relativePath: string) =>
        unreadable.some((folder) => folder === '' || relativePath.startsWith(`${folder}/`));
      const vanished: string[] = [];
      for await (const entry of ctx.state.iterate(FILES_NAMESPACE)) {
        if (!seen.has(entry.key) && !insideUnreadable(entry.key)) vanished.push(entry.key);
      }
      for (const [index, relativePath] of vanished.entries()) {
        ctx.state.delete(FILES_NAMESPACE, relativePath);
        if (ctx.mode === 'incremental') yield { kind: 'delete', externalId: relativePath };
        if ((index + 1) % checkpointEvery === 0) yield checkpoint(previous?.scannedAt ?? scannedAt);
      }

      yield checkpoint(scannedAt);
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

function parseCursor(
  cursor: JsonValue | undefined,
  logger: Logger,
): FolderCursor | LegacyFolderCursor | undefined {
  if (cursor === undefined || cursor === null) return undefined;
  if (typeof cursor === 'object' && !Array.isArray(cursor) && typeof cursor.scannedAt === 'string') {
    if (cursor.version === 2) return cursor as unknown as FolderCursor;
    if (
      cursor.version === 1 &&
      typeof cursor.files === 'object' &&
      cursor.files !== null &&
      !Array.isArray(cursor.files) &&
      Object.values(cursor.files).every((value) => typeof value === 'string')
    ) {
      return cursor as unknown as LegacyFolderCursor;
    }
  }
  logger.warn('cursor not recognised; listing every file as new (no deletes this time)', {
    connector: FOLDER_CONNECTOR_TYPE,
  });
  return undefined;
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
