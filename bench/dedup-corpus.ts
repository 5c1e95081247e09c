// The labelled set of bench/dedup.ts: deterministic pairs of documents, each pair labelled a true
// near duplicate (of a kind) or a hard negative (of a kind). Every pair has its own base content, so
// the only related documents are the two of a pair (and, for hard negatives, the shared template).

export type PairKind =
  | 'exact-copy'
  | 'pdf-export'
  | 'light-edit'
  | 'markdown-vs-plain'
  | 'transcript-zoom-teams'
  | 'recurring-meeting'
  | 'policy-major-revision'
  | 'same-template-report';

export const POSITIVE_KINDS: readonly PairKind[] = [
  'exact-copy',
  'pdf-export',
  'light-edit',
  'markdown-vs-plain',
  'transcript-zoom-teams',
];

export interface BenchDocument {
  id: string;
  title: string;
  /** What the connector hands over (VTT for transcripts, the rest as text). */
  raw: string;
  mimeType: 'text/plain' | 'text/markdown' | 'text/vtt';
}

export interface LabelledPair {
  kind: PairKind;
  duplicate: boolean;
  a: BenchDocument;
  b: BenchDocument;
}

/** Mulberry32: a small seeded PRNG, so the set is the same on every run. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SYLLABLES = 'ka lo mi ra te su no ve pa di go ru shi an el or un ba ce fo ti ne la mo'.split(' ');
const COMMON =
  'the a of to and in is for on that with as we will be this by from at our it are was should have next team'.split(
    ' ',
  );
const PEOPLE = ['Mira Chen', 'Jonas Berg', 'Priya Nair', 'Tomas Ruiz', 'Ana Silva', 'Lee Park'];

function makeVocabulary(random: () => number, size: number): string[] {
  const words = new Set<string>();
  while (words.size < size) {
    const n = 2 + Math.floor(random() * 3);
    let word = '';
    for (let i = 0; i < n; i += 1) word += SYLLABLES[Math.floor(random() * SYLLABLES.length)];
    words.add(word);
  }
  return [...words];
}

class Writer {
  readonly random: () => number;
  readonly vocabulary: string[];
  constructor(seed: number) {
    this.random = prng(seed);
    this.vocabulary = makeVocabulary(prng(7), 3000);
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)] as T;
  }
  word(): string {
    // Zipf-like: common words often, content words from a large vocabulary.
    return this.random() < 0.35 ? this.pick(COMMON) : this.pick(this.vocabulary);
  }
  sentence(min = 8, max = 20): string {
    const n = min + Math.floor(this.random() * (max - min));
    const words = Array.from({ length: n }, () => this.word());
    const text = words.join(' ');
    return `${text.charAt(0).toUpperCase()}${text.slice(1)}.`;
  }
  paragraph(sentences: number): string {
    return Array.from({ length: sentences }, () => this.sentence()).join(' ');
  }
}

/** A document of sections: heading + paragraphs. */
function article(w: Writer, sections: number): { heading: string; body: string }[] {
  return Array.from({ length: sections }, () => ({
    heading: w.sentence(2, 5).replace(/\.$/, ''),
    body: w.paragraph(3 + Math.floor(w.random() * 3)),
  }));
}

function markdown(title: string, sections: { heading: string; body: string }[]): string {
  return [`# ${title}`, ...sections.flatMap((s) => [`## ${s.heading}`, s.body])].join('\n\n');
}

/** As a PDF export reads back: wrapped lines, hyphenated breaks, page headers and footers. */
function pdfExport(w: Writer, title: string, sections: { heading: string; body: string }[]): string {
  const lines: string[] = [];
  for (const s of sections) {
    lines.push(s.heading.toUpperCase(), '');
    let line = '';
    for (const word of s.body.split(' ')) {
      if (line.length + word.length > 78) {
        if (word.length > 7 && w.random() < 0.15) {
          const cut = Math.floor(word.length / 2);
          lines.push(`${line} ${word.slice(0, cut)}-`);
          line = word.slice(cut);
        } else {
          lines.push(line);
          line = word;
        }
      } else line = line ? `${line} ${word}` : word;
    }
    lines.push(line, '');
  }
  const pages: string[] = [];
  for (let start = 0, page = 1; start < lines.length; start += 45, page += 1) {
    pages.push([`${title}`, ...lines.slice(start, start + 45), `Page ${page}`].join('\n'));
  }
  return pages.join('\n\f\n');
}

