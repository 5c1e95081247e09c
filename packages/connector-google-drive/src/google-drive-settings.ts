import { type ConnectorV1, InvalidConfigError, type RateLimitSettings } from '@tributary/core';
import { z } from 'zod';

/** Connector type stored with every document. */
export const GOOGLE_DRIVE_CONNECTOR_TYPE = 'google_drive';

/** Read-only access to file content and metadata; also accepted by the Sheets API for reads. */
export const DRIVE_READONLY_SCOPE = 'https://www.googleapis.com/auth/drive.readonly';

export const DEFAULT_ROOT_URL = 'https://www.googleapis.com/';
export const DEFAULT_SHEETS_ROOT_URL = 'https://sheets.googleapis.com/';
export const GOOGLE_TOKEN_URL = 'https://oauth2.googleapis.com/token';

/** files.list and changes.list accept at most 1,000 items per page. */
export const MAX_PAGE_SIZE = 1000;

/** Checkpoint cadence of a full listing: folders listed between two checkpoints (default, range). */
export const DEFAULT_CHECKPOINT_EVERY_FOLDERS = 100;
export const CHECKPOINT_EVERY_FOLDERS_RANGE = Object.freeze({ min: 1, max: 10_000 });
/** ...or this long since the last one, whichever comes first. */
export const DEFAULT_CHECKPOINT_INTERVAL_MS = 5_000;
export const CHECKPOINT_INTERVAL_MS_RANGE = Object.freeze({ min: 100, max: 3_600_000 });
/**
 * ...or before the `ctx.state` writes of one checkpoint could pass this many rows (core refuses
 * more than 50,000 pending writes; one listed page adds at most 3 per subfolder plus 2).
 */
export const DEFAULT_CHECKPOINT_MAX_STATE_WRITES = 20_000;
export const CHECKPOINT_MAX_STATE_WRITES_RANGE = Object.freeze({ min: 100, max: 40_000 });

/**
 * Default request budget per connector: Drive's default quota is 12,000 queries per minute per
 * project (200/s), shared by every user of the project, so one connector takes a quarter of it.
 */
export const DEFAULT_RATE_LIMIT: RateLimitSettings = Object.freeze({ requestsPerSecond: 50, burst: 100 });

/** Factory settings: where to call, how much, and what to inject. None of it is a secret. */
export interface GoogleDriveConnectorSettings {
  /** Drive API root. Default `https://www.googleapis.com/`. Point it at a fake server in tests. */
  rootUrl?: string | undefined;
  /** Sheets API root (sheet ids of a spreadsheet). Default `https://sheets.googleapis.com/`. */
  sheetsRootUrl?: string | undefined;
  /** OAuth token endpoint (both auth modes). Default `https://oauth2.googleapis.com/token`. */
  tokenUrl?: string | undefined;
  /** Items per files.list / changes.list page, 1-1000. Default 1000. */
  pageSize?: number | undefined;
  /**
   * Full listing: a checkpoint after this many folders are listed (1-10,000; a page of a folder of
   * several pages counts as one). Default 100. A crashed run resumes at the last checkpoint, so it
   * makes at most this many listing calls again.
   */
  checkpointEveryFolders?: number | undefined;
  /** Full listing: a checkpoint at least this often, in ms (100-3,600,000). Default 5,000. */
  checkpointIntervalMs?: number | undefined;
  /**
   * Full listing: a checkpoint before the `ctx.state` rows written since the last one (folders,
   * their parent index, queue entries) could grow past this (100-40,000). Default 20,000.
   */
  checkpointMaxStateWrites?: number | undefined;
  /** OAuth scopes requested. Default `drive.readonly`. */
  scopes?: readonly string[] | undefined;
  /** Request budget of one connector (a token bucket). Default 50 requests/s, burst 100. */
  rateLimit?: RateLimitSettings | undefined;
  /** Replaces the fetch the Google client uses (proxies, tests). */
  fetch?: typeof fetch | undefined;
}

/** The checkpoint cadence of a full listing, from the settings (defaults filled in). */
export interface CheckpointCadence {
  everyFolders: number;
  intervalMs: number;
  maxStateWrites: number;
}

/**
 * Validates the checkpoint settings: `InvalidConfigError` (subject `settings`) naming the setting
 * and its valid range.
 */
