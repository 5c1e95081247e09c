import { Readability } from '@mozilla/readability';
import { parseHTML } from 'linkedom';
import { canonicalizeUrl } from './canonical-url.js';
import { elementToMarkdown } from './html-to-markdown.js';

/** What the connector keeps from an HTML page. */
export interface HtmlPage {
  title: string;
  description: string | undefined;
  language: string | undefined;
  /** `rel=canonical` (absolute, normalised), when the page declares one. */
  canonicalUrl: string | undefined;
  /** Normalised absolute http(s) links, in document order, without duplicates. */
  links: string[];
  /** `<meta name="robots">` says `nofollow`. */
  noFollow: boolean;
  /** `<meta name="robots">` says `noindex`. */
  noIndex: boolean;
  /** Markdown of the main content: GFM tables, fenced code, images as alt text (never `data:`). */
  markdown: string;
  /** Where the content came from: Readability's article, the page's `<main>`/`<article>`, or the body. */
  contentSource: 'readability' | 'landmark' | 'body';
}

/** Links kept per page (a page with more is a link farm, not content). */
export const MAX_LINKS_PER_PAGE = 1000;

/**
 * Reads an HTML page: metadata and links from the whole document, then the main content
 * (see `readMainContent`) converted to Markdown (Turndown with GFM tables and fenced code).
 */
export function readHtmlPage(html: string, pageUrl: string): HtmlPage {
  const { document } = parseHTML(html);
  const baseHref = document.querySelector('base[href]')?.getAttribute('href');
  const base = (baseHref && canonicalizeUrl(baseHref, pageUrl)) || pageUrl;

  const meta = (selector: string) =>
    document.querySelector(selector)?.getAttribute('content')?.trim() || undefined;
  const title =
    meta('meta[property="og:title"]') ?? (document.querySelector('title')?.textContent?.trim() || undefined);
  const description = meta('meta[name="description"]') ?? meta('meta[property="og:description"]');
  const language =
    document.documentElement?.getAttribute('lang')?.trim() ||
    meta('meta[http-equiv="content-language"]') ||
    undefined;
  const canonicalHref = document.querySelector('link[rel~="canonical"][href]')?.getAttribute('href');
  const canonicalUrl = canonicalHref ? canonicalizeUrl(canonicalHref, base) : undefined;
  const robots = (meta('meta[name="robots"]') ?? '').toLowerCase();

  const links: string[] = [];
  const seen = new Set<string>();
  for (const anchor of document.querySelectorAll('a[href]')) {
    if (links.length >= MAX_LINKS_PER_PAGE) break;
    const rel = (anchor.getAttribute('rel') ?? '').toLowerCase();
    if (rel.split(/\s+/).includes('nofollow')) continue;
    const link = canonicalizeUrl(anchor.getAttribute('href') ?? '', base);
    if (link && !seen.has(link)) {
      seen.add(link);
      links.push(link);
    }
  }

  const main = readMainContent(html);
  return {
    title: title ?? main.articleTitle ?? '',
    description,
    language,
    canonicalUrl,
    links,
    noFollow: /\bnofollow\b|\bnone\b/.test(robots),
    noIndex: /\bnoindex\b|\bnone\b/.test(robots),
    markdown: main.markdown,
    contentSource: main.source,
  };
}

/** Readability's own default `charThreshold`: an "article" shorter than this is not trusted. */
const READABILITY_MIN_CHARACTERS = 500;

/** Class or id words of boxes that sit beside articles: never content, often long enough to win. */
const BOILERPLATE =
  /(?:^|[\s_-])(?:newsletter|subscribe|subscription|signup|sign-up|cookie|cookies|consent|gdpr|breadcrumbs?|share|sharing|social|print-footer|promo|paywall|related-posts|newsletter-box)(?:$|[\s_-])/i;

