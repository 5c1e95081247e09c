import { createRequire } from 'node:module';
import { UnsupportedContentError } from '../errors/index.js';
import type { ExtractorInput } from './content-extractor.js';

/**
 * Imports a document parser that is an optional peer dependency of `@tributary/core` (unpdf,
 * mammoth, officeparser...). Hosts that never see that format (a Notion-only app) do not install
 * it; when a document of that format does arrive, the document fails with a typed
 * `UnsupportedContentError` (`reason: 'missing_parser'`) that names the packages to install,
 * instead of a raw "Cannot find module".
 */
export async function importOptionalParser<T>(
  packages: readonly string[],
  load: () => Promise<T>,
  input: Pick<ExtractorInput, 'fileName' | 'mimeType' | 'label'>,
): Promise<T> {
  try {
    return await load();
  } catch (error) {
    if (!isModuleNotFound(error, packages)) throw error;
    throw new UnsupportedContentError({
      reason: 'missing_parser',
      fileName: input.fileName,
      mimeType: input.mimeType,
      message: `cannot extract text from ${input.label}: the optional parser package ${packages.join(' + ')} is not installed`,
      hint: `Install it next to @tributary/core (npm install ${packages.join(' ')}) and sync again`,
      cause: error,
    });
  }
}

function isModuleNotFound(error: unknown, packages: readonly string[]): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  return (
    (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') &&
    packages.some((name) => message.includes(name))
  );
}

let pdfAssets: { cMapUrl: string; standardFontDataUrl: string } | null | undefined;

/**
 * Where PDF.js finds its character maps (CJK text in non-embedded fonts needs them) and the
 * standard 14 fonts: the `cmaps/` and `standard_fonts/` folders that ship in `pdfjs-dist`.
 * `null` when pdfjs-dist is not installed (PDF.js then still reads Latin text with embedded fonts).
 */
export function resolvePdfAssets(): { cMapUrl: string; standardFontDataUrl: string } | null {
  if (pdfAssets !== undefined) return pdfAssets;
  try {
    const packageJson = createRequire(import.meta.url).resolve('pdfjs-dist/package.json');
    const base = packageJson.slice(0, -'package.json'.length);
    pdfAssets = { cMapUrl: `${base}cmaps/`, standardFontDataUrl: `${base}standard_fonts/` };
  } catch {
    pdfAssets = null;
  }
  return pdfAssets;
}
