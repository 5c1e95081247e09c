import { describe, expect, it } from 'vitest';
import {
  builtInExtractors,
  type ContentExtractor,
  createExtractorRegistry,
  PAGE_BREAK,
} from '../src/content/index.js';
import {
  CorruptContentError,
  InvalidConfigError,
  TributaryError,
  UnsupportedContentError,
} from '../src/errors/index.js';
import {
  buildDocx,
  buildPdf,
  buildZip,
  fakeWindowsExecutable,
  pseudoRandomBytes,
} from './__fixtures__/content-fixtures.js';

const registry = createExtractorRegistry();
const DOCX = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';

async function failure(promise: Promise<unknown>): Promise<Error> {
  const outcome = await promise.then(
    () => undefined,
    (error: unknown) => error,
  );
  if (!(outcome instanceof Error)) throw new Error('expected the extraction to fail');
  return outcome;
}

describe('PDF', () => {
  const pdf = buildPdf(
    [
      ['Quarterly report', 'Revenue grew (a lot) in Q3.'],
      ['Second page: outlook', 'Hiring continues.'],
    ],
    { title: 'Q3 Report' },
  );

  it('extracts the text of every page, keeps page breaks, and reads the title', async () => {
    const result = await registry.extract({
      bytes: pdf,
      fileName: 'q3.pdf',
      claimedMimeType: 'application/pdf',
    });
    expect(result.mimeType).toBe('application/pdf');
    expect(result.title).toBe('Q3 Report');
    expect(result.metadata).toMatchObject({ extractor: 'pdf', pageCount: 2 });
    const pages = result.text.split(PAGE_BREAK);
    expect(pages).toHaveLength(2);
    expect(pages[0]).toContain('Quarterly report');
    expect(pages[0]).toContain('Revenue grew (a lot) in Q3.');
    expect(pages[1]).toContain('Second page: outlook');
  });

  it('is sniffed from the bytes whatever the claim or name says', async () => {
    const result = await registry.extract({
      bytes: pdf,
      fileName: 'download.bin',
      claimedMimeType: 'application/octet-stream',
    });
    expect(result.mimeType).toBe('application/pdf');
    expect(result.text).toContain('Hiring continues.');
  });

  it('refuses a truncated PDF with CorruptContentError naming the file', async () => {
    for (const cut of [Math.floor(pdf.length / 2), pdf.length - 8]) {
      const error = await failure(registry.extract({ bytes: pdf.subarray(0, cut), fileName: 'q3.pdf' }));
      expect(CorruptContentError.isInstance(error)).toBe(true);
      expect(error.message).toMatch(/^\[tributary\] \[content\] cannot read q3\.pdf .*truncated/);
    }
  });

  it('refuses a "PDF" without the PDF signature as corrupt', async () => {
    const error = await failure(
      registry.extract({
        bytes: Buffer.from('this is not a pdf'),
        fileName: 'report.pdf',
        claimedMimeType: 'application/pdf',
      }),
    );
    expect(CorruptContentError.isInstance(error)).toBe(true);
    expect((error as CorruptContentError).fileName).toBe('report.pdf');
  });

  it('refuses a damaged PDF body (signature and %%EOF present) as corrupt', async () => {
    const damaged = Buffer.from(
      '%PDF-1.4\n1 0 obj garbage that is not a pdf object\nstartxref\n999999\n%%EOF\n',
      'latin1',
    );
    const error = await failure(registry.extract({ bytes: damaged, fileName: 'damaged.pdf' }));
    expect(CorruptContentError.isInstance(error)).toBe(true);
    expect(error.message).toContain('PDF.js cannot open it');
  });

  it('refuses a PDF without a text layer as unsupported, saying OCR is needed', async () => {
    const scanned = buildPdf([[], []]);
    const error = await failure(registry.extract({ bytes: scanned, fileName: 'scan.pdf' }));
    expect(UnsupportedContentError.isInstance(error)).toBe(true);
    expect(error.message).toMatch(/no text layer.*OCR/s);
  });
});

