// Office documents, PDFs and transcripts shaped like the ones teams keep: a report with a table,
// a hyphenated PDF, Japanese and Chinese PDFs in Adobe's non-embedded CID fonts (what Japanese
// and Chinese office software writes), a filled-in form with reviewer annotations, a slide deck,
// a workbook, a meeting transcript, and two scans (image-only PDF and DOCX) that must be refused.
import { deflateSync } from 'node:zlib';
import {
  Document,
  HeadingLevel,
  ImageRun,
  Packer,
  Paragraph,
  Table,
  TableCell,
  TableRow,
  TextRun,
} from 'docx';
import ExcelJS from 'exceljs';
import { PDFDocument, PDFName, PDFString, StandardFonts } from 'pdf-lib';
import PptxGenJS from 'pptxgenjs';

export interface CorpusDocument {
  name: string;
  bytes: Uint8Array;
  /** Expected text; `undefined` when the file must be refused (a scan). */
  expected: string | undefined;
}

const REPORT = [
  'Quarterly operations report',
  'Water losses in the network fell to 11.2 percent in the third quarter, the lowest figure since metering began, after 38 kilometres of cast-iron mains were replaced.',
  'The leak detection team found and repaired 412 hidden leaks, most of them in the older districts north of the river, using acoustic loggers mounted on hydrants.',
];
const REPORT_TABLE = [
  ['District', 'Leaks repaired', 'Loss rate'],
  ['Northgate', '164', '13.8%'],
  ['Riverside', '121', '10.9%'],
  ['Old Town', '127', '12.4%'],
];

async function docxReport(): Promise<CorpusDocument> {
  const document = new Document({
    sections: [
      {
        children: [
          new Paragraph({ text: REPORT[0], heading: HeadingLevel.HEADING_1 }),
          new Paragraph({ children: [new TextRun(REPORT[1] as string)] }),
          new Table({
            rows: REPORT_TABLE.map(
              (row) =>
                new TableRow({
                  children: row.map((cell) => new TableCell({ children: [new Paragraph(cell)] })),
                }),
            ),
          }),
          new Paragraph({ text: 'Next steps', heading: HeadingLevel.HEADING_2 }),
          new Paragraph({ text: REPORT[2], bullet: { level: 0 } }),
        ],
      },
    ],
  });
  return {
    name: 'report.docx',
    bytes: new Uint8Array(await Packer.toBuffer(document)),
    expected: [
      REPORT[0],
      REPORT[1],
      REPORT_TABLE.map((row) => row.join(' ')).join('\n'),
      'Next steps',
      REPORT[2],
    ].join('\n\n'),
  };
}

async function imageOnlyDocx(): Promise<CorpusDocument> {
  const image = new ImageRun({
    type: 'png',
    data: grayPng(48, 48),
    transformation: { width: 400, height: 560 },
  });
  const document = new Document({ sections: [{ children: [new Paragraph({ children: [image] })] }] });
  return {
    name: 'scanned-letter.docx',
    bytes: new Uint8Array(await Packer.toBuffer(document)),
    expected: undefined,
  };
}

/** A two-page report whose lines end in hyphenated words, as justified PDF text does. */
async function hyphenatedPdf(): Promise<CorpusDocument> {
  const lines = [
    [
      'Annual maintenance summary',
      'The maintenance programme covered every pumping sta-',
      'tion in the region. Crews inspected 96 pumps, replaced',
      'bearings in 31 of them and rewound four motors whose insu-',
      'lation had failed. The average age of the installed equip-',
      'ment is now 14 years.',
    ],
    [
      'Budget',
      'Spending stayed within the approved budget. The largest',
      'single item was the refurbishment of the Northgate reser-',
      'voir inlet, which cost 1.9 million euros.',
    ],
  ];
  const document = await PDFDocument.create();
  const font = await document.embedFont(StandardFonts.Helvetica);
  for (const pageLines of lines) {
    const page = document.addPage([595, 842]);
    for (const [index, line] of pageLines.entries())
      page.drawText(line, { x: 50, y: 780 - index * 18, size: 12, font });
  }
  document.setTitle('Annual maintenance summary');
  const expected = lines.map((pageLines) => pageLines.join('\n').replace(/-\n(?=[a-z])/g, '')).join('\n\n');
  return { name: 'maintenance-hyphenated.pdf', bytes: await document.save(), expected };
}

