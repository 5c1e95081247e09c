import type { ExtractorInput } from './content-extractor.js';
import { importOptionalParser } from './optional-parser.js';

/** The canvas PDF.js draws scanned pages on before OCR (an optional peer of @tributary/core). */
export const PDF_RENDER_PACKAGES = ['@napi-rs/canvas'] as const;

/** Default resolution PDF pages are rendered at for OCR: Tesseract reads body text well from 200 dpi. */
export const DEFAULT_OCR_DPI = 200;

/** PDF.js's canvas factory class, as `getDocument({ CanvasFactory })` takes it. */
export type PdfCanvasFactory = Awaited<ReturnType<typeof import('unpdf').createIsomorphicCanvasFactory>>;

/** The parts of a PDF.js page proxy rendering uses. */
export interface RenderablePdfPage {
  getViewport(parameters: { scale: number }): { width: number; height: number };
  render(parameters: Record<string, unknown>): { promise: Promise<void> };
}

interface CanvasPair {
  canvas: unknown;
  context: {
    getImageData(
      x: number,
      y: number,
      width: number,
      height: number,
    ): {
      data: Uint8ClampedArray;
      width: number;
      height: number;
    };
  };
}

/**
 * PDF.js's Node canvas factory over `@napi-rs/canvas` (Skia, prebuilt binaries from npm, no
 * system Cairo): the document must be opened with it so PDF.js can draw images and patterns.
 */
export async function loadPdfCanvasFactory(input: ExtractorInput): Promise<PdfCanvasFactory> {
  const { createIsomorphicCanvasFactory } = await import('unpdf');
  return createIsomorphicCanvasFactory(() =>
    importOptionalParser(PDF_RENDER_PACKAGES, () => import('@napi-rs/canvas'), input),
  );
}

/**
 * One page drawn at `dpi` (PDF user space is 72 units per inch), as an 8-bit grayscale PGM image:
 * Tesseract reads grayscale, and a PGM needs no compression (a PNG encode of a 200 dpi page costs
 * more than drawing it).
 */
export async function renderPageForOcr(
  page: RenderablePdfPage,
  CanvasFactory: PdfCanvasFactory,
  dpi: number,
): Promise<{ bytes: Uint8Array; contentType: string }> {
  const viewport = page.getViewport({ scale: dpi / 72 });
  const factory = new CanvasFactory({});
  const pair = factory.create(Math.ceil(viewport.width), Math.ceil(viewport.height)) as unknown as CanvasPair;
  try {
    await page.render({ canvas: pair.canvas, canvasContext: pair.context, viewport }).promise;
    const { data, width, height } = pair.context.getImageData(
      0,
      0,
      Math.ceil(viewport.width),
      Math.ceil(viewport.height),
    );
    const header = Buffer.from(`P5\n${width} ${height}\n255\n`, 'latin1');
    const bytes = new Uint8Array(header.length + width * height);
    bytes.set(header);
    // ITU-R BT.601 luma from RGBA.
    for (let source = 0, target = header.length; source < data.length; source += 4, target += 1) {
      bytes[target] =
        ((data[source] as number) * 77 +
          (data[source + 1] as number) * 150 +
          (data[source + 2] as number) * 29) >>
        8;
    }
    return { bytes, contentType: 'image/x-portable-graymap' };
  } finally {
    factory.destroy(pair as never);
  }
}
