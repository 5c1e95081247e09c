import { access, mkdtemp, rm, symlink } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { InvalidConfigError, UnsupportedContentError } from '../errors/index.js';
import type { OcrEngine } from './ocr-engine.js';

/** The OCR packages (optional peers of @tributary/core): the engine and English language data. */
export const OCR_PACKAGES = ['tesseract.js', '@tesseract.js-data/eng'] as const;

export interface TesseractOcrOptions {
  /**
   * Tesseract language codes (`eng`, `fra`, `deu`, `chi_sim`...). Each one's data is read from
   * the npm package `@tesseract.js-data/<code>` (install it next to tesseract.js), or from
   * `langPath`. Default `['eng']`.
   */
  languages?: readonly string[] | undefined;
  /**
   * A folder holding `<code>.traineddata` or `<code>.traineddata.gz` files, read instead of the
   * `@tesseract.js-data/*` packages (e.g. a `tessdata_best` copy you ship). Never a URL.
   */
  langPath?: string | undefined;
  /**
   * The worker (a WebAssembly Tesseract in a worker thread, ~2 s to start) is kept between
   * documents and stopped after this long without work, so a CLI can exit. Default 2,000 ms.
   */
  idleTimeoutMs?: number | undefined;
}

/** An OCR engine with a worker to stop: `close()` ends it at once (it also ends itself when idle). */
export interface ClosableOcrEngine extends OcrEngine {
  close(): Promise<void>;
}

interface TesseractWorker {
  recognize(image: Buffer): Promise<{ data: { text: string } }>;
  terminate(): Promise<unknown>;
}

const LANGUAGE_CODE = /^[a-z]{3}(?:_[a-z]+)*$/i;

/**
 * OCR through tesseract.js 7 (Tesseract compiled to WebAssembly), fully offline: language data
 * comes from `@tesseract.js-data/<code>` packages (the LSTM `4.0.0_best_int` models, the ones
 * tesseract.js itself would download) or a local folder, is read from disk (tesseract.js is
 * always given a local `langPath`, so it never fetches from its CDN) and is never copied to a
 * cache file. One worker serves every
 * document in turn: OCR is CPU-bound, and two workers on a small machine only contend.
 *
 * @example
 * documentExtractors({ ocr: { languages: ['eng', 'fra'] } }); // npm install tesseract.js @tesseract.js-data/eng @tesseract.js-data/fra @napi-rs/canvas
 */
export function createTesseractOcr(options: TesseractOcrOptions = {}): ClosableOcrEngine {
  const languages = [...(options.languages ?? ['eng'])];
  if (languages.length === 0) {
    throw new InvalidConfigError({
      subject: 'extractor options',
      issues: [{ fieldPath: 'ocr.languages', message: 'OCR needs at least one language' }],
      hint: "Pass ocr: { languages: ['eng'] } (a Tesseract language code per installed @tesseract.js-data package)",
    });
  }
  for (const code of languages) {
    if (!LANGUAGE_CODE.test(code)) {
      throw new InvalidConfigError({
        subject: 'extractor options',
        issues: [{ fieldPath: 'ocr.languages', message: `"${code}" is not a Tesseract language code` }],
        hint: 'Use codes such as eng, fra, deu, spa, chi_sim, jpn (the names of the @tesseract.js-data packages)',
      });
    }
  }
  const idleTimeoutMs = options.idleTimeoutMs ?? 2_000;
  let worker: Promise<TesseractWorker> | undefined;
  let idleTimer: NodeJS.Timeout | undefined;
  let busy = 0;
  // One image at a time: the worker queues jobs anyway, and this keeps the idle timer honest.
  let queue: Promise<unknown> = Promise.resolve();

  const stop = async (): Promise<void> => {
    if (idleTimer) clearTimeout(idleTimer);
    idleTimer = undefined;
    const current = worker;
    worker = undefined;
    if (current) await (await current.catch(() => undefined))?.terminate();
  };

  const recognizeOne = async (bytes: Uint8Array): Promise<string> => {
    if (idleTimer) clearTimeout(idleTimer);
    busy += 1;
    try {
      worker ??= startWorker(languages, options.langPath).catch((error: unknown) => {
        worker = undefined; // A later document retries (e.g. after the host installs a package).
        throw error;
      });
      const { data } = await (await worker).recognize(
        Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
      );
      return data.text;
    } finally {
      busy -= 1;
      if (busy === 0 && worker) idleTimer = setTimeout(() => void stop(), idleTimeoutMs);
    }
  };

  return {
    name: `tesseract:${languages.join('+')}`,
    recognize: ({ bytes }) => {
      const result = queue.then(() => recognizeOne(bytes));
      queue = result.catch(() => undefined);
      return result;
    },
    close: stop,
  };
}

