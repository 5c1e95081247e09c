import type { NotionRichText } from '../notion-api-types.js';

/** `https://www.notion.so/<32 hex>`: the stable link Notion itself uses for a page or database. */
export function notionUrl(id: string, blockId?: string): string {
  const base = `https://www.notion.so/${id.replace(/-/g, '')}`;
  return blockId ? `${base}#${blockId.replace(/-/g, '')}` : base;
}

/** Wraps `text` in `marker`, keeping surrounding spaces outside (`** bold**` is not bold in Markdown). */
function wrap(text: string, marker: string): string {
  const match = /^(\s*)([\s\S]*?)(\s*)$/.exec(text);
  if (!match || match[2] === '') return text;
  return `${match[1]}${marker}${match[2]}${marker}${match[3]}`;
}

function inlineCode(text: string): string {
  const fence = text.includes('`') ? '``' : '`';
  const padded = text.startsWith('`') || text.endsWith('`') ? ` ${text} ` : text;
  return `${fence}${padded}${fence}`;
}

function link(text: string, url: string): string {
  return `[${text.replace(/\]/g, '\\]')}](${url.replace(/\)/g, '%29').replace(/ /g, '%20')})`;
}

/** One rich text item as Markdown: annotations, links, mentions, inline equations. */
function renderItem(item: NotionRichText): string {
  if (item.type === 'equation') return `$${item.equation?.expression ?? item.plain_text}$`;
  if (item.type === 'mention' && item.mention) {
    const mention = item.mention;
    switch (mention.type) {
      case 'user':
        // plain_text is "@Name" (or "@Anonymous" for a user the integration cannot see).
        return item.plain_text.startsWith('@') ? item.plain_text : `@${item.plain_text}`;
      case 'page':
        return link(item.plain_text || 'Untitled', notionUrl(mention.page?.id ?? ''));
      case 'database':
        return link(item.plain_text || 'Untitled', notionUrl(mention.database?.id ?? ''));
      case 'data_source':
        return link(item.plain_text || 'Untitled', notionUrl(mention.data_source?.id ?? ''));
      case 'date': {
        const date = mention.date;
        if (!date) return item.plain_text;
        return date.end ? `${date.start} → ${date.end}` : date.start;
      }
      case 'link_preview':
        return link(item.plain_text || mention.link_preview?.url || '', mention.link_preview?.url ?? '');
      case 'link_mention':
        return link(
          mention.link_mention?.title || item.plain_text,
          mention.link_mention?.href ?? item.href ?? '',
        );
      default:
        return item.href ? link(item.plain_text, item.href) : item.plain_text;
    }
  }
  let text = item.plain_text;
  if (text === '') return '';
  const annotations = item.annotations ?? {};
  if (annotations.code) text = inlineCode(text);
  if (annotations.bold) text = wrap(text, '**');
  if (annotations.italic) text = wrap(text, '_');
  if (annotations.strikethrough) text = wrap(text, '~~');
  const href = item.text?.link?.url ?? item.href ?? undefined;
  if (href) text = link(text, href);
  return text;
}

/** A rich text array as inline Markdown. */
export function renderRichText(richText: readonly NotionRichText[] | undefined): string {
  return (richText ?? []).map(renderItem).join('');
}
