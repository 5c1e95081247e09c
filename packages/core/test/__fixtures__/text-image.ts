// Images of printed text for OCR tests, drawn at test time with @napi-rs/canvas (Skia), and a
// "scanned" PDF holding such an image and no text layer, built with pdf-lib.
import { createCanvas } from '@napi-rs/canvas';
import { PDFDocument, StandardFonts } from 'pdf-lib';

/** A white PNG with each line printed in black, 36 px sans-serif (about 12 pt at 200 dpi). */
export function textPng(lines: readonly string[], width = 1000): Uint8Array {
  const lineHeight = 56;
  const canvas = createCanvas(width, lineHeight * lines.length + 60);
  const context = canvas.getContext('2d');
  context.fillStyle = '#ffffff';
  context.fillRect(0, 0, canvas.width, canvas.height);
  context.fillStyle = '#000000';
  context.font = '36px sans-serif';
  lines.forEach((line, index) => context.fillText(line, 30, 60 + index * lineHeight));
  return new Uint8Array(canvas.toBuffer('image/png'));
}

/** A blank white PNG: OCR finds nothing in it. */
export function blankPng(width = 400, height = 300): Uint8Array {
  const canvas = createCanvas(width, height);
  const context = canvas.getContext('2d');
  context.fillStyle = '#ffffff';
  context.fillRect(0, 0, width, height);
  return new Uint8Array(canvas.toBuffer('image/png'));
}

/**
 * A PDF whose pages are images (a scan), one per entry; a string entry is a normal page with a
 * text layer instead, so mixed documents (a typed cover, scanned pages) can be built.
 */
export async function scannedPdf(pages: ReadonlyArray<Uint8Array | string>): Promise<Uint8Array> {
  const document = await PDFDocument.create();
  const font = await document.embedFont(StandardFonts.Helvetica);
  for (const entry of pages) {
    const page = document.addPage([612, 792]);
    if (typeof entry === 'string') {
      page.drawText(entry, { x: 72, y: 700, size: 14, font });
      continue;
    }
    const image = await document.embedPng(entry);
    // Placed at 200 dpi: a 1000 px wide scan covers 5 inches (360 points) of the page.
    page.drawImage(image, { x: 72, y: 792 - 72 - (image.height * 72) / 200, width: (image.width * 72) / 200, height: (image.height * 72) / 200 });
  }
  return document.save();
}
