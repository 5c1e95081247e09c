/** The MIME types the `connector-imports` bucket accepts (the `@tributary/sql` storage migration). */
export const DEFAULT_ALLOWED_MIME_TYPES: readonly string[] = [
  'video/mp4',
  'video/webm',
  'video/quicktime',
  'audio/mpeg',
  'audio/wav',
  'audio/ogg',
  'image/png',
  'image/jpeg',
  'image/gif',
  'image/webp',
  'application/pdf',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  'text/plain',
  'text/markdown',
  'text/csv',
  'text/html',
  'application/json',
];

/** The bucket's size limit: 5 GB. */
export const DEFAULT_MAX_FILE_BYTES = 5 * 1024 * 1024 * 1024;

export const DOCX_MIME_TYPE = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';
export const XLSX_MIME_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
export const PPTX_MIME_TYPE = 'application/vnd.openxmlformats-officedocument.presentationml.presentation';

/** What the uploader does with a file: extract text, transcribe it, or only store it. */
export type UploadKind = 'document' | 'audio' | 'video' | 'image';

/** The type folder of the object path. */
export function storageFolder(kind: UploadKind): string {
  switch (kind) {
    case 'document':
      return 'documents';
    case 'audio':
      return 'audio';
    case 'video':
      return 'videos';
    case 'image':
      return 'images';
  }
}

export function kindOf(mimeType: string): UploadKind {
  if (mimeType.startsWith('audio/')) return 'audio';
  if (mimeType.startsWith('video/')) return 'video';
  if (mimeType.startsWith('image/')) return 'image';
  return 'document';
}

/** Extension → the type a file so named claims to be. */
export const MIME_TYPE_BY_EXTENSION: Readonly<Record<string, string>> = {
  mp4: 'video/mp4',
  m4v: 'video/mp4',
  webm: 'video/webm',
  mov: 'video/quicktime',
  mp3: 'audio/mpeg',
  wav: 'audio/wav',
  ogg: 'audio/ogg',
  oga: 'audio/ogg',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  pdf: 'application/pdf',
  docx: DOCX_MIME_TYPE,
  xlsx: XLSX_MIME_TYPE,
  pptx: PPTX_MIME_TYPE,
  txt: 'text/plain',
  text: 'text/plain',
  log: 'text/plain',
  md: 'text/markdown',
  markdown: 'text/markdown',
  csv: 'text/csv',
  html: 'text/html',
  htm: 'text/html',
  json: 'application/json',
};

export function extensionOf(fileName: string): string | undefined {
  const match = /\.([A-Za-z0-9]{1,10})$/.exec(fileName.trim());
  return match?.[1]?.toLowerCase();
}
