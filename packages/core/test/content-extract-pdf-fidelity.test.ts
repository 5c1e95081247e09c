// PDF fidelity: CJK through PDF.js's character maps, hyphens rejoined, form fields and
// annotations kept, image-only pages refused as needing OCR (never stored empty).
import { describe, expect, it } from 'vitest';
import { createExtractorRegistry } from '../src/content/index.js';
import { UnsupportedContentError } from '../src/errors/index.js';
import { buildCjkPdf, buildFormPdf, buildImageOnlyPdf, buildLinesPdf } from './__fixtures__/pdf-builders.js';

const registry = createExtractorRegistry();

describe('PDF fidelity', () => {
  it('reads Japanese and Chinese text set in non-embedded CID fonts', async () => {
    const bytes = await buildCjkPdf('日本語の文書です。東京都の人口。', '这是中文文件。北京市的天气。');
    const result = await registry.extract({ bytes, fileName: 'cjk.pdf' });
    expect(result.text).toContain('日本語の文書です。東京都の人口。');
    expect(result.text).toContain('这是中文文件。北京市的天气。');
  });

  it('rejoins words hyphenated at a line end, and only those', async () => {
    const bytes = await buildLinesPdf([
      'The committee reviewed the infor-',
      'mation twice. Jean-',
      'Pierre chaired the 2019-',
      '2020 session.',
    ]);
    const { text } = await registry.extract({ bytes, fileName: 'minutes.pdf' });
    expect(text).toContain('the information twice');
    expect(text).toContain('Jean-\nPierre');
    expect(text).toContain('2019-\n2020');
  });

  it('keeps filled-in form fields and free-text and note annotations, not empty fields', async () => {
    const { text, metadata } = await registry.extract({ bytes: await buildFormPdf(), fileName: 'claim.pdf' });
    expect(text).toContain('Travel expense claim');
    expect(text).toContain('employee.name: Margarethe Okonkwo');
    expect(text).toContain('destination: Nairobi');
    expect(text).toContain('transport: Train');
    expect(text).toContain('Reviewer: receipts for the taxi are missing');
    expect(text).toContain('Note: Check the per-diem rate');
    expect(text).not.toContain('employee.phone');
    expect(text).not.toContain('urgent');
    expect(metadata).toMatchObject({ formFields: 3, annotations: 2 });
  });

  it('refuses an image-only PDF with reason needs_ocr', async () => {
    const error = await registry
      .extract({ bytes: await buildImageOnlyPdf(), fileName: 'scan.pdf' })
      .catch((caught) => caught);
    expect(UnsupportedContentError.isInstance(error)).toBe(true);
    expect((error as UnsupportedContentError).reason).toBe('needs_ocr');
    expect((error as Error).message).toMatch(/^\[tributary\] \[content\] .*scan\.pdf.*no text layer/);
  });
});