export function resolveCheckpointCadence(settings: GoogleDriveConnectorSettings): CheckpointCadence {
  const check = (
    name: 'checkpointEveryFolders' | 'checkpointIntervalMs' | 'checkpointMaxStateWrites',
    fallback: number,
    range: { min: number; max: number },
  ): number => {
    const value = settings[name];
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < range.min || value > range.max) {
      const shown = typeof value === 'number' ? String(value) : typeof value;
      throw new InvalidConfigError({
        connector: GOOGLE_DRIVE_CONNECTOR_TYPE,
        subject: 'settings',
        issues: [
          {
            fieldPath: name,
            message: `must be an integer from ${range.min} to ${range.max} (got ${shown})`,
          },
        ],
        hint: `Pass ${name} between ${range.min} and ${range.max} to createGoogleDriveConnector, or leave it out for the default (${fallback})`,
      });
    }
    return value;
  };
  return {
    everyFolders: check(
      'checkpointEveryFolders',
      DEFAULT_CHECKPOINT_EVERY_FOLDERS,
      CHECKPOINT_EVERY_FOLDERS_RANGE,
    ),
    intervalMs: check('checkpointIntervalMs', DEFAULT_CHECKPOINT_INTERVAL_MS, CHECKPOINT_INTERVAL_MS_RANGE),
    maxStateWrites: check(
      'checkpointMaxStateWrites',
      DEFAULT_CHECKPOINT_MAX_STATE_WRITES,
      CHECKPOINT_MAX_STATE_WRITES_RANGE,
    ),
  };
}

const DRIVE_ID = /^[A-Za-z0-9_-]+$/;
const MIME_PATTERN = /^[\w.+-]+\/(?:\*|[\w.+-]+)$/;

const driveId = z
  .string()
  .trim()
  .min(1, 'is required')
  .regex(DRIVE_ID, 'must be a Drive id (letters, digits, - and _)');
const mimeType = z
  .string()
  .trim()
  .regex(MIME_PATTERN, 'must be a MIME type such as "application/pdf" or "image/*"');

const googleDriveConfigObject = z
  .object({
    /** Folders synced recursively (their ids, from the folder URL). */
    folderIds: z
      .array(driveId)
      .min(1, 'must list at least one folder id (leave it out to sync no folder)')
      .optional(),
    /** Everything under My Drive of the authenticated user (or the impersonated subject). */
    myDrive: z.boolean().optional(),
    /** Shared drives: `'all'` (every shared drive the account is a member of) or a list of drive ids. */
    sharedDrives: z
      .union([
        z.literal('all'),
        z.array(driveId).min(1, 'must list at least one shared drive id, or be "all"'),
      ])
      .optional(),
    /** Files and folders shared with the account ("Shared with me"). */
    sharedWithMe: z.boolean().optional(),
    /** Only these MIME types (wildcards such as `image/*` allowed; Google types by their own MIME). */
    includeMimeTypes: z
      .array(mimeType)
      .min(1, 'must list at least one MIME type (leave it out to include all)')
      .optional(),
    /** Never these MIME types. */
    excludeMimeTypes: z.array(mimeType).optional(),
    /** Binary files larger than this are left out. Google Docs/Sheets/Slides have no size and are kept. */
    maxFileSizeBytes: z.number().int().positive().optional(),
    /** Only files modified after this instant (ISO 8601 with offset). */
    modifiedAfter: z.iso.datetime({ offset: true }).optional(),
    /** Capture file ACLs into `permissions` (default `true`). */
    includePermissions: z.boolean().optional(),
  })
  .superRefine((config, context) => {
    const selected =
      (config.folderIds?.length ?? 0) > 0 ||
      config.myDrive === true ||
      config.sharedDrives !== undefined ||
      config.sharedWithMe === true;
    if (!selected) {
      context.addIssue({
        code: 'custom',
        path: ['folderIds'],
        message: 'choose what to sync: folderIds, myDrive: true, sharedDrives or sharedWithMe: true',
      });
    }
  })
  // No config at all is reported as nothing selected, not as "expected object".
  .prefault({});

/** What to sync. Validated when an instance is created. */
export type GoogleDriveConfig = z.infer<typeof googleDriveConfigObject>;

export const googleDriveConfigSchema: ConnectorV1<GoogleDriveConfig>['configSchema'] =
  googleDriveConfigObject;

const serviceAccountCredentials = z.object({
  type: z.literal('service_account'),
  /** `client_email` of the key file. */
  clientEmail: z.email('must be the service account e-mail (client_email)'),
  /** `private_key` of the key file (PEM). */
  privateKey: z
    .string()
    .refine((value) => value.includes('PRIVATE KEY'), 'must be a PEM private key (private_key)'),
  /** `private_key_id` of the key file, sent as the JWT `kid`. */
  privateKeyId: z.string().min(1).optional(),
  /** Domain-wide delegation: the user the service account acts as. */
  subject: z.email('must be the e-mail of the user to impersonate').optional(),
});

const oauth2Credentials = z.object({
  type: z.literal('oauth2'),
  clientId: z.string().min(1, 'is required'),
  clientSecret: z.string().min(1, 'is required'),
  /** Long-lived refresh token from the consent flow (access type `offline`). */
  refreshToken: z.string().min(1, 'is required'),
});

const googleDriveCredentialsObject = z.discriminatedUnion('type', [
  serviceAccountCredentials,
  oauth2Credentials,
]);

/** A service account (optionally impersonating a user) or an OAuth2 refresh token. */
export type GoogleDriveCredentials = z.infer<typeof googleDriveCredentialsObject>;

export const googleDriveCredentialsSchema: ConnectorV1<
  GoogleDriveConfig,
  GoogleDriveCredentials
>['credentialsSchema'] = googleDriveCredentialsObject;