describe('DOCX', () => {
  const docx = buildDocx([
    { heading: 1, text: 'Onboarding guide' },
    { paragraph: 'Welcome aboard & enjoy.' },
    { heading: 2, text: 'Accounts' },
    { paragraph: 'Ask IT for a laptop.' },
    {
      table: [
        ['System', 'Owner'],
        ['Email', 'IT desk'],
      ],
    },
  ]);

  it('extracts Markdown-ish text with headings and tables; the title is the first heading', async () => {
    const result = await registry.extract({ bytes: docx, fileName: 'onboarding.docx' });
    expect(result.mimeType).toBe(DOCX);
    expect(result.structure).toBe('markdown');
    expect(result.title).toBe('Onboarding guide');
    expect(result.text).toBe(
      '# Onboarding guide\n\nWelcome aboard & enjoy.\n\n## Accounts\n\nAsk IT for a laptop.\n\n| System | Owner |\n| --- | --- |\n| Email | IT desk |',
    );
  });

  it('refuses a .docx that is not a zip as corrupt', async () => {
    const error = await failure(
      registry.extract({
        bytes: Buffer.from('plain words, no zip'),
        fileName: 'letter.docx',
        claimedMimeType: DOCX,
      }),
    );
    expect(CorruptContentError.isInstance(error)).toBe(true);
    expect(error.message).toContain('letter.docx');
  });

  it('refuses a zip without a Word document inside as corrupt', async () => {
    const zip = buildZip([{ name: 'notes.txt', data: 'hello' }]);
    const error = await failure(registry.extract({ bytes: zip, fileName: 'letter.docx' }));
    expect(CorruptContentError.isInstance(error)).toBe(true);
    expect(error.message).toMatch(/letter\.docx.*not a valid DOCX/);
  });

  it('refuses a truncated DOCX as corrupt', async () => {
    const error = await failure(
      registry.extract({
        bytes: docx.subarray(0, docx.length - 40),
        fileName: 'cut.docx',
        claimedMimeType: DOCX,
      }),
    );
    expect(CorruptContentError.isInstance(error)).toBe(true);
  });
});

describe('types that lie', () => {
  it('refuses a .pdf that is really a ZIP archive as unsupported, naming both types', async () => {
    const zip = buildZip([{ name: 'payload.txt', data: 'not a pdf' }]);
    const error = await failure(
      registry.extract({ bytes: zip, fileName: 'invoice.pdf', claimedMimeType: 'application/pdf' }),
    );
    expect(UnsupportedContentError.isInstance(error)).toBe(true);
    expect((error as UnsupportedContentError).mimeType).toBe('application/zip');
    expect(error.message).toMatch(
      /invoice\.pdf: its bytes are a ZIP archive \(application\/zip\), although it claims to be application\/pdf/,
    );
  });

  it('refuses a .pdf that is really a Windows executable', async () => {
    const error = await failure(
      registry.extract({
        bytes: fakeWindowsExecutable(),
        fileName: 'invoice.pdf',
        claimedMimeType: 'application/pdf',
      }),
    );
    expect(UnsupportedContentError.isInstance(error)).toBe(true);
    expect(error.message).toContain('Windows executable');
  });

  it('refuses random bytes claimed as text/plain as corrupt', async () => {
    const error = await failure(
      registry.extract({
        bytes: pseudoRandomBytes(8192),
        fileName: 'notes.txt',
        claimedMimeType: 'text/plain',
      }),
    );
    expect(CorruptContentError.isInstance(error)).toBe(true);
    expect(error.message).toMatch(/notes\.txt.*should be text/);
  });

  it('refuses random bytes with no claim as unsupported', async () => {
    const error = await failure(registry.extract({ bytes: pseudoRandomBytes(8192, 7) }));
    expect(UnsupportedContentError.isInstance(error)).toBe(true);
  });

  it('refuses an image (OCR off) as needs_ocr even when it is named honestly', async () => {
    const png = Buffer.from(
      '89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8ffff3f0005fe02fea7d6a4a40000000049454e44ae426082',
      'hex',
    );
    const error = await failure(
      registry.extract({ bytes: png, fileName: 'logo.png', claimedMimeType: 'image/png' }),
    );
    expect(UnsupportedContentError.isInstance(error)).toBe(true);
    expect((error as UnsupportedContentError).mimeType).toBe('image/png');
    expect((error as UnsupportedContentError).reason).toBe('needs_ocr');
    expect(error.message).toMatch(/only be read by OCR: turn it on/);
  });

  it('refuses text given for a binary-only format', async () => {
    const error = await failure(
      registry.extract({ text: 'hello', fileName: 'x.pdf', claimedMimeType: 'application/pdf' }),
    );
    expect(UnsupportedContentError.isInstance(error)).toBe(true);
    expect(error.message).toContain('bytes');
  });

  it('refuses empty input of neither kind', async () => {
    expect(UnsupportedContentError.isInstance(await failure(registry.extract({ fileName: 'x.txt' })))).toBe(
      true,
    );
  });
});