async function startWorker(languages: string[], langPath: string | undefined): Promise<TesseractWorker> {
  const require = createRequire(import.meta.url);
  let tesseract: typeof import('tesseract.js');
  try {
    const loaded = (await import('tesseract.js')) as typeof import('tesseract.js') & {
      default?: typeof import('tesseract.js');
    };
    tesseract = loaded.default ?? loaded;
  } catch (error) {
    throw missing(['tesseract.js'], error);
  }
  const files = await Promise.all(languages.map((code) => findLanguageFile(require, code, langPath)));
  // tesseract.js reads `<langPath>/<code>.traineddata.gz` from disk when langPath is a local
  // folder (gunzipping only when the bytes are gzip), so it never downloads. Languages from
  // several packages live in several folders: link them into one temporary folder.
  const folders = new Set(files.map((file) => path.dirname(file)));
  const sameNames = files.every(
    (file, index) => path.basename(file) === `${languages[index]}.traineddata.gz`,
  );
  let folder = [...folders][0] ?? '';
  let temporary: string | undefined;
  if (folders.size > 1 || !sameNames) {
    temporary = await mkdtemp(path.join(tmpdir(), 'tributary-ocr-'));
    folder = temporary;
    await Promise.all(
      files.map((file, index) =>
        symlink(file, path.join(temporary as string, `${languages[index]}.traineddata.gz`)),
      ),
    );
  }
  try {
    // cacheMethod 'none': no copy of the language data is written next to the process.
    return (await tesseract.createWorker(languages, tesseract.OEM.LSTM_ONLY, {
      langPath: folder,
      gzip: true,
      cacheMethod: 'none',
    })) as unknown as TesseractWorker;
  } finally {
    if (temporary) await rm(temporary, { recursive: true, force: true });
  }
}

async function findLanguageFile(
  require: NodeJS.Require,
  code: string,
  langPath: string | undefined,
): Promise<string> {
  if (langPath) {
    for (const file of [`${code}.traineddata.gz`, `${code}.traineddata`]) {
      const candidate = path.resolve(langPath, file);
      if (await exists(candidate)) return candidate;
    }
    throw new UnsupportedContentError({
      reason: 'missing_parser',
      message: `cannot run OCR: no ${code}.traineddata(.gz) in ${langPath}`,
      hint: `Put the Tesseract language file there, or drop langPath and npm install @tesseract.js-data/${code}`,
    });
  }
  const packageName = `@tesseract.js-data/${code}`;
  let folder: string;
  try {
    folder = path.dirname(require.resolve(`${packageName}/package.json`));
  } catch (error) {
    throw missing([packageName], error);
  }
  // `4.0.0_best_int` holds the LSTM-only models (what tesseract.js itself would download);
  // `4.0.0` adds the legacy engine and is four times larger.
  return path.join(folder, '4.0.0_best_int', `${code}.traineddata.gz`);
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}

function missing(packages: string[], cause: unknown): UnsupportedContentError {
  return new UnsupportedContentError({
    reason: 'missing_parser',
    message: `cannot run OCR: the optional package ${packages.join(' + ')} is not installed`,
    hint: `Install it next to @tributary/core (npm install ${packages.join(' ')}) and sync again, or turn OCR off`,
    cause,
  });
}
