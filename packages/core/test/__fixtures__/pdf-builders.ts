// PDFs built with pdf-lib for the extraction tests: CJK text in non-embedded CID fonts (the shape
// Japanese and Chinese office software writes), forms, annotations, image-only pages.
import { deflateSync } from 'node:zlib';
import { PDFDocument, PDFName, PDFString, StandardFonts } from 'pdf-lib';

/** A page of Japanese and a line of Chinese in Adobe's non-embedded CID fonts (UCS-2 encoded). */
export async function buildCjkPdf(japanese: string, chinese: string): Promise<Uint8Array> {
  const document = await PDFDocument.create();
  const context = document.context;
  const cidFont = (base: string, ordering: string, supplement: number, encoding: string) => {
    const descriptor = context.register(
      context.obj({
        Type: 'FontDescriptor',
        FontName: base,
        Flags: 6,
        FontBBox: [0, -200, 1000, 900],
        ItalicAngle: 0,
        Ascent: 880,
        Descent: -120,
        CapHeight: 700,
        StemV: 80,
      }),
    );
    const descendant = context.register(
      context.obj({
        Type: 'Font',
        Subtype: 'CIDFontType0',
        BaseFont: base,
        CIDSystemInfo: { Registry: PDFString.of('Adobe'), Ordering: PDFString.of(ordering), Supplement: supplement },
        FontDescriptor: descriptor,
        DW: 1000,
      }),
    );
    return context.register(
      context.obj({ Type: 'Font', Subtype: 'Type0', BaseFont: `${base}-${encoding}`, Encoding: encoding, DescendantFonts: [descendant] }),
    );
  };
  const page = document.addPage([595, 842]);
  page.node.setFontDictionary(PDFName.of('FJ'), cidFont('KozMinPr6N-Regular', 'Japan1', 6, 'UniJIS-UCS2-H'));
  page.node.setFontDictionary(PDFName.of('FZ'), cidFont('STSong-Light', 'GB1', 5, 'UniGB-UCS2-H'));
  const hex = (text: string) => [...text].map((character) => character.charCodeAt(0).toString(16).padStart(4, '0')).join('');
  const operators = `BT /FJ 16 Tf 50 780 Td <${hex(japanese)}> Tj ET BT /FZ 16 Tf 50 740 Td <${hex(chinese)}> Tj ET`;
  page.node.set(PDFName.of('Contents'), context.register(context.flateStream(operators)));
  return document.save();
}

/** Lines of Helvetica text, one `drawText` per line, top down. */
export async function buildLinesPdf(lines: readonly string[]): Promise<Uint8Array> {
  const document = await PDFDocument.create();
  const font = await document.embedFont(StandardFonts.Helvetica);
  const page = document.addPage([595, 842]);
  for (const [index, line] of lines.entries()) page.drawText(line, { x: 50, y: 780 - index * 18, size: 12, font });
  return document.save();
}

/** A filled-in form (text, checkbox, dropdown, radio) with a free-text annotation and a note. */
export async function buildFormPdf(): Promise<Uint8Array> {
  const document = await PDFDocument.create();
  const font = await document.embedFont(StandardFonts.Helvetica);
  const page = document.addPage([595, 842]);
  page.drawText('Travel expense claim', { x: 50, y: 780, size: 16, font });
  const form = document.getForm();
  const name = form.createTextField('employee.name');
  name.setText('Margarethe Okonkwo');
  name.addToPage(page, { x: 50, y: 700, width: 200, height: 20 });
  const empty = form.createTextField('employee.phone');
  empty.addToPage(page, { x: 50, y: 670, width: 200, height: 20 });
  const unchecked = form.createCheckBox('urgent');
  unchecked.addToPage(page, { x: 80, y: 640, width: 12, height: 12 });
  const city = form.createDropdown('destination');
  city.addOptions(['Lisbon', 'Nairobi', 'Osaka']);
  city.select('Nairobi');
  city.addToPage(page, { x: 50, y: 600, width: 120, height: 20 });
  const transport = form.createRadioGroup('transport');
  transport.addOptionToPage('Train', page, { x: 50, y: 570, width: 12, height: 12 });
  transport.addOptionToPage('Plane', page, { x: 80, y: 570, width: 12, height: 12 });
  transport.select('Train');
  const annotation = (subtype: string, contents: string, y: number) =>
    document.context.register(
      document.context.obj({
        Type: 'Annot',
        Subtype: subtype,
        Rect: [300, y, 500, y + 40],
        Contents: PDFString.of(contents),
        DA: PDFString.of('/Helv 10 Tf 0 g'),
      }),
    );
  page.node.addAnnot(annotation('FreeText', 'Reviewer: receipts for the taxi are missing', 500));
  page.node.addAnnot(annotation('Text', 'Check the per-diem rate', 450));
  return document.save();
}

/** A PDF whose only page is a picture (a scan without a text layer). */
export async function buildImageOnlyPdf(): Promise<Uint8Array> {
  const document = await PDFDocument.create();
  const image = await document.embedPng(grayPng(64, 64));
  const page = document.addPage([200, 200]);
  page.drawImage(image, { x: 10, y: 10, width: 180, height: 180 });
  return document.save();
}

/** A minimal grayscale PNG (noise-free gradient), built with zlib. */
export function grayPng(width: number, height: number): Uint8Array {
  const raw = Buffer.alloc((width + 1) * height);
  for (let y = 0; y < height; y += 1) {
    raw[y * (width + 1)] = 0;
    for (let x = 0; x < width; x += 1) raw[y * (width + 1) + 1 + x] = (x * 4 + y) & 0xff;
  }
  const chunk = (type: string, data: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 0; // grayscale
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit += 1) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return (crc ^ 0xffffffff) >>> 0;
}