async function cjkPdf(name: string, lines: string[], ordering: 'Japan1' | 'GB1'): Promise<CorpusDocument> {
  const document = await PDFDocument.create();
  const context = document.context;
  const [base, supplement, encoding] =
    ordering === 'Japan1' ? ['KozMinPr6N-Regular', 6, 'UniJIS-UCS2-H'] : ['STSong-Light', 5, 'UniGB-UCS2-H'];
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
      CIDSystemInfo: {
        Registry: PDFString.of('Adobe'),
        Ordering: PDFString.of(ordering),
        Supplement: supplement,
      },
      FontDescriptor: descriptor,
      DW: 1000,
    }),
  );
  const font = context.register(
    context.obj({
      Type: 'Font',
      Subtype: 'Type0',
      BaseFont: `${base}-${encoding}`,
      Encoding: encoding,
      DescendantFonts: [descendant],
    }),
  );
  const page = document.addPage([595, 842]);
  page.node.setFontDictionary(PDFName.of('F1'), font);
  const hex = (text: string) =>
    [...text].map((character) => character.charCodeAt(0).toString(16).padStart(4, '0')).join('');
  const operators = lines
    .map((line, index) => `BT /F1 14 Tf 50 ${780 - index * 24} Td <${hex(line)}> Tj ET`)
    .join('\n');
  page.node.set(PDFName.of('Contents'), context.register(context.flateStream(operators)));
  return { name, bytes: await document.save(), expected: lines.join('\n') };
}

async function formPdf(): Promise<CorpusDocument> {
  const document = await PDFDocument.create();
  const font = await document.embedFont(StandardFonts.Helvetica);
  const page = document.addPage([595, 842]);
  page.drawText('Site inspection form', { x: 50, y: 780, size: 16, font });
  page.drawText('Complete every field before submitting.', { x: 50, y: 755, size: 11, font });
  const form = document.getForm();
  const fields: [string, string][] = [
    ['Inspector', 'Tomasz Wierzbicki'],
    ['Site', 'Northgate pumping station'],
    ['Findings', 'Corrosion on the inlet valve flange'],
  ];
  fields.forEach(([label, value], index) => {
    const field = form.createTextField(label);
    field.setText(value);
    field.addToPage(page, { x: 150, y: 700 - index * 30, width: 300, height: 20 });
    page.drawText(`${label}:`, { x: 50, y: 705 - index * 30, size: 11, font });
  });
  const priority = form.createDropdown('Priority');
  priority.addOptions(['Low', 'Medium', 'High']);
  priority.select('High');
  priority.addToPage(page, { x: 150, y: 600, width: 100, height: 20 });
  page.drawText('Priority:', { x: 50, y: 605, size: 11, font });
  page.node.addAnnot(
    document.context.register(
      document.context.obj({
        Type: 'Annot',
        Subtype: 'FreeText',
        Rect: [300, 500, 550, 540],
        Contents: PDFString.of('Supervisor: schedule the valve replacement this week'),
        DA: PDFString.of('/Helv 10 Tf 0 g'),
      }),
    ),
  );
  const expected = [
    'Site inspection form',
    'Complete every field before submitting.',
    ...fields.map(([label]) => `${label}:`),
    'Priority:',
    ...fields.map(([label, value]) => `${label}: ${value}`),
    'Priority: High',
    'Supervisor: schedule the valve replacement this week',
  ].join('\n');
  return { name: 'inspection-form.pdf', bytes: await document.save(), expected };
}

async function imageOnlyPdf(): Promise<CorpusDocument> {
  const document = await PDFDocument.create();
  const image = await document.embedPng(grayPng(64, 64));
  const page = document.addPage([595, 842]);
  page.drawImage(image, { x: 40, y: 40, width: 515, height: 760 });
  return { name: 'scanned-invoice.pdf', bytes: await document.save(), expected: undefined };
}

