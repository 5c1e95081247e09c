import type { ContentStructure } from '../content/content-extractor.js';
import { sha256Hex } from '../content/normalize-text.js';
import { InvalidConfigError } from '../errors/index.js';
import { splitMarkdownSections } from './markdown-sections.js';
import { loadTokenizer, type Tokenizer, type TokenizerName } from './tokenizer.js';

export interface ChunkerOptions {
  /** Largest chunk, in tokens, counting the context line too. Default 512. */
  maxTokens?: number | undefined;
  /** Tokens of the previous chunk repeated at the start of the next one (same section only). Default 64. */
  overlapTokens?: number | undefined;
  /** Tokenizer to count with. Default `cl100k_base` (OpenAI's text-embedding-3 models). */
  tokenizer?: TokenizerName | undefined;
}

export interface ChunkOptions {
  /** How the text is laid out (`ExtractedContent.structure`). Default `markdown`. */
  structure?: ContentStructure | undefined;
  /** Document title, put first in every chunk's context (skipped when the first heading repeats it). */
  title?: string | undefined;
}

/** One piece of a document, sized for an embedding model. */
export interface Chunk {
  /** Position in the document, from 0. */
  index: number;
  /** Where the chunk sits: title and heading path, e.g. `Guide > Install > Linux` (may be empty). */
  context: string;
  /** The chunk's own text (never empty). */
  content: string;
  /** Tokens in `chunkEmbeddingText(chunk)`: context line plus content. Never above `maxTokens`. */
  tokenCount: number;
  /** SHA-256 hex of `context + '\n' + content`: identical chunks share it across documents and runs. */
  hash: string;
}

export interface Chunker {
  readonly maxTokens: number;
  readonly overlapTokens: number;
  readonly tokenizer: TokenizerName;
  /** Splits normalized text into chunks. Loads the tokenizer on first use. */
  chunk(text: string, options?: ChunkOptions): Promise<Chunk[]>;
}

/** The text to embed for a chunk: the context line, a newline, then the content. */
export function chunkEmbeddingText(chunk: Pick<Chunk, 'context' | 'content'>): string {
  return chunk.context === '' ? chunk.content : `${chunk.context}\n${chunk.content}`;
}

/** A run of text with the whitespace that separated it from the run before. */
interface Piece {
  text: string;
  separator: string;
  tokens: number;
  /** Starts self-contained (a table group with its own header row): no overlap in front of it. */
  standalone?: boolean;
}

const SENTENCES = new Intl.Segmenter(undefined, { granularity: 'sentence' });
/** Smallest budget a chunk body may get, whatever the context length. */
const MIN_BODY_TOKENS = 8;

/**
 * Creates a token-aware chunker. For Markdown it splits by headings first (every chunk carries
 * its heading path as `context`), then by paragraphs (blank lines; fenced code blocks and tables
 * stay whole when they fit, tables repeat their header row when they do not), then sentences,
 * then words, then, for a run without spaces, by token count. Transcripts split only between
 * cue lines. Consecutive chunks of one section overlap by up to `overlapTokens` tokens of whole
 * sentences, words or cue lines. Every chunk's context line plus content fits in `maxTokens`
 * as counted by the real tokenizer, and no chunk is empty. Output is deterministic: the same
 * text and options give the same chunks and hashes on every run.
 *
 * @example
 * const chunker = createChunker({ maxTokens: 512, overlapTokens: 64 });
 * const chunks = await chunker.chunk(extracted.text, { structure: extracted.structure, title });
 */
