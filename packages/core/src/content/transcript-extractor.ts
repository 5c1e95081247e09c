import { CorruptContentError } from '../errors/index.js';
import type { ContentExtractor, ExtractorInput, ExtractorOutput } from './content-extractor.js';

/**
 * WebVTT transcripts (Zoom, Teams, YouTube captions). Each cue becomes one line
 * `[hh:mm:ss] Speaker: text`: the speaker from a `<v Speaker>` voice tag, or kept as written when
 * the cue text already starts with `Name:` (Zoom style). Other tags (`<b>`, `<c.x>`, inline
 * timestamps) are removed and multi-line cues are joined. One line per cue is what lets the
 * chunker split on cue boundaries.
 */
export const webVttExtractor: ContentExtractor = {
  name: 'webvtt',
  mimeTypes: ['text/vtt'],
  extensions: ['vtt'],
  binary: false,
  extract: (input) => extractTranscript(input, 'WebVTT'),
};

/** SubRip (`.srt`) transcripts, rendered like {@link webVttExtractor}. */
export const srtExtractor: ContentExtractor = {
  name: 'srt',
  mimeTypes: ['application/x-subrip', 'text/srt', 'application/srt'],
  extensions: ['srt'],
  binary: false,
  extract: (input) => extractTranscript(input, 'SRT'),
};

interface TranscriptLine {
  startMs: number;
  speaker: string | undefined;
  text: string;
}

async function extractTranscript(input: ExtractorInput, format: 'WebVTT' | 'SRT'): Promise<ExtractorOutput> {
  const source = (input.text ?? '').replace(/\r\n?/g, '\n');
  if (format === 'WebVTT' && source.trim() !== '' && !/^\uFEFF?WEBVTT(?:[ \t].*)?(?:\n|$)/.test(source)) {
    throw corrupt(input, 'a WebVTT file must start with the line "WEBVTT"');
  }
  const subtitle = await import('subtitle');
  // CJS package: named exports are on the namespace under Node, on `default` under some bundlers.
  const parseSync = (subtitle.parseSync ??
    (subtitle as unknown as { default: typeof subtitle }).default.parseSync) as typeof subtitle.parseSync;
  let nodes: ReturnType<typeof subtitle.parseSync>;
  try {
    // The parser stumbles on NOTE/STYLE/REGION blocks, which carry no spoken text: drop them first.
    nodes = parseSync(format === 'WebVTT' ? stripVttBlocks(source) : source);
  } catch (error) {
    throw corrupt(
      input,
      `it is not a valid ${format} file (${error instanceof Error ? error.message : String(error)})`,
      error,
    );
  }

  const lines: TranscriptLine[] = [];
  let endMs = 0;
  let cueCount = 0;
  for (const node of nodes) {
    if (node.type !== 'cue') continue;
    cueCount += 1;
    endMs = Math.max(endMs, node.data.end);
    lines.push(...cueLines(node.data.start, node.data.text));
  }

  const speakers = [...new Set(lines.map((line) => line.speaker).filter((speaker) => speaker !== undefined))];
  return {
    text: lines
      .map(
        (line) => `[${formatTimestamp(line.startMs)}] ${line.speaker ? `${line.speaker}: ` : ''}${line.text}`,
      )
      .join('\n'),
    structure: 'transcript',
    metadata: { format, cueCount, speakers, durationSeconds: Math.round(endMs / 1000) },
  };
}

/** One cue's text → one line per voice (a cue can hold `<v A>...</v><v B>...</v>`). */
function cueLines(startMs: number, raw: string): TranscriptLine[] {
  const voices = [...raw.matchAll(/<v(?:\.[^\s>]*)?[ \t]+([^>]+)>([\s\S]*?)(?:<\/v>|(?=<v[\s.])|$)/g)];
  const parts =
    voices.length > 0
      ? voices.map((match) => ({
          speaker: cleanText(match[1] ?? '') || undefined,
          text: cleanText(match[2] ?? ''),
        }))
      : [splitSpeakerPrefix(cleanText(raw))];
  return parts.filter((part) => part.text !== '').map((part) => ({ startMs, ...part }));
}

/** `Alice: hello` → speaker Alice (Zoom writes speakers this way); anything else has no speaker. */
function splitSpeakerPrefix(text: string): { speaker: string | undefined; text: string } {
  const match = /^([\p{L}\p{M}][\p{L}\p{M}\p{N} .'’()-]{0,60}?):\s+(.+)$/u.exec(text);
  if (match?.[1] && match[2] && !/^\d/.test(match[1]))
    return { speaker: match[1].trim(), text: match[2].trim() };
  return { speaker: undefined, text };
}

/** Removes tags and inline timestamps, decodes the entities WebVTT allows, joins lines. */
function cleanText(text: string): string {
  return text
    .replace(/<[^>]*>/g, '')
    .replace(
      /&(amp|lt|gt|nbsp|lrm|rlm|quot|apos|#\d+|#x[\da-f]+);/gi,
      (entity, name: string) => decodeEntity(name) ?? entity,
    )
    .replace(/\s+/g, ' ')
    .trim();
}

function decodeEntity(name: string): string | undefined {
  const named: Record<string, string> = {
    amp: '&',
    lt: '<',
    gt: '>',
    nbsp: ' ',
    lrm: '',
    rlm: '',
    quot: '"',
    apos: "'",
  };
  const lower = name.toLowerCase();
  if (lower in named) return named[lower];
  const code = lower.startsWith('#x')
    ? Number.parseInt(lower.slice(2), 16)
    : Number.parseInt(lower.slice(1), 10);
  return Number.isFinite(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : undefined;
}

/** Drops NOTE, STYLE and REGION blocks (and anything after the header line) before parsing. */
function stripVttBlocks(source: string): string {
  const blocks = source.split(/\n{2,}/);
  const [header = 'WEBVTT', ...rest] = blocks;
  const kept = rest.filter((block) => !/^(NOTE|STYLE|REGION)(?:[ \t\n]|$)/.test(block.trimStart()));
  return [header.split('\n')[0] ?? 'WEBVTT', ...kept].join('\n\n');
}

/** Milliseconds → `hh:mm:ss`. */
export function formatTimestamp(milliseconds: number): string {
  const totalSeconds = Math.max(0, Math.floor(milliseconds / 1000));
  const hours = Math.floor(totalSeconds / 3600);
  const minutes = Math.floor((totalSeconds % 3600) / 60);
  const seconds = totalSeconds % 60;
  return [hours, minutes, seconds].map((part) => String(part).padStart(2, '0')).join(':');
}

function corrupt(input: ExtractorInput, reason: string, cause?: unknown): CorruptContentError {
  return new CorruptContentError({
    fileName: input.fileName,
    mimeType: input.mimeType,
    reason,
    hint: 'Download the transcript again from the meeting recording, or check that the file really is a transcript',
    cause,
  });
}
