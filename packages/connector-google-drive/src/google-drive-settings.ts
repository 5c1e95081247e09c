import type { ConnectorV1, RateLimitSettings } from '@tributary/core';
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
  /** OAuth scopes requested. Default `drive.readonly`. */
  scopes?: readonly string[] | undefined;
  /** Request budget of one connector (a token bucket). Default 50 requests/s, burst 100. */
  rateLimit?: RateLimitSettings | undefined;
  /** Replaces the fetch the Google client uses (proxies, tests). */
  fetch?: typeof fetch | undefined;
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
