import type { ContentExtractor } from './content-extractor.js';
import { htmlTitle, htmlToMarkdownText } from './html-to-markdown-text.js';

/**
 * HTML → readable text with Markdown headings and tables (see `htmlToMarkdownText`); the title
 * comes from `<title>`.
 */
export const htmlExtractor: ContentExtractor = {
  name: 'html',
  mimeTypes: ['text/html', 'application/xhtml+xml'],
  extensions: ['html', 'htm', 'xhtml'],
  binary: false,
  extract: async ({ text = '' }) => ({
    text: await htmlToMarkdownText(text),
    title: await htmlTitle(text),
    structure: 'markdown',
  }),
};
