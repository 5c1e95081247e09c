#!/usr/bin/env node
// Writes the corpus's PDF and DOCX files with Node built-ins only, byte for byte and
// deterministically (same output on every run and machine), so the demo needs no office suite.
// Run: node examples/corpus/generate-binaries.mjs
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32, deflateRawSync } from 'node:zlib';

const here = dirname(fileURLToPath(import.meta.url));

// ---------------------------------------------------------------------------------------------
// PDF: PDF 1.4, Helvetica (a standard font, nothing embedded), one content stream per page,
// an info dictionary, and a cross-reference table whose byte offsets are computed as we write.

/** @param {{ title: string, author: string, pages: { heading: string, paragraphs: string[] }[] }} document */
function buildPdf(document) {
  /** @type {string[]} */
  const objects = [];
  const add = (body) => objects.push(body); // returns the new object number
  const catalog = add('');
  const pagesObject = add('');
  const regular = add('<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>');
  const bold = add('<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>');
  const kids = [];
  for (const [index, page] of document.pages.entries()) {
    const lines = [
      'BT',
      '/F2 16 Tf',
      '72 720 Td',
      `(${escapePdf(page.heading)}) Tj`,
      '/F1 11 Tf',
      '15 TL',
      'T*',
    ];
    for (const paragraph of page.paragraphs) {
      lines.push('T*');
      for (const line of wrap(paragraph, 88)) lines.push(`(${escapePdf(line)}) '`);
    }
    lines.push(
      'ET',
      'BT',
      '/F1 9 Tf',
      '300 40 Td',
      `(${escapePdf(`Page ${index + 1} of ${document.pages.length}`)}) Tj`,
      'ET',
    );
    const stream = lines.join('\n');
    const content = add(`<< /Length ${Buffer.byteLength(stream, 'latin1')} >>\nstream\n${stream}\nendstream`);
    kids.push(
      add(
        `<< /Type /Page /Parent ${pagesObject} 0 R /MediaBox [0 0 612 792] ` +
          `/Resources << /Font << /F1 ${regular} 0 R /F2 ${bold} 0 R >> >> /Contents ${content} 0 R >>`,
      ),
    );
  }
  objects[catalog - 1] = `<< /Type /Catalog /Pages ${pagesObject} 0 R >>`;
  objects[pagesObject - 1] =
    `<< /Type /Pages /Kids [${kids.map((kid) => `${kid} 0 R`).join(' ')}] /Count ${kids.length} >>`;
  const info = add(
    `<< /Title (${escapePdf(document.title)}) /Author (${escapePdf(document.author)}) ` +
      '/Producer (Tributary corpus generator) /CreationDate (D:20260105090000Z) >>',
  );

  let output = '%PDF-1.4\n%\u00e2\u00e3\u00cf\u00d3\n'; // binary marker line, as writers add
  const offsets = [];
  for (const [index, body] of objects.entries()) {
    offsets.push(Buffer.byteLength(output, 'latin1'));
    output += `${index + 1} 0 obj\n${body}\nendobj\n`;
  }
  const xref = Buffer.byteLength(output, 'latin1');
  output += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const offset of offsets) output += `${String(offset).padStart(10, '0')} 00000 n \n`;
  output += `trailer\n<< /Size ${objects.length + 1} /Root ${catalog} 0 R /Info ${info} 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(output, 'latin1');
}

function escapePdf(text) {
  return text.replace(/[\\()]/g, (character) => `\\${character}`);
}

function wrap(text, width) {
  const lines = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(line);
  return lines;
}

// ---------------------------------------------------------------------------------------------
// DOCX: a zip (local headers, deflated data, central directory, end record) holding the parts
// Word requires: [Content_Types].xml, _rels/.rels, word/document.xml, plus styles and core
// properties so headings map to Heading 1/2 and the title shows in Word's properties.

/** @typedef {{ heading: 1 | 2, text: string } | { paragraph: string } | { bullet: string } | { table: string[][] }} Block */

/** @param {{ title: string, author: string, blocks: Block[] }} document */
function buildDocx(document) {
  const W = 'http://schemas.openxmlformats.org/wordprocessingml/2006/main';
  const xml = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n';
  const run = (text) => `<w:r><w:t xml:space="preserve">${escapeXml(text)}</w:t></w:r>`;
  const body = document.blocks
    .map((block) => {
      if ('heading' in block)
        return `<w:p><w:pPr><w:pStyle w:val="Heading${block.heading}"/></w:pPr>${run(block.text)}</w:p>`;
      if ('paragraph' in block) return `<w:p>${run(block.paragraph)}</w:p>`;
      if ('bullet' in block)
        return `<w:p><w:pPr><w:pStyle w:val="ListBullet"/></w:pPr>${run(`• ${block.bullet}`)}</w:p>`;
      const rows = block.table
        .map((row) => `<w:tr>${row.map((cell) => `<w:tc><w:p>${run(cell)}</w:p></w:tc>`).join('')}</w:tr>`)
        .join('');
      return `<w:tbl><w:tblPr><w:tblStyle w:val="TableGrid"/></w:tblPr>${rows}</w:tbl>`;
    })
    .join('');
  const styles = [
    ['Heading1', 'heading 1'],
    ['Heading2', 'heading 2'],
    ['ListBullet', 'List Bullet'],
  ]
    .map(([id, name]) => `<w:style w:type="paragraph" w:styleId="${id}"><w:name w:val="${name}"/></w:style>`)
    .join('');
  return buildZip([
    {
      name: '[Content_Types].xml',
      data:
        `${xml}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>' +
        '<Default Extension="xml" ContentType="application/xml"/>' +
        '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>' +
        '<Override PartName="/word/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml"/>' +
        '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>' +
        '</Types>',
    },
    {
      name: '_rels/.rels',
      data:
        `${xml}<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>' +
        '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/>' +
        '</Relationships>',
    },
    {
      name: 'docProps/core.xml',
      data:
        `${xml}<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" ` +
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" ' +
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">' +
        `<dc:title>${escapeXml(document.title)}</dc:title><dc:creator>${escapeXml(document.author)}</dc:creator>` +
        '<dcterms:created xsi:type="dcterms:W3CDTF">2026-01-05T09:00:00Z</dcterms:created></cp:coreProperties>',
    },
    {
      name: 'word/_rels/document.xml.rels',
      data:
        `${xml}<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>' +
        '</Relationships>',
    },
    { name: 'word/styles.xml', data: `${xml}<w:styles xmlns:w="${W}">${styles}</w:styles>` },
    {
      name: 'word/document.xml',
      data: `${xml}<w:document xmlns:w="${W}"><w:body>${body}</w:body></w:document>`,
    },
  ]);
}

function escapeXml(text) {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** @param {{ name: string, data: string }[]} entries */
function buildZip(entries) {
  const parts = [];
  const directory = [];
  let offset = 0;
  const dosTime = (9 << 11) | (0 << 5); // 09:00:00
  const dosDate = ((2026 - 1980) << 9) | (1 << 5) | 5; // 2026-01-05
  for (const entry of entries) {
    const name = Buffer.from(entry.name, 'utf8');
    const raw = Buffer.from(entry.data, 'utf8');
    const data = deflateRawSync(raw, { level: 9 });
    const crc = crc32(raw);
    const header = (signature, size) => {
      const buffer = Buffer.alloc(size);
      buffer.writeUInt32LE(signature, 0);
      return buffer;
    };
    const local = header(0x04034b50, 30);
    local.writeUInt16LE(20, 4); // version needed: 2.0 (deflate)
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(8, 8); // deflate
    local.writeUInt16LE(dosTime, 10);
    local.writeUInt16LE(dosDate, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(raw.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    parts.push(local, name, data);

    const central = header(0x02014b50, 46);
    central.writeUInt16LE(20, 4); // made by
    central.writeUInt16LE(20, 6); // needed
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(8, 10);
    central.writeUInt16LE(dosTime, 12);
    central.writeUInt16LE(dosDate, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(raw.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42); // local header offset
    directory.push(central, name);
    offset += local.length + name.length + data.length;
  }
  const directoryBytes = Buffer.concat(directory);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directoryBytes.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...parts, directoryBytes, end]);
}

// ---------------------------------------------------------------------------------------------
// The documents.

const files = {
  'handbook/benefits-overview.pdf': buildPdf({
    title: 'Fernhill Analytics Benefits Overview 2026',
    author: 'People Operations',
    pages: [
      {
        heading: 'Benefits Overview 2026',
        paragraphs: [
          'Fernhill Analytics offers every permanent employee the same core benefits from their first day. This overview summarises them; the plan documents in the People Operations drive are authoritative.',
          'Health cover: the company pays 100 percent of the premium for employees and 75 percent for dependants on the standard plan. Dental and vision are included. Enrolment opens on your start date and closes 30 days later.',
          'Retirement: we match pension contributions up to 5 percent of base salary. Matching starts after your first full payroll month and vests immediately.',
        ],
      },
      {
        heading: 'Time off and wellbeing',
        paragraphs: [
          'Annual leave is 27 days plus public holidays, pro rata for part-time staff. Up to 5 unused days carry over to the next year and must be taken by 31 March.',
          'Parental leave: 20 weeks at full pay for the primary caregiver and 8 weeks at full pay for the secondary caregiver, available to all parents including adoptive parents.',
          'Wellbeing budget: EUR 600 per year for gym memberships, therapy, classes or equipment. Claim it through the expense tool under the category Wellbeing.',
          'Questions go to people-ops@fernhill.example or the #ask-people channel.',
        ],
      },
    ],
  }),
  'product/fernhill-insights-datasheet.pdf': buildPdf({
    title: 'Fernhill Insights Datasheet',
    author: 'Product Marketing',
    pages: [
      {
        heading: 'Fernhill Insights: product datasheet',
        paragraphs: [
          'Fernhill Insights turns raw event data into dashboards that operations teams actually read. It connects to Postgres, BigQuery and Snowflake in minutes and refreshes every five minutes.',
          'Key features: drag-and-drop dashboards, scheduled PDF reports, anomaly alerts by email or Slack, row-level permissions mirrored from your warehouse, and an audit log of every query.',
          'Deployment: hosted in the EU (Frankfurt) or US (Oregon) regions, or self-hosted with Docker on your own infrastructure. SSO through SAML 2.0 or OpenID Connect on every plan above Starter.',
          'Limits: up to 200 dashboards per workspace, 50 million rows per query, 90 days of alert history on the Team plan and 2 years on Enterprise.',
        ],
      },
    ],
  }),
  'legal/privacy-notice.pdf': buildPdf({
    title: 'Employee Privacy Notice',
    author: 'Legal',
    pages: [
      {
        heading: 'Employee Privacy Notice',
        paragraphs: [
          'This notice explains how Fernhill Analytics processes the personal data of its employees and contractors. The data controller is Fernhill Analytics GmbH, Berlin.',
          'We process contact details, payroll and bank data, performance reviews and access logs to run the employment relationship, meet legal obligations and keep our systems secure.',
          'Access logs are kept for 12 months. Payroll records are kept for 10 years as tax law requires. You may request a copy of your data at any time from privacy@fernhill.example.',
        ],
      },
    ],
  }),
  'handbook/onboarding-checklist.docx': buildDocx({
    title: 'Onboarding checklist',
    author: 'People Operations',
    blocks: [
      { heading: 1, text: 'Onboarding checklist' },
      {
        paragraph:
          'Work through this list with your onboarding buddy during your first two weeks. Tick items off in the onboarding tracker, not in this document.',
      },
      { heading: 2, text: 'Day one' },
      { bullet: 'Collect your laptop and hardware security key from the IT desk.' },
      { bullet: 'Enable full-disk encryption and set up the password manager.' },
      { bullet: 'Join #general, #ask-it and your team channel.' },
      { heading: 2, text: 'First week' },
      { bullet: 'Complete the security awareness course (45 minutes).' },
      { bullet: 'Read the expense policy and the remote work guide.' },
      { bullet: 'Book a 30-minute intro with your manager and one with your skip-level manager.' },
      { heading: 2, text: 'Who to ask' },
      {
        table: [
          ['Topic', 'Contact', 'Channel'],
          ['Laptop, accounts, access', 'IT Helpdesk', '#ask-it'],
          ['Payroll, benefits, leave', 'People Operations', '#ask-people'],
          ['Expenses, travel', 'Finance', '#ask-finance'],
        ],
      },
    ],
  }),
  'meetings/2025-q4-board-update.docx': buildDocx({
    title: 'Q4 2025 board update',
    author: 'Office of the CEO',
    blocks: [
      { heading: 1, text: 'Q4 2025 board update' },
      {
        paragraph:
          'Fernhill Analytics closed 2025 with annual recurring revenue of EUR 8.4 million, up 46 percent year on year. Net revenue retention was 118 percent.',
      },
      { heading: 2, text: 'Highlights' },
      {
        bullet:
          'Fernhill Insights 2.4 shipped anomaly alerts; 61 percent of Team customers enabled them within a month.',
      },
      { bullet: 'The EU region in Frankfurt went live; three enterprise deals closed because of it.' },
      { bullet: 'Headcount grew from 58 to 74; engineering is now 31 people.' },
      { heading: 2, text: 'Key metrics' },
      {
        table: [
          ['Metric', 'Q3 2025', 'Q4 2025'],
          ['ARR (EUR million)', '7.6', '8.4'],
          ['Customers', '412', '455'],
          ['Gross margin', '78%', '80%'],
        ],
      },
      { heading: 2, text: 'Risks' },
      {
        paragraph:
          'Warehouse vendors are bundling basic dashboards. Our answer is depth: alerts, permissions and reporting that bundled tools do not offer.',
      },
    ],
  }),
};

for (const [relativePath, bytes] of Object.entries(files)) {
  const target = join(here, ...relativePath.split('/'));
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, bytes);
  console.log(`${relativePath}  ${bytes.length} bytes`);
}
