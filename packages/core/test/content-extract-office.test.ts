// Zip-based formats in core, for every connector: DOCX, XLSX and PPTX are zip-bomb guarded,
// XLSX/PPTX are built in, an image-only DOCX is refused as needing OCR, and a missing optional
// parser is a typed error naming the package to install.
import { inflateRawSync } from 'node:zlib';
import { AlignmentType, Document, ImageRun, Packer, Paragraph, TextRun } from 'docx';
import { describe, expect, it } from 'vitest';
import { builtInExtractors, createExtractorRegistry } from '../src/content/index.js';
import { importOptionalParser } from '../src/content/optional-parser.js';
import { UnsupportedContentError } from '../src/errors/index.js';
import { documentExtractors } from '../src/extractors.js';
import { buildDocx, buildZip } from './__fixtures__/content-fixtures.js';
import { grayPng } from './__fixtures__/pdf-builders.js';

const registry = createExtractorRegistry();

async function failure(promise: Promise<unknown>): Promise<UnsupportedContentError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(
    UnsupportedContentError.isInstance(error),
    `expected UnsupportedContentError, got ${String(error)}`,
  ).toBe(true);
  return error as UnsupportedContentError;
}

/** A DOCX whose extra part inflates to `megabytes` of zeros: a zip bomb by ratio. */
function docxBomb(megabytes: number): Uint8Array {
  const real = buildDocx([{ paragraph: 'Innocent looking document' }]);
  // Take the real document's parts and add a padding part of zeros.
  return buildZip([
    ...unzipEntries(real),
    { name: 'word/media/padding.bin', data: new Uint8Array(megabytes * 1024 * 1024) },
  ]);
}

/** The stored entries of a zip built by buildZip (names and data), read back with the central directory. */
function unzipEntries(bytes: Uint8Array): { name: string; data: Uint8Array }[] {
  const view = Buffer.from(bytes);
  const entries: { name: string; data: Uint8Array }[] = [];
  let offset = 0;
  while (view.readUInt32LE(offset) === 0x04034b50) {
    const method = view.readUInt16LE(offset + 8);
    const compressed = view.readUInt32LE(offset + 18);
    const nameLength = view.readUInt16LE(offset + 26);
    const extraLength = view.readUInt16LE(offset + 28);
    const name = view.toString('utf8', offset + 30, offset + 30 + nameLength);
    const start = offset + 30 + nameLength + extraLength;
    const raw = view.subarray(start, start + compressed);
    entries.push({ name, data: method === 8 ? inflateRawSync(raw) : raw });
    offset = start + compressed;
  }
  return entries;
}

describe('zip-based formats in core', () => {
  it('refuses a DOCX zip bomb before mammoth inflates it, in the default registry', async () => {
    const error = await failure(registry.extract({ bytes: docxBomb(8), fileName: 'bomb.docx' }));
    expect(error.reason).toBe('unsafe_archive');
    expect(error.message).toMatch(/^\[tributary\] \[content\] bomb\.docx was not opened: .*zip bomb/);
  });

  it('applies configured zip limits to every office format', async () => {
    const strict = createExtractorRegistry([
      ...builtInExtractors(),
      ...documentExtractors({ zipLimits: { maxEntries: 2 } }),
    ]);
    const docx = buildDocx([{ paragraph: 'Hello' }]);
    const error = await failure(strict.extract({ bytes: docx, fileName: 'small.docx' }));
    expect(error.message).toMatch(/entries \(limit 2\)/);
    const fine = await registry.extract({ bytes: docx, fileName: 'small.docx' });
    expect(fine.text).toBe('Hello');
  });

  it('refuses an XLSX or PPTX that is a zip bomb, named by claim or extension', async () => {
    for (const fileName of ['sheet.xlsx', 'deck.pptx']) {
      const bytes = buildZip([
        { name: '[Content_Types].xml', data: '<Types/>' },
        { name: 'padding.bin', data: new Uint8Array(8 * 1024 * 1024) },
      ]);
      const error = await failure(registry.extract({ bytes, fileName }));
      expect(error.reason).toBe('unsafe_archive');
    }
  });

  it('refuses an image-only DOCX as needing OCR instead of storing an empty document', async () => {
    const image = new ImageRun({
      type: 'png',
      data: grayPng(32, 32),
      transformation: { width: 32, height: 32 },
    });
    const document = new Document({
      sections: [{ children: [new Paragraph({ alignment: AlignmentType.CENTER, children: [image] })] }],
    });
    const bytes = new Uint8Array(await Packer.toBuffer(document));
    const error = await failure(registry.extract({ bytes, fileName: 'scan.docx' }));
    expect(error.reason).toBe('needs_ocr');
    expect(error.message).toMatch(/scan\.docx: it holds 1 image\(s\) and no text/);
  });

  it('reads an image-only DOCX through an OCR engine the host opted into', async () => {
    const png = grayPng(32, 32);
    const image = new ImageRun({ type: 'png', data: png, transformation: { width: 32, height: 32 } });
    const document = new Document({ sections: [{ children: [new Paragraph({ children: [image] })] }] });
    const seen: Array<{ size: number; contentType: string }> = [];
    // The host's engine: here one that reports the image it was given, to prove the bytes arrive.
    const ocr = {
      name: 'test-ocr',
      recognize: async ({ bytes, contentType }: { bytes: Uint8Array; contentType: string }) => {
        seen.push({ size: bytes.byteLength, contentType });
        return `Recognized ${contentType} of ${bytes.byteLength} bytes`;
      },
    };
    const withOcr = createExtractorRegistry([...builtInExtractors(), ...documentExtractors({ ocr })]);
    const result = await withOcr.extract({
      bytes: new Uint8Array(await Packer.toBuffer(document)),
      fileName: 'scan.docx',
    });
    expect(seen).toEqual([{ size: png.byteLength, contentType: 'image/png' }]);
    expect(result.text).toBe(`Recognized image/png of ${png.byteLength} bytes`);
    expect(result.metadata).toMatchObject({ images: 1, ocr: 'test-ocr' });
  });

  it('keeps a DOCX image alt text next to the text', async () => {
    const image = new ImageRun({
      type: 'png',
      data: grayPng(16, 16),
      transformation: { width: 16, height: 16 },
      altText: { name: 'chart', title: 'chart', description: 'Bar chart of rainfall by month' },
    });
    const document = new Document({
      sections: [{ children: [new Paragraph({ children: [new TextRun('Rainfall report'), image] })] }],
    });
    const result = await registry.extract({
      bytes: new Uint8Array(await Packer.toBuffer(document)),
      fileName: 'r.docx',
    });
    expect(result.text).toContain('Rainfall report');
    expect(result.text).toContain('Bar chart of rainfall by month');
    expect(result.text).not.toContain('data:');
  });

  it('names the optional parser package to install when it is missing', async () => {
    const error = await failure(
      importOptionalParser(
        ['tributary-parser-that-does-not-exist'],
        () => import('tributary-parser-that-does-not-exist' as string),
        { fileName: 'a.pdf', mimeType: 'application/pdf', label: 'a.pdf' },
      ),
    );
    expect(error.reason).toBe('missing_parser');
    expect(error.message).toMatch(
      /optional parser package tributary-parser-that-does-not-exist is not installed/,
    );
    expect(error.message).toMatch(/npm install tributary-parser-that-does-not-exist/);
  });
});