/** Site chrome that is never the main content when Readability finds none. */
const CHROME =
  'script, style, noscript, template, nav, header, footer, aside, form, dialog, [role="navigation"], [role="banner"], [role="contentinfo"], [role="complementary"], [aria-hidden="true"], [hidden]';

/**
 * The page's main content as Markdown. Mozilla Readability with its default settings (a 500
 * character threshold: a lower one lets a newsletter box or a breadcrumb win over the article)
 * picks the article, after boxes named like newsletters, cookie banners, breadcrumbs or share bars
 * are removed; when it finds none (under 500 characters), or its pick is a sliver of what the page's `<main>` /
 * `<article>` holds, that element is used, and failing that the body without its navigation,
 * header, footer, sidebars and forms.
 */
function readMainContent(html: string): {
  markdown: string;
  articleTitle: string | undefined;
  source: HtmlPage['contentSource'];
} {
  let readable: { markdown: string; title: string | undefined } | undefined;
  try {
    // Readability changes the document it reads: give it its own parse.
    const { document } = parseHTML(html);
    for (const element of document.querySelectorAll('[class], [id]')) {
      const names = `${element.getAttribute('class') ?? ''} ${element.getAttribute('id') ?? ''}`;
      // A wrapper that happens to carry such a class (a long `share-container`) is kept.
      const small = (element.textContent ?? '').length < 2000;
      if (small && BOILERPLATE.test(names) && !/^(?:BODY|HTML|MAIN|ARTICLE)$/.test(element.nodeName)) {
        element.remove();
      }
    }
    // keepClasses: the `language-*` class of a code block names its language.
    const article = new Readability(document as unknown as ConstructorParameters<typeof Readability>[0], {
      keepClasses: true,
    }).parse();
    if (article?.content && (article.textContent?.trim().length ?? 0) >= READABILITY_MIN_CHARACTERS) {
      const { document: articleDocument } = parseHTML(
        `<!doctype html><html><body>${article.content}</body></html>`,
      );
      readable = {
        markdown: elementToMarkdown(articleDocument.body),
        title: article.title?.trim() || undefined,
      };
    }
  } catch {
    readable = undefined; // A page Readability chokes on still has a body to fall back to.
  }

  const { document: fallback } = parseHTML(html);
  for (const element of fallback.querySelectorAll(CHROME)) element.remove();
  const landmark =
    fallback.querySelector('main, [role="main"]') ??
    (fallback.querySelectorAll('article').length === 1 ? fallback.querySelector('article') : null);
  const landmarkText = wordCount(landmark?.textContent ?? '');
  if (readable && wordCount(readable.markdown) * 2 >= landmarkText) {
    return { markdown: readable.markdown, articleTitle: readable.title, source: 'readability' };
  }
  if (landmark && landmarkText > 0) {
    return { markdown: elementToMarkdown(landmark), articleTitle: readable?.title, source: 'landmark' };
  }
  return { markdown: elementToMarkdown(fallback.body), articleTitle: readable?.title, source: 'body' };
}

function wordCount(text: string): number {
  return text.split(/\s+/).filter((word) => /[\p{L}\p{N}]/u.test(word)).length;
}

/** Decodes an HTML body: charset from the header, else from a `<meta>` in the first bytes, else UTF-8. */
export function decodeHtml(bytes: Uint8Array, contentType: string | null): string {
  const fromHeader = /charset\s*=\s*"?([\w.:-]+)/i.exec(contentType ?? '')?.[1];
  const head = new TextDecoder('latin1').decode(bytes.subarray(0, 2048));
  const fromMeta = /<meta[^>]+charset\s*=\s*["']?([\w.:-]+)/i.exec(head)?.[1];
  for (const label of [fromHeader, fromMeta, 'utf-8'] as (string | undefined)[]) {
    if (!label) continue;
    try {
      return new TextDecoder(label).decode(bytes);
    } catch {
      // Unknown label: try the next one.
    }
  }
  return new TextDecoder().decode(bytes);
}
