// OCR (opt-in): real tesseract.js with English data from @tesseract.js-data/eng, offline, reading
// PNGs and scanned PDF pages drawn at test time; without OCR, images and scans are refused with a
// typed reason, never stored empty.
import { existsSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { builtInExtractors, createExtractorRegistry } from '../src/content/index.js';
import { UnsupportedContentError } from '../src/errors/index.js';
import { createTesseractOcr, documentExtractors } from '../src/extractors.js';
import { blankPng, scannedPdf, textPng } from './__fixtures__/text-image.js';

// One engine (one worker) for the file: starting Tesseract costs about two seconds.
const engine = createTesseractOcr({ languages: ['eng'] });
const withOcr = createExtractorRegistry([...builtInExtractors(), ...documentExtractors({ ocr: { engine } })]);
const withoutOcr = createExtractorRegistry();

afterAll(() => engine.close());

async function failure(promise: Promise<unknown>): Promise<UnsupportedContentError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!UnsupportedContentError.isInstance(error))
    throw new Error(`expected UnsupportedContentError, got ${String(error)}`);
  return error;
}

describe('OCR', () => {
  it('reads the words in a PNG', async () => {
    const bytes = textPng(['Quarterly invoice for Lighthouse Ltd', 'Total due 4200 euros by March']);
    const result = await withOcr.extract({ bytes, fileName: 'receipt.png' });
    expect(result.mimeType).toBe('image/png');
    expect(result.text).toContain('Quarterly invoice for Lighthouse Ltd');
    expect(result.text).toContain('Total due 4200 euros by March');
    expect(result.metadata).toMatchObject({ ocr: 'tesseract:eng' });
    // Language data came from the npm package as bytes: no cache file is written next to the process.
    expect(existsSync('eng.traineddata')).toBe(false);
  });

  it('reads scanned pages of a PDF and keeps the text layer of the others', async () => {
    const bytes = await scannedPdf([
      'Typed cover page of the inspection report',
      textPng(['Boiler inspection passed on Tuesday', 'Inspector signature required']),
      textPng(['Second scanned page mentions the chimney']),
    ]);
    const result = await withOcr.extract({ bytes, fileName: 'inspection.pdf' });
    const pages = result.text.split('\f').map((page) => page.trim());
    expect(pages).toHaveLength(3);
    expect(pages[0]).toBe('Typed cover page of the inspection report');
    expect(pages[1]).toContain('Boiler inspection passed on Tuesday');
    expect(pages[1]).toContain('Inspector signature required');
    expect(pages[2]).toContain('Second scanned page mentions the chimney');
    expect(result.metadata).toMatchObject({ pageCount: 3, ocr: 'tesseract:eng', ocrPages: 2 });
  });

  it('refuses a blank scan with reason no_text_found instead of storing an empty document', async () => {
    const image = await failure(withOcr.extract({ bytes: blankPng(), fileName: 'blank.png' }));
    expect(image.reason).toBe('no_text_found');
    expect(image.message).toMatch(
      /^\[tributary\] \[content\] .*blank\.png: OCR \(tesseract:eng\) found no text/,
    );
    const pdf = await failure(
      withOcr.extract({ bytes: await scannedPdf([blankPng()]), fileName: 'blank.pdf' }),
    );
    expect(pdf.reason).toBe('no_text_found');
  });

  it('without OCR, refuses images and scanned PDFs as needs_ocr, saying how to turn OCR on', async () => {
    const png = textPng(['Some words']);
    const image = await failure(withoutOcr.extract({ bytes: png, fileName: 'photo.png' }));
    expect(image.reason).toBe('needs_ocr');
    expect(image.message).toContain('photo.png');
    expect(image.message).toContain("ocr: { languages: ['eng'] }");
    const pdf = await failure(withoutOcr.extract({ bytes: await scannedPdf([png]), fileName: 'scan.pdf' }));
    expect(pdf.reason).toBe('needs_ocr');
    expect(pdf.message).toContain("ocr: { languages: ['eng'] }");
  });

  it('names the language package to install when its data is missing', async () => {
    const missing = createTesseractOcr({ languages: ['xyz'], idleTimeoutMs: 10 });
    const registry = createExtractorRegistry([
      ...builtInExtractors(),
      ...documentExtractors({ ocr: missing }),
    ]);
    const error = await failure(registry.extract({ bytes: textPng(['words']), fileName: 'a.png' }));
    expect(error.reason).toBe('missing_parser');
    expect(error.message).toContain('@tesseract.js-data/xyz');
    expect(error.message).toContain('npm install @tesseract.js-data/xyz');
    await missing.close();
  });

  it('refuses language codes that are not Tesseract codes when configured', () => {
    expect(() => documentExtractors({ ocr: { languages: ['../etc'] } })).toThrow(/ocr\.languages/);
    expect(() => documentExtractors({ ocr: { languages: [] } })).toThrow(/at least one language/);
  });
});