function plainText(title: string, sections: { heading: string; body: string }[]): string {
  return [title, ...sections.flatMap((s) => [`${s.heading}:`, s.body])].join('\n');
}

/** Replaces, inserts or deletes about `rate` of the words. */
function lightlyEdit(w: Writer, text: string, rate: number): string {
  const out: string[] = [];
  for (const word of text.split(' ')) {
    const r = w.random();
    if (r < rate / 3) out.push(w.word());
    else if (r < (2 * rate) / 3) out.push(word, w.word());
    else if (r < rate) continue;
    else out.push(word);
  }
  return out.join(' ');
}

interface Utterance {
  speaker: string;
  text: string;
}

function timestamp(ms: number): string {
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor(ms / 60_000) % 60;
  const s = Math.floor(ms / 1000) % 60;
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  return `${pad(h)}:${pad(m)}:${pad(s)}.${pad(ms % 1000, 3)}`;
}

/** Zoom: numbered cues, one per utterance, "Name: text". */
function zoomVtt(utterances: Utterance[]): string {
  let at = 1000;
  const cues = utterances.map((u, i) => {
    const end = at + u.text.split(' ').length * 380;
    const cue = `${i + 1}\n${timestamp(at)} --> ${timestamp(end)}\n${u.speaker}: ${u.text}`;
    at = end + 200;
    return cue;
  });
  return `WEBVTT\n\n${cues.join('\n\n')}\n`;
}

/** Teams: voice tags, other timings, long utterances split into several cues, a few ASR differences. */
function teamsVtt(w: Writer, utterances: Utterance[]): string {
  let at = 2300;
  const cues: string[] = [];
  for (const u of utterances) {
    const words = lightlyEdit(w, u.text, 0.02).split(' ');
    for (let start = 0; start < words.length; start += 18) {
      const part = words.slice(start, start + 18);
      const end = at + part.length * 350;
      cues.push(
        `${cues.length + 1}\n${timestamp(at)} --> ${timestamp(end)}\n<v ${u.speaker}>${part.join(' ')}</v>`,
      );
      at = end + 100;
    }
  }
  return `WEBVTT\n\n${cues.join('\n\n')}\n`;
}

/** One meeting of a recurring series: the same opening, agenda and closing, its own discussion. */
function meeting(w: Writer, series: { name: string; people: string[]; agenda: string[] }): Utterance[] {
  const [host, ...others] = series.people as [string, ...string[]];
  const utterances: Utterance[] = [
    { speaker: host, text: `Thanks everyone for joining the ${series.name}. Let us go through the agenda.` },
  ];
  for (const item of series.agenda) {
    utterances.push({ speaker: host, text: `Next item is ${item}.` });
    for (let i = 0; i < 3; i += 1) utterances.push({ speaker: w.pick(others), text: w.paragraph(2) });
  }
  utterances.push({
    speaker: host,
    text: 'Let us go through the action items and close. Thanks all, see you next week.',
  });
  return utterances;
}

function policySections(w: Writer, count: number) {
  return Array.from({ length: count }, (_, i) => ({
    heading: `Section ${i + 1}: ${w.sentence(2, 4)}`,
    body: w.paragraph(3),
  }));
}

