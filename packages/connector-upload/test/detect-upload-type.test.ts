// Type decisions from the bytes, without a database: what is accepted as what, and what is refused.
import { describe, expect, it } from 'vitest';
import {
  assertSafeZip,
  DEFAULT_ALLOWED_MIME_TYPES,
  detectUploadType,
  readImageSize,
  UploadRejectedError,
} from '../src/index.js';
import { makeDocx, makeDocxZipBomb, makePdf, makePng, validCorpus } from './fixtures/corpus.js';

const allowedMimeTypes = new Set(DEFAULT_ALLOWED_MIME_TYPES);
const detect = (bytes: Uint8Array, fileName: string, claimedMimeType?: string) =>
  detectUploadType({ head: bytes.subarray(0, 64 * 1024), fileName, claimedMimeType, allowedMimeTypes });

async function rejection(promise: Promise<unknown>): Promise<UploadRejectedError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(UploadRejectedError.isInstance(error)).toBe(true);
  return error as UploadRejectedError;
}

describe('detectUploadType', () => {
  it('recognises every file of the corpus as its real type', async () => {
    for (const file of validCorpus()) {
      expect((await detect(file.bytes, file.name)).mimeType, file.name).toBe(file.mimeType);
    }
  });

  it('trusts the bytes over the name within a kind, and refuses a name of another kind', async () => {
    expect(await detect(makePng(2, 2), 'photo.jpg')).toEqual({ mimeType: 'image/png', kind: 'image' });
    const pngAsPdf = await rejection(detect(makePng(2, 2), 'scan.pdf'));
    expect(pngAsPdf.reason).toBe('type_mismatch');
    expect(pngAsPdf.message).toContain('scan.pdf is named .pdf but its bytes are a .png image');
    const pdfAsDocx = await rejection(detect(makePdf('x'), 'letter.docx'));
    expect(pdfAsDocx.message).toContain('letter.docx is named .docx but its bytes are a PDF');
  });

  it('refuses executables whatever they are called, and unknown binary data', async () => {
    const exe = Buffer.alloc(512);
    exe.write('MZ');
    const asPdf = await rejection(detect(exe, 'invoice.pdf'));
    expect(asPdf.reason).toBe('type_mismatch');
    expect(asPdf.message).toContain('invoice.pdf is named .pdf but its bytes are a Windows executable');
    const asIs = await rejection(detect(exe, 'setup.exe'));
    expect(asIs.reason).toBe('type_not_allowed');
    expect(asIs.message).toContain('setup.exe is a Windows executable (application/x-msdownload)');
    const noise = await rejection(detect(Buffer.from([0, 1, 2, 3, 0, 0, 250, 251]), 'blob.bin'));
    expect(noise.message).toContain('blob.bin is binary data of no recognised format');
  });

  it('tells text types apart by extension and refuses text posing as a binary format', async () => {
    expect((await detect(Buffer.from('a,b\n1,2\n'), 'data.csv')).mimeType).toBe('text/csv');
    expect((await detect(Buffer.from('\uFEFFhello'), 'bom.txt')).mimeType).toBe('text/plain');
    expect((await detect(Buffer.from('{"a":1}'), 'upload', 'application/json')).mimeType).toBe(
      'application/json',
    );
    const textAsDocx = await rejection(detect(Buffer.from('just some text'), 'report.docx'));
    expect(textAsDocx.message).toContain('report.docx is named .docx but its bytes are plain text');
  });

  it('honours a narrower allowlist', async () => {
    const error = await detectUploadType({
      head: makePng(1, 1),
      fileName: 'logo.png',
      allowedMimeTypes: new Set(['application/pdf']),
    }).catch((e: unknown) => e);
    expect((error as UploadRejectedError).reason).toBe('type_not_allowed');
  });
});

describe('assertSafeZip and readImageSize', () => {
  it('passes a normal DOCX and refuses a zip bomb and a truncated zip', () => {
    const context = {
      fileName: 'x.docx',
      mimeType: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
    };
    expect(() => assertSafeZip(makeDocx(['hello']), context)).not.toThrow();
    expect(() => assertSafeZip(makeDocxZipBomb(64 * 1024 * 1024), context)).toThrow(/expands \d+-fold/);
    expect(() => assertSafeZip(makeDocxZipBomb(), context)).toThrow(/zip bomb/);
    const docx = makeDocx(['hello']);
    expect(() => assertSafeZip(docx.subarray(0, docx.byteLength - 30), context)).toThrow(/truncated/);
  });

  it('reads image dimensions from the header', () => {
    expect(readImageSize(makePng(7, 3), 'image/png')).toEqual({ width: 7, height: 3 });
    const corpus = Object.fromEntries(validCorpus().map((f) => [f.name, f.bytes]));
    expect(readImageSize(corpus['spinner.gif'] as Uint8Array, 'image/gif')).toEqual({
      width: 16,
      height: 16,
    });
    expect(readImageSize(corpus['banner.webp'] as Uint8Array, 'image/webp')).toEqual({
      width: 800,
      height: 200,
    });
    expect(readImageSize(corpus['photo.jpg'] as Uint8Array, 'image/jpeg')).toEqual({
      width: 640,
      height: 480,
    });
  });
});
