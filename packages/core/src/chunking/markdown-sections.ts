/** A run of Markdown text under one heading path. */
export interface MarkdownSection {
  /** Heading texts from the outermost to the innermost, e.g. `['Guide', 'Install', 'Linux']`. */
  headings: string[];
  /** The text under the innermost heading, up to the next heading (heading lines excluded). */
  body: string;
}

const ATX_HEADING = /^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/;
const FENCE = /^ {0,3}(`{3,}|~{3,})/;

/**
 * Splits Markdown into sections at ATX headings (`#` to `######`), tracking the heading path.
 * Lines inside fenced code blocks are never headings (a `# comment` in a shell snippet stays
 * code). Setext headings (underlined with `===`) are not recognised: extractors in this package
 * emit ATX headings.
 */
export function splitMarkdownSections(text: string): MarkdownSection[] {
  const sections: MarkdownSection[] = [];
  const stack: Array<{ level: number; text: string }> = [];
  let body: string[] = [];
  let fence: string | undefined;

  const close = () => {
    sections.push({
      headings: stack.map((entry) => entry.text).filter((heading) => heading !== ''),
      body: body.join('\n'),
    });
    body = [];
  };

  for (const line of text.split('\n')) {
    const fenceMatch = FENCE.exec(line);
    if (fence !== undefined) {
      if (
        fenceMatch?.[1] &&
        fenceMatch[1][0] === fence[0] &&
        fenceMatch[1].length >= fence.length &&
        line.trim() === fenceMatch[1]
      ) {
        fence = undefined;
      }
      body.push(line);
      continue;
    }
    if (fenceMatch?.[1]) {
      fence = fenceMatch[1];
      body.push(line);
      continue;
    }
    const heading = ATX_HEADING.exec(line);
    if (heading?.[1]) {
      close();
      const level = heading[1].length;
      while (stack.length > 0 && (stack[stack.length - 1]?.level ?? 0) >= level) stack.pop();
      stack.push({ level, text: cleanHeading(heading[2] ?? '') });
      continue;
    }
    body.push(line);
  }
  close();
  return sections.filter((section) => section.body.trim() !== '');
}

/** `**Install** on [Linux](https://...)` → `Install on Linux`. */
function cleanHeading(text: string): string {
  return text
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/(\*\*|__|`)/g, '')
    .replace(/\s+/g, ' ')
    .trim();
}
