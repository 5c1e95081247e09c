import type { ContentExtractor } from '@tributary/core';
import {
  createPptxExtractor as createCorePptxExtractor,
  createXlsxExtractor as createCoreXlsxExtractor,
  createDocxExtractor,
  DEFAULT_ZIP_LIMITS,
  type ZipLimits,
} from '@tributary/core/extractors';

// The office extractors and the zip-bomb guard live in @tributary/core (`builtInExtractors()`
// already holds them, guarded, for every connector). These names stay for hosts that used them.

/** Core's DOCX extractor with these zip limits (core's built-in one is guarded with the defaults). */
export function createGuardedDocxExtractor(limits: ZipLimits = DEFAULT_ZIP_LIMITS): ContentExtractor {
  return createDocxExtractor(limits);
}

/** Excel workbooks (`.xlsx`): core's zip-guarded extractor. */
export function createXlsxExtractor(limits: ZipLimits = DEFAULT_ZIP_LIMITS): ContentExtractor {
  return createCoreXlsxExtractor(limits);
}

/** PowerPoint decks (`.pptx`): core's zip-guarded extractor. */
export function createPptxExtractor(limits: ZipLimits = DEFAULT_ZIP_LIMITS): ContentExtractor {
  return createCorePptxExtractor(limits);
}

/** DOCX, XLSX and PPTX with these zip limits, to register after the built-ins. */
export function uploadExtractors(limits: ZipLimits = DEFAULT_ZIP_LIMITS): ContentExtractor[] {
  return [createGuardedDocxExtractor(limits), createXlsxExtractor(limits), createPptxExtractor(limits)];
}
