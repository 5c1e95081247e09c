import { describe, expect, it } from 'vitest';
import {
  buildObjectPath,
  CONNECTOR_IMPORTS_BUCKET,
  InvalidBlobPathError,
  sanitizeFileName,
} from '../src/storage/index.js';

const utf8Bytes = (text: string) => Buffer.byteLength(text, 'utf8');
const isWellFormed = (text: string) =>
  !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(text);

describe('buildObjectPath', () => {
  it('lays out {orgId}/connectors/{type}/{id}/{YYYY-MM-DD}/{fileType}/{fileId}-{filename}', () => {
    expect(CONNECTOR_IMPORTS_BUCKET).toBe('connector-imports');
    expect(
      buildObjectPath({
        orgId: '6f1c2a9e-0b7d-4c1e-9a51-3f2d8e4b7c10',
        connectorType: 'google_drive',
        connectorId: 'c-42',
        date: new Date('2026-03-09T23:59:59.999Z'),
        fileType: 'pdf',
        fileId: 'f_001',
        fileName: 'Q3   report (final).pdf',
      }),
    ).toBe(
      '6f1c2a9e-0b7d-4c1e-9a51-3f2d8e4b7c10/connectors/google_drive/c-42/2026-03-09/pdf/f_001-Q3 report (final).pdf',
    );
    expect(
      buildObjectPath({
        orgId: 'org',
        connectorType: 'upload',
        connectorId: 'c',
        date: '2025-12-31',
        fileType: 'docx',
        fileId: 'id',
        fileName: '../../../etc/passwd',
      }),
    ).toBe('org/connectors/upload/c/2025-12-31/docx/id-passwd');
  });

  it('keeps file names to the characters Supabase Storage accepts in keys', () => {
    const path = (fileName: string) =>
      buildObjectPath({
        orgId: 'org',
        connectorType: 'upload',
        connectorId: 'c',
        date: '2026-01-02',
        fileType: 'pdf',
        fileId: 'id',
        fileName,
      })
        .split('/')
        .at(-1);
    expect(path('Résumé – Zoë.pdf')).toBe('id-Resume _ Zoe.pdf');
    expect(path('報告書.pdf')).toBe('id-file.pdf');
    expect(path('📊 Q3 numbers.xlsx')).toBe('id-Q3 numbers.xlsx');
    expect(path("Ann's notes (v2) & more; a+b=c, 100$@home!.md")).toBe(
      "id-Ann's notes (v2) & more; a+b=c, 100$@home!.md",
    );
    for (const name of ['Résumé.pdf', '報告書.pdf', 'naïve café.docx', 'Ωmega #1 [draft] {x} ~y^`.txt']) {
      expect(path(name), name).toMatch(/^[A-Za-z0-9 !\-_.*'()&$@=;+,]+$/);
    }
  });

  it('refuses id parts that are paths, and bad dates', () => {
    const base = {
      orgId: 'org',
      connectorType: 'upload',
      connectorId: 'c',
      date: '2025-01-01',
      fileType: 'pdf',
      fileId: 'f',
      fileName: 'a.pdf',
    };
    const bad: Partial<typeof base>[] = [
      { orgId: '..' },
      { orgId: '' },
      { connectorType: 'a/b' },
      { connectorId: '.hidden' },
      { fileType: 'pdf\u0000' },
      { fileId: 'x\\y' },
      { date: '2025-02-30' },
      { date: 'yesterday' },
    ];
    for (const change of bad) {
      expect(() => buildObjectPath({ ...base, ...change }), JSON.stringify(change)).toThrow(
        InvalidBlobPathError,
      );
    }
    expect(() => buildObjectPath({ ...base, date: new Date(Number.NaN) as unknown as string })).toThrow(
      /date must be a valid Date/,
    );
  });
});

describe('sanitizeFileName', () => {
  it('strips path components and traversal', () => {
    expect(sanitizeFileName('../../etc/passwd')).toBe('passwd');
    expect(sanitizeFileName('..\\..\\Windows\\system32\\drivers.sys')).toBe('drivers.sys');
    expect(sanitizeFileName('C:\\Users\\ann\\Q3.pdf')).toBe('Q3.pdf');
    expect(sanitizeFileName('reports/2025/')).toBe('2025');
    expect(sanitizeFileName('..')).toBe('file');
    expect(sanitizeFileName('../..')).toBe('file');
    expect(sanitizeFileName('.env')).toBe('env');
    expect(sanitizeFileName('notes.md.')).toBe('notes.md');
  });

  it('drops control characters and bidi overrides, replaces reserved ones, collapses whitespace', () => {
    expect(sanitizeFileName('a\u0000b\u0007c\u007f.txt')).toBe('abc.txt');
    // "invoice\u202Efdp.exe" displays as "invoiceexe.pdf": the override goes, the real extension shows.
    expect(sanitizeFileName('invoice\u202Efdp.exe')).toBe('invoicefdp.exe');
    expect(sanitizeFileName('\u2067report\u2069\u200B.pdf')).toBe('report.pdf');
    expect(sanitizeFileName('  Team \t notes \n\n 2025 .md  ')).toBe('Team notes 2025.md');
    expect(sanitizeFileName('what? <draft>: "v2" | final*.docx')).toBe('what_ _draft__ _v2_ _ final_.docx');
  });

  it('normalises to NFC', () => {
    const decomposed = 'Cafe\u0301 me\u0301nu.pdf';
    const result = sanitizeFileName(decomposed);
    expect(result).toBe('Caf\u00e9 m\u00e9nu.pdf');
    expect(result).toBe(result.normalize('NFC'));
  });

  it('gives empty or 0-byte names a fallback', () => {
    expect(sanitizeFileName('')).toBe('file');
    expect(sanitizeFileName('   ')).toBe('file');
    expect(sanitizeFileName('\u0000\u0000')).toBe('file');
    expect(sanitizeFileName('\u202e')).toBe('file');
    expect(sanitizeFileName('', { fallback: 'untitled' })).toBe('untitled');
    expect(sanitizeFileName(undefined as unknown as string)).toBe('file');
  });

  it('bounds a 500-character name to 120 bytes and keeps the extension', () => {
    const result = sanitizeFileName(`${'a'.repeat(500)}.pdf`);
    expect(utf8Bytes(result)).toBe(120);
    expect(result.endsWith('.pdf')).toBe(true);
    expect(result).toBe(`${'a'.repeat(116)}.pdf`);

    const multiByte = sanitizeFileName(`${'é'.repeat(500)}.docx`);
    expect(utf8Bytes(multiByte)).toBeLessThanOrEqual(120);
    expect(multiByte).toBe(`${'é'.repeat(57)}.docx`);
    expect(sanitizeFileName('x'.repeat(500), { maxBytes: 10 })).toBe('x'.repeat(10));
  });

  it('folds to ASCII on request, falling back when nothing readable is left', () => {
    expect(sanitizeFileName('Crème brûlée.md', { ascii: true })).toBe('Creme brulee.md');
    expect(sanitizeFileName('Straße #7.txt', { ascii: true })).toBe('Stra_e _7.txt');
    expect(sanitizeFileName('日本語', { ascii: true })).toBe('file');
    expect(sanitizeFileName('議事録.docx', { ascii: true, fallback: 'unnamed' })).toBe('unnamed.docx');
    // Without the option, names keep their script.
    expect(sanitizeFileName('議事録.docx')).toBe('議事録.docx');
  });

  it('never splits an emoji at the cut', () => {
    // 115 ASCII bytes, then a 4-byte emoji that would straddle the 116-byte stem budget.
    const name = `${'a'.repeat(114)}😀😀😀.txt`;
    const result = sanitizeFileName(name);
    expect(isWellFormed(result)).toBe(true);
    expect(utf8Bytes(result)).toBeLessThanOrEqual(120);
    expect(result).toBe(`${'a'.repeat(114)}.txt`);

    // A family emoji is one grapheme of 25 bytes (ZWJ sequence): kept whole or dropped whole.
    const family = '👨‍👩‍👧‍👦';
    const cut = sanitizeFileName(`${'b'.repeat(100)}${family}${family}.md`);
    expect(cut).toBe(`${'b'.repeat(100)}.md`);
    const fits = sanitizeFileName(`${'b'.repeat(80)}${family}${family}.md`);
    expect(fits).toBe(`${'b'.repeat(80)}${family}.md`);
    expect(Buffer.from(fits, 'utf8').toString('utf8')).toBe(fits);

    // A lone surrogate (broken UTF-16 from a provider) cannot reach storage.
    expect(sanitizeFileName('bad\uD83D.txt')).toBe('bad.txt');
  });

  it('treats only a short trailing suffix as an extension', () => {
    expect(sanitizeFileName(`${'a'.repeat(200)}.this is not an extension`)).toHaveLength(120);
    expect(sanitizeFileName('archive.tar.gz')).toBe('archive.tar.gz');
    expect(sanitizeFileName('README')).toBe('README');
  });
});