/** The labelled set: `perKind` pairs of each of the eight kinds (5 positive, 3 hard negative). */
export function buildLabelledSet(perKind: number): LabelledPair[] {
  const w = new Writer(2026);
  const pairs: LabelledPair[] = [];
  const doc = (
    id: string,
    title: string,
    raw: string,
    mimeType: BenchDocument['mimeType'],
  ): BenchDocument => ({
    id,
    title,
    raw,
    mimeType,
  });
  for (let i = 0; i < perKind; i += 1) {
    const sections = article(w, 3 + (i % 4));
    const title = w.sentence(3, 6).replace(/\.$/, '');
    const md = markdown(title, sections);
    pairs.push({
      kind: 'exact-copy',
      duplicate: true,
      a: doc(`exact-${i}-a`, title, md, 'text/markdown'),
      b: doc(`exact-${i}-b`, `${title} (copy)`, md, 'text/markdown'),
    });

    const exported = article(w, 3 + (i % 5));
    const exportTitle = w.sentence(3, 6).replace(/\.$/, '');
    pairs.push({
      kind: 'pdf-export',
      duplicate: true,
      a: doc(`export-${i}-doc`, exportTitle, markdown(exportTitle, exported), 'text/markdown'),
      b: doc(`export-${i}-pdf`, `${exportTitle}.pdf`, pdfExport(w, exportTitle, exported), 'text/plain'),
    });

    const edited = article(w, 3 + (i % 4));
    const editTitle = w.sentence(3, 6).replace(/\.$/, '');
    const original = markdown(editTitle, edited);
    pairs.push({
      kind: 'light-edit',
      duplicate: true,
      a: doc(`edit-${i}-v1`, editTitle, original, 'text/markdown'),
      b: doc(
        `edit-${i}-v2`,
        `${editTitle} (edited)`,
        lightlyEdit(w, original, 0.01 + (i % 4) * 0.01),
        'text/markdown',
      ),
    });

    const formatted = article(w, 3 + (i % 3));
    const formattedTitle = w.sentence(3, 6).replace(/\.$/, '');
    pairs.push({
      kind: 'markdown-vs-plain',
      duplicate: true,
      a: doc(`format-${i}-md`, formattedTitle, markdown(formattedTitle, formatted), 'text/markdown'),
      b: doc(`format-${i}-txt`, `${formattedTitle}.txt`, plainText(formattedTitle, formatted), 'text/plain'),
    });

    const people = [...PEOPLE].sort(() => w.random() - 0.5).slice(0, 4);
    const series = {
      name: `${w.sentence(2, 3).replace(/\.$/, '')} weekly sync`,
      people,
      agenda: ['updates', 'risks', 'hiring'],
    };
    const spoken = meeting(w, series);
    pairs.push({
      kind: 'transcript-zoom-teams',
      duplicate: true,
      a: doc(`transcript-${i}-zoom`, `${series.name} (Zoom)`, zoomVtt(spoken), 'text/vtt'),
      b: doc(`transcript-${i}-teams`, `${series.name} (Teams)`, teamsVtt(w, spoken), 'text/vtt'),
    });

    // Hard negatives.
    pairs.push({
      kind: 'recurring-meeting',
      duplicate: false,
      a: doc(`series-${i}-week1`, `${series.name} week 1`, zoomVtt(meeting(w, series)), 'text/vtt'),
      b: doc(`series-${i}-week2`, `${series.name} week 2`, zoomVtt(meeting(w, series)), 'text/vtt'),
    });

    const policyTitle = `${w.sentence(2, 3).replace(/\.$/, '')} policy`;
    const v1 = policySections(w, 6);
    // Version 2: half the sections rewritten, one added, the rest lightly edited.
    const v2 = v1.map((s, k) =>
      k % 2 === 0
        ? { heading: s.heading, body: w.paragraph(3) }
        : { ...s, body: lightlyEdit(w, s.body, 0.03) },
    );
    v2.push(...policySections(w, 1));
    pairs.push({
      kind: 'policy-major-revision',
      duplicate: false,
      a: doc(`policy-${i}-v1`, `${policyTitle} v1`, markdown(policyTitle, v1), 'text/markdown'),
      b: doc(`policy-${i}-v2`, `${policyTitle} v2`, markdown(policyTitle, v2), 'text/markdown'),
    });

    const template = ['Summary', 'Impact', 'Timeline', 'Root cause', 'Follow-up actions'];
    const report = () =>
      markdown(
        'Incident report',
        template.map((heading) => ({
          heading,
          body: `${heading} of the incident as recorded by the on-call engineer. ${w.paragraph(2)}`,
        })),
      );
    pairs.push({
      kind: 'same-template-report',
      duplicate: false,
      a: doc(`incident-${i}-a`, 'Incident report', report(), 'text/markdown'),
      b: doc(`incident-${i}-b`, 'Incident report', report(), 'text/markdown'),
    });
  }
  return pairs;
}