export function createChunker(options: ChunkerOptions = {}): Chunker {
  const maxTokens = options.maxTokens ?? 512;
  const overlapTokens = options.overlapTokens ?? 64;
  const tokenizerName = options.tokenizer ?? 'cl100k_base';
  const issues: Array<{ fieldPath: string; message: string }> = [];
  if (!Number.isInteger(maxTokens) || maxTokens < 32) {
    issues.push({ fieldPath: 'maxTokens', message: 'must be an integer of at least 32' });
  }
  if (!Number.isInteger(overlapTokens) || overlapTokens < 0 || overlapTokens > maxTokens / 2) {
    issues.push({ fieldPath: 'overlapTokens', message: 'must be an integer from 0 to half of maxTokens' });
  }
  if (tokenizerName !== 'cl100k_base' && tokenizerName !== 'o200k_base') {
    issues.push({ fieldPath: 'tokenizer', message: 'must be "cl100k_base" or "o200k_base"' });
  }
  if (issues.length > 0) throw new InvalidConfigError({ subject: 'chunker options', issues });

  return {
    maxTokens,
    overlapTokens,
    tokenizer: tokenizerName,
    async chunk(text, chunkOptions = {}) {
      const tokenizer = await loadTokenizer(tokenizerName);
      return new ChunkBuilder(tokenizer, maxTokens, overlapTokens).build(text, chunkOptions);
    },
  };
}

class ChunkBuilder {
  private readonly chunks: Chunk[] = [];
  private readonly separatorTokens = new Map<string, number>();

  constructor(
    private readonly tokenizer: Tokenizer,
    private readonly maxTokens: number,
    private readonly overlapTokens: number,
  ) {}

  build(rawText: string, options: ChunkOptions): Chunk[] {
    const text = rawText.replace(/\r\n?/g, '\n');
    if (text.trim() === '') return [];
    const structure = options.structure ?? 'markdown';
    const title = options.title?.replace(/\s+/g, ' ').trim() ?? '';

    if (structure === 'markdown') {
      for (const section of splitMarkdownSections(text)) {
        this.addSection(this.contextFor(title, section.headings), section.body, 'blocks');
      }
      // Only headings and no body anywhere: keep the words rather than return nothing.
      if (this.chunks.length === 0) this.addSection(this.contextFor(title, []), text, 'blocks');
    } else {
      this.addSection(this.contextFor(title, []), text, structure === 'transcript' ? 'cues' : 'blocks');
    }
    return this.chunks;
  }

  /** Title and heading path joined with ` > `, shortened from the left to at most a quarter of maxTokens. */
  private contextFor(title: string, headings: readonly string[]): string {
    const path = [...headings];
    if (title !== '' && path[0]?.toLowerCase() !== title.toLowerCase()) path.unshift(title);
    const limit = Math.floor(this.maxTokens / 4);
    let context = path.join(' > ');
    while (path.length > 1 && this.count(context) > limit) {
      path.shift();
      context = `… > ${path.join(' > ')}`;
    }
    if (this.count(context) > limit) context = `${this.splitByTokens(context, limit - 1)[0] ?? ''}…`;
    return context;
  }

  private addSection(context: string, body: string, mode: 'blocks' | 'cues'): void {
    if (body.trim() === '') return;
    const contextTokens = context === '' ? 0 : this.count(`${context}\n`);
    const budget = Math.max(MIN_BODY_TOKENS, this.maxTokens - contextTokens);
    const pieces = mode === 'cues' ? this.cuePieces(body, budget) : this.blockPieces(body, budget);
    this.pack(context, pieces, budget, mode === 'cues' ? 'pieces' : 'words');
  }

  /** Paragraph-level pieces (blank-line separated; fenced code kept together), each within budget. */
  private blockPieces(body: string, budget: number): Piece[] {
    const pieces: Piece[] = [];
    for (const block of splitBlocks(body)) {
      const separator = pieces.length === 0 ? '' : '\n\n';
      const tokens = this.count(block);
      if (tokens <= budget) {
        // A whole table starts with its own header row: nothing to gain from overlap in front of it.
        pieces.push({ text: block, separator, tokens, ...(isTable(block) ? { standalone: true } : {}) });
      } else if (isTable(block)) {
        pieces.push(...withSeparator(this.tablePieces(block, budget), separator));
      } else if (isLineOriented(block)) {
        pieces.push(...withSeparator(this.fit(splitLines(block), budget, ['word']), separator));
      } else {
        pieces.push(...withSeparator(this.fit(splitSentences(block), budget, ['line', 'word']), separator));
      }
    }
    return pieces;
  }

