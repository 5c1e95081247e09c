import { CorruptContentError } from '../errors/index.js';
import type { ContentExtractor } from './content-extractor.js';

/** JSON documents larger than this are kept as they are instead of being re-indented. */
export const JSON_PRETTY_PRINT_LIMIT = 5 * 1024 * 1024;

/**
 * JSON, pretty-printed with two-space indentation so keys and values land on their own lines
 * (which is what makes them searchable and chunkable). Documents over
 * {@link JSON_PRETTY_PRINT_LIMIT} characters are validated but kept as written
 * (`metadata.prettyPrinted: false`), since re-indenting multiplies their size.
 */
export const jsonExtractor: ContentExtractor = {
  name: 'json',
  mimeTypes: ['application/json', 'text/json', 'application/ld+json'],
  extensions: ['json', 'jsonld'],
  binary: false,
  extract: ({ text = '', fileName, mimeType }) => {
    if (text.trim() === '') return { text: '', structure: 'plain', metadata: { prettyPrinted: false } };
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new CorruptContentError({
        fileName,
        mimeType,
        reason: `it is not valid JSON (${error instanceof Error ? error.message : String(error)})`,
        hint: 'Fix the JSON at its source (or send it as text/plain if it is not meant to be JSON) and sync again',
        cause: error,
      });
    }
    const prettyPrinted = text.length <= JSON_PRETTY_PRINT_LIMIT;
    return {
      text: prettyPrinted ? JSON.stringify(value, null, 2) : text,
      structure: 'plain',
      metadata: { prettyPrinted },
    };
  },
};
