// Writes the fidelity corpus: each file in files/ and its expected text in expected/<name>.txt
// (`expected/<name>.refused` for scans that must be refused as needing OCR). Deterministic
// content; run again after changing the generators. Add real documents the same way.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { corpusDocuments } from './documents.ts';
import { corpusPages } from './html-pages.ts';

const root = new URL('.', import.meta.url).pathname;
for (const folder of ['files', 'expected']) {
  rmSync(join(root, folder), { recursive: true, force: true });
  mkdirSync(join(root, folder), { recursive: true });
}
for (const page of corpusPages()) {
  writeFileSync(join(root, 'files', page.name), page.html);
  writeFileSync(join(root, 'expected', `${page.name}.txt`), `${page.expected}\n`);
}
for (const document of await corpusDocuments()) {
  writeFileSync(join(root, 'files', document.name), document.bytes);
  if (document.expected === undefined)
    writeFileSync(join(root, 'expected', `${document.name}.refused`), 'needs_ocr\n');
  else writeFileSync(join(root, 'expected', `${document.name}.txt`), `${document.expected}\n`);
}
console.log(
  `wrote ${corpusPages().length} pages and ${(await corpusDocuments()).length} documents to ${root}`,
);