  /** One piece per transcript line (cue); an over-long cue is split by sentences, then words. */
  private cuePieces(body: string, budget: number): Piece[] {
    const lines = body
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '')
      .map((line, index) => ({ text: line, separator: index === 0 ? '' : '\n' }));
    return this.fit(lines, budget, ['sentence', 'word']);
  }

  /** A table too big for one chunk: groups of rows, each group led by the header and its rule. */
  private tablePieces(block: string, budget: number): Piece[] {
    const [header = '', rule = '', ...rows] = block.split('\n');
    const head = `${header}\n${rule}`;
    const headTokens = this.count(`${head}\n`);
    if (headTokens > budget / 2) return this.fit(splitLines(block), budget, ['word']);
    const rowBudget = budget - headTokens;
    const groups: Piece[] = [];
    let current: string[] = [];
    let currentTokens = 0;
    const flush = () => {
      if (current.length === 0) return;
      const text = `${head}\n${current.join('\n')}`;
      groups.push({
        text,
        separator: groups.length === 0 ? '' : '\n\n',
        tokens: this.count(text),
        standalone: true,
      });
      current = [];
      currentTokens = 0;
    };
    for (const row of rows) {
      const rowTokens = this.count(row) + 1;
      if (rowTokens > rowBudget) {
        flush();
        for (const part of this.fit([{ text: row, separator: '' }], rowBudget, ['word'])) {
          groups.push({
            text: `${head}\n${part.text}`,
            separator: '\n\n',
            tokens: this.count(`${head}\n${part.text}`),
            standalone: true,
          });
        }
        continue;
      }
      if (currentTokens + rowTokens > rowBudget) flush();
      current.push(row);
      currentTokens += rowTokens;
    }
    flush();
    // A group's exact count can exceed its estimate by a token or two: split those again by lines.
    return groups.flatMap((group) =>
      group.tokens <= budget
        ? [group]
        : withSeparator(this.fit(splitLines(group.text), budget, ['word']), group.separator),
    );
  }

  /**
   * Counts each run; runs over budget are split at the next finer level in `levels`
   * (`sentence`, `line`, `word`), and finally by token count.
   */
  private fit(
    runs: ReadonlyArray<{ text: string; separator: string }>,
    budget: number,
    levels: readonly Level[],
  ): Piece[] {
    const pieces: Piece[] = [];
    for (const run of runs) {
      const tokens = this.count(run.text);
      if (tokens <= budget) {
        pieces.push({ ...run, tokens });
        continue;
      }
      const [level, ...finer] = levels;
      const parts = level ? splitAt(run.text, level) : [];
      const split =
        parts.length > 1
          ? this.fit(parts, budget, finer)
          : level
            ? this.fit([{ text: run.text, separator: '' }], budget, finer)
            : this.splitByTokens(run.text, budget).map((text) => ({
                text,
                separator: '',
                tokens: this.count(text),
              }));
      pieces.push(...withSeparator(split, run.separator));
    }
    return pieces;
  }

  /** Greedy packing of pieces into chunks within budget, with overlap between consecutive chunks. */
  private pack(
    context: string,
    pieces: readonly Piece[],
    budget: number,
    overlapUnit: 'pieces' | 'words',
  ): void {
    const queue = [...pieces].reverse(); // a stack: pop() takes the next piece
    let current: Piece[] = [];
    let currentTokens = 0;
    let hasNewPiece = false;

    const emit = (): Piece[] => {
      // The estimate (sum of parts) is nearly always an overcount; confirm with the exact count.
      for (;;) {
        const content = joinPieces(current).trim();
        if (content === '') return [];
        const chunk = { context, content };
        const tokenCount = this.count(chunkEmbeddingText(chunk));
        if (tokenCount <= this.maxTokens) {
          this.chunks.push({
            index: this.chunks.length,
            ...chunk,
            tokenCount,
            hash: sha256Hex(`${context}\n${content}`),
          });
          return current;
        }
        const last = current.pop();
        if (!last) return [];
        if (current.length === 0 || (current.length === 1 && current[0]?.separator === OVERLAP)) {
          // One piece that only just fails once joined with the context: split it tighter.
          current = [];
          const tighter = this.fit(
            [{ text: last.text, separator: '' }],
            Math.max(1, budget - (tokenCount - this.maxTokens) - 2),
            ['sentence', 'word'],
          );
          queue.push(...withSeparator(tighter, last.separator).reverse());
          return [];
        }
        queue.push(last);
      }
    };

    while (queue.length > 0) {
      const piece = queue.pop() as Piece;
      const separatorTokens = current.length === 0 ? 0 : this.separatorCount(piece.separator);
      if (current.length > 0 && hasNewPiece && currentTokens + separatorTokens + piece.tokens > budget) {
        queue.push(piece); // back first: pieces emit() hands back must come before it
        const emitted = emit();
        const next = queue[queue.length - 1] as Piece;
        const overlap = next.standalone
          ? undefined
          : this.overlapFrom(emitted, Math.min(this.overlapTokens, budget - next.tokens - 2), overlapUnit);
        current = overlap ? [overlap] : [];
        currentTokens = overlap?.tokens ?? 0;
        hasNewPiece = false;
        continue;
      }
      current.push(current.length === 0 ? { ...piece, separator: '' } : piece);
      currentTokens += (current.length === 1 ? 0 : separatorTokens) + piece.tokens;
      hasNewPiece = true;
    }
    if (hasNewPiece) emit();
  }

  /**
   * The tail of the previous chunk within `limit` tokens: whole pieces (sentences, lines, cues),
   * else (unit `words`) the last words of its last line.
   */
  private overlapFrom(
    previous: readonly Piece[],
    limit: number,
    unit: 'pieces' | 'words',
  ): Piece | undefined {
    if (limit <= 0 || previous.length === 0) return undefined;
    const tail: Piece[] = [];
    let tokens = 0;
    for (let index = previous.length - 1; index >= 0; index -= 1) {
      const piece = previous[index] as Piece;
      const cost = piece.tokens + (tail.length > 0 ? this.separatorCount(tail[0]?.separator ?? '') : 0);
      if (tokens + cost > limit) break;
      tail.unshift(piece);
      tokens += cost;
    }
    let text: string;
    if (tail.length > 0) {
      text = joinPieces([{ ...(tail[0] as Piece), separator: '' }, ...tail.slice(1)]);
    } else if (unit === 'pieces') {
      return undefined; // transcripts overlap by whole cues only
    } else {
      // The last piece alone is longer than the overlap: repeat the last words of its last line.
      const lastLine = (previous[previous.length - 1] as Piece).text.split('\n').pop() ?? '';
      const words = lastLine.split(/(\s+)/);
      let start = words.length;
      while (
        start > 0 &&
        this.count(
          words
            .slice(start - 1)
            .join('')
            .trim(),
        ) <= limit
      )
        start -= 1;
      text = words.slice(start).join('');
    }
    text = text.trim();
    if (text === '') return undefined;
    const exact = this.count(text);
    return exact <= limit ? { text, separator: OVERLAP, tokens: exact } : undefined;
  }

  /** Splits a run without usable separators into parts of at most `budget` tokens (code-point safe). */
  private splitByTokens(text: string, budget: number): string[] {
    const parts: string[] = [];
    let rest = text;
    while (rest !== '') {
      if (this.count(rest) <= budget) {
        parts.push(rest);
        break;
      }
      // Largest prefix within budget, by binary search over its length in UTF-16 units.
      let low = 1;
      let high = Math.min(rest.length, budget * 32);
      while (low < high) {
        const middle = Math.ceil((low + high) / 2);
        if (this.count(rest.slice(0, middle)) <= budget) low = middle;
        else high = middle - 1;
      }
      let cut = low;
      const code = rest.charCodeAt(cut - 1);
      if (code >= 0xd800 && code <= 0xdbff) cut = cut > 1 ? cut - 1 : cut + 1; // never split a surrogate pair
      parts.push(rest.slice(0, cut));
      rest = rest.slice(cut);
    }
    return parts.filter((part) => part.trim() !== '');
  }

  private separatorCount(separator: string): number {
    if (separator === '' || separator === OVERLAP) return separator === OVERLAP ? 1 : 0;
    let tokens = this.separatorTokens.get(separator);
    if (tokens === undefined) {
      tokens = this.count(separator);
      this.separatorTokens.set(separator, tokens);
    }
    return tokens;
  }

  private count(text: string): number {
    return this.tokenizer.count(text);
  }
}

