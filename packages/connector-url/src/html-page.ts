import { Readability } from '@mozilla/readability';
import { parseHTML } from 'linkedom';
import TurndownService from 'turndown';
import { canonicalizeUrl } from './canonical-url.js';

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
  /** Markdown of the main content. */
  markdown: string;
}

/** Links kept per page (a page with more is a link farm, not content). */
export const MAX_LINKS_PER_PAGE = 1000;

/**
 * Reads an HTML page: metadata and links from the whole document, then the main content
 * (Mozilla Readability: navigation, footers and ads left out) converted to Markdown (Turndown).
 * When Readability finds no article, the whole body is converted.
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

  // Readability changes the document it reads, so it runs after everything above.
  let contentHtml: string | undefined;
  let articleTitle: string | undefined;
  try {
    const article = new Readability(document as unknown as ConstructorParameters<typeof Readability>[0], {
      charThreshold: 100,
    }).parse();
    if (article?.content && article.textContent?.trim()) {
      contentHtml = article.content;
      articleTitle = article.title?.trim() || undefined;
    }
  } catch {
    contentHtml = undefined;
  }
  if (contentHtml === undefined) {
    const { document: fallback } = parseHTML(html);
    for (const element of fallback.querySelectorAll(
      'script, style, noscript, template, nav, header, footer',
    )) {
      element.remove();
    }
    contentHtml = fallback.body?.innerHTML ?? '';
  }

  return {
    title: title ?? articleTitle ?? '',
    description,
    language,
    canonicalUrl,
    links,
    noFollow: /\bnofollow\b|\bnone\b/.test(robots),
    noIndex: /\bnoindex\b|\bnone\b/.test(robots),
    markdown: toMarkdown(contentHtml ?? ''),
  };
}

let turndown: TurndownService | undefined;

function toMarkdown(html: string): string {
  turndown ??= createTurndown();
  return turndown
    .turndown(html)
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

function createTurndown(): TurndownService {
  const service = new TurndownService({
    headingStyle: 'atx',
    codeBlockStyle: 'fenced',
    bulletListMarker: '-',
    emDelimiter: '_',
  });
  service.remove(['script', 'style', 'noscript', 'iframe', 'form', 'button']);
  return service;
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