async function deck(): Promise<CorpusDocument> {
  const pptx = new PptxGenJS();
  const slides: [string, string[]][] = [
    ['Network renewal 2027', ['Replace 45 km of cast-iron mains', 'Cut losses below 10 percent']],
    ['Funding', ['National infrastructure fund: 60 percent', 'Tariff increase of 2.5 percent']],
    ['Risks', ['Supply chain delays for ductile iron pipe', 'Traffic disruption in the Old Town']],
  ];
  for (const [title, bullets] of slides) {
    const slide = pptx.addSlide();
    slide.addText(title, { x: 0.5, y: 0.4, w: 9, h: 1, fontSize: 28 });
    slide.addText(
      bullets.map((text) => ({ text, options: { bullet: true } })),
      { x: 0.5, y: 1.6, w: 9, h: 3, fontSize: 18 },
    );
  }
  const bytes = (await pptx.write({ outputType: 'nodebuffer' })) as Buffer;
  return {
    name: 'renewal-deck.pptx',
    bytes: new Uint8Array(bytes),
    expected: slides.map(([title, bullets]) => [title, ...bullets].join('\n')).join('\n\n'),
  };
}

async function workbook(): Promise<CorpusDocument> {
  const book = new ExcelJS.Workbook();
  const rows = [
    ['Station', 'Pumps', 'Age (years)', 'Status'],
    ['Northgate', 6, 21, 'Refurbish'],
    ['Riverside', 4, 9, 'Good'],
    ['Hillcrest', 3, 14, 'Monitor'],
  ];
  const sheet = book.addWorksheet('Stations');
  for (const row of rows) sheet.addRow(row);
  const budget = book.addWorksheet('Budget');
  const budgetRows = [
    ['Item', 'Cost (EUR)'],
    ['Inlet refurbishment', 1900000],
    ['Pump bearings', 240000],
  ];
  for (const row of budgetRows) budget.addRow(row);
  const bytes = await book.xlsx.writeBuffer();
  return {
    name: 'stations.xlsx',
    bytes: new Uint8Array(bytes as ArrayBuffer),
    expected: [...rows, ...budgetRows].map((row) => row.join(' ')).join('\n'),
  };
}

function transcript(): CorpusDocument {
  const cues: [string, string, string][] = [
    ['00:00:01.000', 'Amara Osei', 'Good morning everyone, let us start with the leak figures.'],
    [
      '00:00:06.500',
      'Jonas Berg',
      'We repaired four hundred and twelve leaks this quarter, mostly in Northgate.',
    ],
    ['00:00:13.000', 'Amara Osei', 'That is <b>excellent</b>. What about the acoustic loggers?'],
    ['00:00:18.200', 'Jonas Berg', 'All sixty loggers are installed &amp; reporting every night.'],
  ];
  const body = cues
    .map(([start, speaker, text], index) => {
      const end = cues[index + 1]?.[0] ?? '00:00:25.000';
      return `${index + 1}\n${start} --> ${end}\n<v ${speaker}>${text}</v>`;
    })
    .join('\n\n');
  const vtt = `WEBVTT\n\nNOTE recorded by the meeting service\n\n${body}\n`;
  return {
    name: 'ops-meeting.vtt',
    bytes: new TextEncoder().encode(vtt),
    expected: cues
      .map(([, speaker, text]) => `${speaker}: ${text.replace(/<[^>]+>/g, '').replace('&amp;', '&')}`)
      .join('\n'),
  };
}

export async function corpusDocuments(): Promise<CorpusDocument[]> {
  return [
    await docxReport(),
    await imageOnlyDocx(),
    await hyphenatedPdf(),
    await cjkPdf(
      'japanese-notice.pdf',
      [
        '給水停止のお知らせ',
        '三月十日の午前九時から午後三時まで、北門地区で断水します。',
        'ご不便をおかけしますが、ご理解をお願いいたします。',
      ],
      'Japan1',
    ),
    await cjkPdf(
      'chinese-notice.pdf',
      ['停水通知', '三月十日上午九点至下午三点，北门地区将暂停供水。', '给您带来不便，敬请谅解。'],
      'GB1',
    ),
    await formPdf(),
    await imageOnlyPdf(),
    await deck(),
    await workbook(),
    transcript(),
  ];
}

/** A minimal grayscale PNG (a gradient), built with zlib. */
function grayPng(width: number, height: number): Uint8Array {
  const raw = Buffer.alloc((width + 1) * height);
  for (let y = 0; y < height; y += 1)
    for (let x = 0; x < width; x += 1) raw[y * (width + 1) + 1 + x] = (x * 4 + y) & 0xff;
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
  header[8] = 8;
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
