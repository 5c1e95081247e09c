/** Longest image URL kept as a link; longer ones (signed CDN URLs, tracking) are noise in a chunk. */
export const MAX_IMAGE_LINK_LENGTH = 200;

// `![alt](target "title")`: the target may be wrapped in `<...>`; a data: URI holds no spaces.
const MARKDOWN_IMAGE =
  /!\[((?:\\.|[^\]\\]){0,2000})\]\(\s*(<[^>\n]*>|[^\s)]*)(?:\s+(?:"[^"\n]*"|'[^'\n]*'))?\s*\)/g;
// `[text](data:...)`: a link whose target is inline data.
const DATA_LINK = /\[((?:\\.|[^\]\\]){0,2000})\]\(\s*<?data:[^)\s>]*>?\s*\)/gi;
// An HTML `<img>` left in Markdown (Notion exports, hand-written Markdown).
const HTML_IMAGE = /<img\b[^>]*>/gi;
// A bare base64 data: URI anywhere else (reference definitions, pasted text). 64+ payload characters.
const BARE_DATA_URI = /data:[\w.+-]+\/[\w.+-]+(?:;[\w.+-]+=[\w.+-]+)*;base64,[A-Za-z0-9+/=\s]{64,}/gi;

/**
 * Removes images from Markdown as text, so a picture never ends up embedded as a chunk of base64:
 * a `data:` image becomes its alt text, an http(s) image keeps a short `![alt](url)` link when it
 * has alt text and a URL of at most {@link MAX_IMAGE_LINK_LENGTH} characters (otherwise only the
 * alt text stays), links to `data:` targets keep their text, and any other base64 `data:` URI is
 * dropped. Captions are ordinary text and are kept by whoever produced the Markdown.
 */
export function stripInlineImages(markdown: string): string {
  if (!/!\[|<img|data:/i.test(markdown)) return markdown;
  return markdown
    .replace(MARKDOWN_IMAGE, (_match, alt: string, target: string) => imageText(alt, target))
    .replace(HTML_IMAGE, (tag) => {
      const alt = /\balt\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))/i.exec(tag);
      const src = /\bsrc\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))/i.exec(tag);
      return imageText(alt?.[1] ?? alt?.[2] ?? alt?.[3] ?? '', src?.[1] ?? src?.[2] ?? src?.[3] ?? '');
    })
    .replace(DATA_LINK, (_match, text: string) => text)
    .replace(BARE_DATA_URI, '');
}

/** What an image leaves in the text: alt text, with a short http(s) link where one is worth keeping. */
export function imageText(alt: string, target: string): string {
  const text = alt.replace(/\s+/g, ' ').trim();
  if (text === '') return '';
  const url = target.replace(/^<|>$/g, '').trim();
  if (/^https?:\/\//i.test(url) && url.length <= MAX_IMAGE_LINK_LENGTH) return `![${text}](${url})`;
  return text;
}