describe('limits', () => {
  it('refuses input over maxInputBytes before parsing', async () => {
    const small = createExtractorRegistry(undefined, { maxInputBytes: 1024 });
    const error = await failure(
      small.extract({ bytes: new Uint8Array(2048).fill(0x61), fileName: 'big.txt' }),
    );
    expect(UnsupportedContentError.isInstance(error)).toBe(true);
    expect(error.message).toMatch(/big\.txt is 2\.0 KB, over the 1\.0 KB input limit.*maxInputBytes/);
  });

  it('refuses extracted text over maxCharacters', async () => {
    const small = createExtractorRegistry(undefined, { maxCharacters: 100 });
    const error = await failure(small.extract({ text: 'word '.repeat(100), fileName: 'long.txt' }));
    expect(UnsupportedContentError.isInstance(error)).toBe(true);
    expect(error.message).toMatch(
      /long\.txt holds 499 characters of text, over the 100 limit.*maxCharacters/,
    );
  });

  it('defaults to 100 MB of input', async () => {
    const error = await failure(
      registry.extract({ bytes: new Uint8Array(100 * 1024 * 1024 + 1), fileName: 'huge.bin' }),
    );
    expect(error.message).toContain('over the 100.0 MB input limit');
  });

  it('rejects nonsense limits at creation', () => {
    expect(() => createExtractorRegistry(undefined, { maxCharacters: 0 })).toThrow(InvalidConfigError);
  });
});

describe('pluggable extractors', () => {
  it('adds a format and overrides a built-in by MIME type; every error is a TributaryError', async () => {
    const rtf: ContentExtractor = {
      name: 'rtf',
      mimeTypes: ['application/rtf'],
      extensions: ['rtf'],
      binary: false,
      extract: ({ text = '' }) => ({ text: text.replace(/\\[a-z]+\d* ?|[{}]/g, ''), structure: 'plain' }),
    };
    const shoutingText: ContentExtractor = {
      name: 'shout',
      mimeTypes: ['text/plain'],
      binary: false,
      extract: ({ text = '' }) => ({
        text: text.toUpperCase(),
        structure: 'plain',
        metadata: { custom: true },
      }),
    };
    const custom = createExtractorRegistry([...builtInExtractors(), rtf, shoutingText]);
    expect(custom.extractorFor('application/rtf; charset=x')?.name).toBe('rtf');
    const rtfResult = await custom.extract({
      bytes: Buffer.from('{\\rtf1\\ansi Hello \\b bold \\b0 world}'),
      fileName: 'memo.rtf',
    });
    expect(rtfResult).toMatchObject({ mimeType: 'application/rtf', text: 'Hello bold world' });
    const plain = await custom.extract({ text: 'quiet', claimedMimeType: 'text/plain' });
    expect(plain).toMatchObject({ text: 'QUIET', metadata: { extractor: 'shout', custom: true } });
    const error = await failure(custom.extract({ bytes: fakeWindowsExecutable() }));
    expect(TributaryError.isInstance(error)).toBe(true);
  });
});