type Level = 'sentence' | 'line' | 'word';

/** Marks the overlap piece at the head of a chunk; joined to what follows with a space or newline. */
const OVERLAP = '\u0000overlap';

/** Joins pieces with their separators (the leading overlap piece has none of its own). */
function joinPieces(pieces: readonly Piece[]): string {
  let text = '';
  for (const [index, piece] of pieces.entries()) {
    text += index === 0 || piece.separator === OVERLAP ? piece.text : piece.separator + piece.text;
  }
  return text;
}

function withSeparator(pieces: Piece[], separator: string): Piece[] {
  if (pieces[0]) pieces[0] = { ...pieces[0], separator };
  return pieces;
}

/** Blank-line separated blocks; a fenced code block is one block even with blank lines inside. */
function splitBlocks(body: string): string[] {
  const blocks: string[] = [];
  let current: string[] = [];
  let fence: string | undefined;
  const flush = () => {
    const block = current.join('\n').replace(/^\s*\n|\s+$/g, '');
    if (block.trim() !== '') blocks.push(block);
    current = [];
  };
  for (const line of body.split('\n')) {
    const fenceMatch = /^ {0,3}(`{3,}|~{3,})/.exec(line);
    if (fence !== undefined) {
      current.push(line);
      if (
        fenceMatch?.[1] &&
        fenceMatch[1][0] === fence[0] &&
        fenceMatch[1].length >= fence.length &&
        line.trim() === fenceMatch[1]
      ) {
        fence = undefined;
        flush();
      }
      continue;
    }
    if (fenceMatch?.[1]) {
      flush();
      fence = fenceMatch[1];
      current.push(line);
      continue;
    }
    if (line.trim() === '') {
      flush();
      continue;
    }
    current.push(line);
  }
  flush();
  return blocks;
}

function isTable(block: string): boolean {
  const lines = block.split('\n');
  return (
    lines.length >= 3 &&
    lines.every((line) => line.trimStart().startsWith('|')) &&
    /^\s*\|[\s|:-]+\|\s*$/.test(lines[1] ?? '')
  );
}

/** Code, lists, quotes and tables read line by line; prose reads sentence by sentence. */
function isLineOriented(block: string): boolean {
  if (/^ {0,3}(`{3,}|~{3,})/.test(block)) return true;
  const lines = block.split('\n');
  return (
    lines.length > 1 && lines.every((line) => /^\s*(?:[-*+]\s|\d+[.)]\s|\||>|\[\d)|^(?: {4}|\t)/.test(line))
  );
}

