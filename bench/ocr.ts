// OCR speed and accuracy: scanned pages of printed text (drawn with @napi-rs/canvas at 200 dpi,
// wrapped in an image-only PDF with pdf-lib) read through core's opt-in OCR (tesseract.js 7,
// English LSTM data from @tesseract.js-data/eng, offline). Prints, per stage: worker start,
// page rendering (PDF.js on @napi-rs/canvas) at 150/200/300 dpi, OCR of PNG images, and whole
// scanned-PDF extraction in pages/s, with word recall and precision against the printed text.
// Knobs: BENCH_OCR_PAGES (default 6).
import { createCanvas } from '@napi-rs/canvas';
import { builtInExtractors, createExtractorRegistry } from '@tributary/core';
import { createTesseractOcr, documentExtractors } from '@tributary/core/extractors';
import { PDFDocument } from 'pdf-lib';
import { createIsomorphicCanvasFactory, getDocumentProxy } from 'unpdf';

const PAGES = Number(process.env.BENCH_OCR_PAGES ?? 6);
const DPI = 200;
const vocabulary = (
  'the river board approved budget invoice quarterly report salmon delta sediment glacier ' +
  'meeting minutes action items owner deadline review contract supplier warehouse shipment ' +
  'customer account payment overdue reminder engineering release migration database index ' +
  'search permission document scanned inspection boiler chimney signature tuesday march ' +
  'november lighthouse harbour ferry schedule passengers tickets weather forecast storm'
).split(' ');

let seed = 42;
function random(): number {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648;
}

/**
 * One letter-size page at 200 dpi: 30 lines of 11 pt text, as a scanner delivers it (a JPEG inside
 * the PDF, the common case), and the same page as PNG for OCR of images.
 */
function pageImage(): { png: Uint8Array; jpeg: Uint8Array; text: string } {
  const canvas = createCanvas(8.5 * DPI, 11 * DPI);
  const context = canvas.getContext('2d');
  context.fillStyle = '#ffffff';
  context.fillRect(0, 0, canvas.width, canvas.height);
  context.fillStyle = '#000000';
  context.font = '31px serif'; // 11 pt at 200 dpi
  const lines: string[] = [];
  for (let line = 0; line < 30; line += 1) {
    const words: string[] = [];
    while (words.join(' ').length < 75)
      words.push(vocabulary[Math.floor(random() * vocabulary.length)] as string);
    lines.push(words.join(' '));
    context.fillText(lines[line] as string, DPI, DPI + line * 58);
  }
  return {
    png: new Uint8Array(canvas.toBuffer('image/png')),
    jpeg: new Uint8Array(canvas.toBuffer('image/jpeg', 85)),
    text: lines.join('\n'),
  };
}

async function scannedPdf(images: Uint8Array[]): Promise<Uint8Array> {
  const document = await PDFDocument.create();
  for (const jpeg of images) {
    const image = await document.embedJpg(jpeg);
    const page = document.addPage([612, 792]);
    page.drawImage(image, { x: 0, y: 0, width: 612, height: 792 });
  }
  return document.save();
}

function score(expected: string, actual: string): { recall: number; precision: number } {
  const split = (text: string) => text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  const want = new Map<string, number>();
  for (const word of split(expected)) want.set(word, (want.get(word) ?? 0) + 1);
  const got = split(actual);
  let matched = 0;
  for (const word of got) {
    const left = want.get(word) ?? 0;
    if (left > 0) {
      matched += 1;
      want.set(word, left - 1);
    }
  }
  return { recall: matched / split(expected).length, precision: got.length ? matched / got.length : 0 };
}

const percent = (value: number) => `${(value * 100).toFixed(1)}%`;
const pages = Array.from({ length: PAGES }, pageImage);
const pdf = await scannedPdf(pages.map((page) => page.jpeg));
const expectedText = pages.map((page) => page.text).join('\n');
console.log(
  `OCR bench: ${PAGES} scanned letter pages, 30 lines of 11 pt text each (${expectedText.split(/\s+/).length} words), PDF ${(pdf.byteLength / 1024).toFixed(0)} KB`,
);

// 1. Rendering alone (PDF.js on @napi-rs/canvas), at three resolutions.
const CanvasFactory = await createIsomorphicCanvasFactory(() => import('@napi-rs/canvas'));
for (const dpi of [150, 200, 300]) {
  const document = await getDocumentProxy(new Uint8Array(pdf), { CanvasFactory });
  const started = performance.now();
  for (let number = 1; number <= document.numPages; number += 1) {
    const page = await document.getPage(number);
    const viewport = page.getViewport({ scale: dpi / 72 });
    const factory = new CanvasFactory({});
    const pair = factory.create(Math.ceil(viewport.width), Math.ceil(viewport.height));
    await page.render({ canvas: pair.canvas, canvasContext: pair.context, viewport } as never).promise;
    // Read the pixels back, as core does before converting the page to grayscale for Tesseract.
    (
      pair.context as unknown as { getImageData(x: number, y: number, w: number, h: number): unknown }
    ).getImageData(0, 0, pair.canvas.width, pair.canvas.height);
    factory.destroy(pair);
  }
  const seconds = (performance.now() - started) / 1000;
  console.log(
    `render ${dpi} dpi + read pixels: ${(PAGES / seconds).toFixed(2)} pages/s (${((seconds * 1000) / PAGES).toFixed(0)} ms/page)`,
  );
  await document.loadingTask.destroy();
}

// 2. Worker start, then OCR of the page images directly.
const engine = createTesseractOcr({ languages: ['eng'] });
let started = performance.now();
await engine.recognize({ bytes: pages[0]?.png as Uint8Array, contentType: 'image/png' });
console.log(`worker start + first page: ${(performance.now() - started).toFixed(0)} ms`);
started = performance.now();
let recognized = '';
for (const page of pages)
  recognized += `${await engine.recognize({ bytes: page.png, contentType: 'image/png' })}\n`;
let seconds = (performance.now() - started) / 1000;
let quality = score(expectedText, recognized);
console.log(
  `OCR of PNG pages (warm worker): ${(PAGES / seconds).toFixed(2)} pages/s (${((seconds * 1000) / PAGES).toFixed(0)} ms/page), recall ${percent(quality.recall)}, precision ${percent(quality.precision)}`,
);

// 3. The whole path a sync takes: registry -> PDF extractor -> render each scanned page -> OCR.
for (const pdfDpi of [150, 200, 300]) {
  const registry = createExtractorRegistry([
    ...builtInExtractors(),
    ...documentExtractors({ ocr: { engine, pdfDpi } }),
  ]);
  started = performance.now();
  const result = await registry.extract({ bytes: pdf, fileName: 'scan.pdf' });
  seconds = (performance.now() - started) / 1000;
  quality = score(expectedText, result.text);
  console.log(
    `scanned PDF extraction at ${pdfDpi} dpi: ${(PAGES / seconds).toFixed(2)} pages/s (${((seconds * 1000) / PAGES).toFixed(0)} ms/page), recall ${percent(quality.recall)}, precision ${percent(quality.precision)}`,
  );
}
await engine.close();
console.log(`rss ${(process.memoryUsage().rss / 1024 / 1024).toFixed(0)} MB`);
