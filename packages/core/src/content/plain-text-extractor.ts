import type { ContentExtractor } from './content-extractor.js';

/** Plain text (`text/plain`, `.txt`, `.log`). Also the fallback for other `text/*` types. */
export const plainTextExtractor: ContentExtractor = {
  name: 'text',
  mimeTypes: ['text/plain'],
  extensions: ['txt', 'text', 'log'],
  binary: false,
  extract: ({ text }) => ({ text: text ?? '', structure: 'plain' }),
};