function splitLines(text: string): Array<{ text: string; separator: string }> {
  return text
    .split('\n')
    .map((line, index) => ({ text: line, separator: index === 0 ? '' : '\n' }))
    .filter((line) => line.text.trim() !== '');
}

function splitSentences(text: string): Array<{ text: string; separator: string }> {
  const runs: Array<{ text: string; separator: string }> = [];
  let separator = '';
  for (const { segment } of SENTENCES.segment(text)) {
    const trimmed = segment.trim();
    if (trimmed !== '') runs.push({ text: trimmed, separator: runs.length === 0 ? '' : separator });
    const trailing = /\s*$/.exec(segment)?.[0] ?? '';
    separator = trailing.includes('\n') ? '\n' : ' ';
  }
  return runs;
}

function splitWords(text: string): Array<{ text: string; separator: string }> {
  const runs: Array<{ text: string; separator: string }> = [];
  for (const match of text.matchAll(/(\s*)(\S+)/g)) {
    const separator = match[1] ?? '';
    runs.push({
      text: match[2] ?? '',
      separator: runs.length === 0 ? '' : separator.includes('\n') ? '\n' : ' ',
    });
  }
  return runs;
}

function splitAt(text: string, level: Level): Array<{ text: string; separator: string }> {
  if (level === 'sentence') return splitSentences(text);
  if (level === 'line') return splitLines(text);
  return splitWords(text);
}
