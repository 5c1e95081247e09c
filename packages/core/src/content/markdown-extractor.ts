import type { ContentExtractor } from './content-extractor.js';
import { stripInlineImages } from './strip-inline-images.js';

/**
 * Markdown, kept as Markdown (headings drive the chunker). A leading YAML front-matter block is
 * moved out of the text into `metadata.frontMatter` (simple `key: value` lines only); the title is
 * its `title:` or else the first `# ` heading. Images never stay as text: inline `data:` images
 * become their alt text (see `stripInlineImages`).
 */
export const markdownExtractor: ContentExtractor = {
  name: 'markdown',
  mimeTypes: ['text/markdown', 'text/x-markdown'],
  extensions: ['md', 'markdown', 'mdown', 'mkd'],
  binary: false,
  extract: ({ text = '' }) => {
    const { body, frontMatter } = splitFrontMatter(text);
    const title = frontMatter?.title ?? firstHeading(body);
    return {
      text: stripInlineImages(body),
      title,
      metadata: frontMatter ? { frontMatter } : {},
      structure: 'markdown',
    };
  },
};

function splitFrontMatter(text: string): { body: string; frontMatter: Record<string, string> | undefined } {
  const match = /^\uFEFF?---[ \t]*\r?\n([\s\S]*?)\r?\n---[ \t]*(?:\r?\n|$)/.exec(text);
  if (!match) return { body: text, frontMatter: undefined };
  const frontMatter: Record<string, string> = {};
  for (const line of (match[1] ?? '').split(/\r?\n/)) {
    const pair = /^([A-Za-z_][\w-]*)\s*:\s*(.*)$/.exec(line);
    if (pair?.[1] && pair[2] !== undefined)
      frontMatter[pair[1]] = pair[2].trim().replace(/^(['"])(.*)\1$/, '$2');
  }
  return { body: text.slice(match[0].length), frontMatter };
}

function firstHeading(text: string): string | undefined {
  const heading = /^#[ \t]+(.+?)[ \t#]*$/m.exec(text);
  return heading?.[1]?.trim() || undefined;
}
