/** The parts of a PDF.js page proxy this module reads. */
export interface PdfPageLike {
  getTextContent(): Promise<{ items: Array<{ str?: string; hasEOL?: boolean }> }>;
  getAnnotations(parameters?: { intent?: string }): Promise<PdfAnnotation[]>;
}

/** The fields of PDF.js annotation data used here (see PDF.js `src/core/annotation.js`). */
interface PdfAnnotation {
  annotationType?: number;
  subtype?: string;
  fieldType?: string;
  fieldName?: string;
  alternativeText?: string;
  fieldValue?: unknown;
  exportValue?: string;
  buttonValue?: string;
  checkBox?: boolean;
  radioButton?: boolean;
  pushButton?: boolean;
  options?: Array<{ exportValue?: unknown; displayValue?: unknown }>;
  contentsObj?: { str?: string };
  titleObj?: { str?: string };
}

/**
 * One page's text from PDF.js's text items: an item marked `hasEOL` ends a line. A word split by
 * a hyphen (or a soft hyphen) at a line end, continued in lower case on the next line, is
 * rejoined (`infor-\nmation` → `information`); `Jean-\nPierre` and `2019-\n2020` stay as they are.
 */
export async function readPageText(page: PdfPageLike): Promise<string> {
  const content = await page.getTextContent();
  let text = '';
  for (const item of content.items) {
    if (typeof item.str !== 'string') continue; // Marked-content markers carry no text.
    text += item.str;
    if (item.hasEOL) text += '\n';
  }
  return rejoinHyphenatedWords(text).trim();
}

/** `exam-\nple` → `example` when a letter precedes the hyphen and a lower-case letter follows. */
export function rejoinHyphenatedWords(text: string): string {
  return text.replace(/(\p{L})[-\u00AD\u2010][ \t]*\n[ \t]*(?=\p{Ll})/gu, '$1');
}

/**
 * Filled-in form fields (`Label: value`, the label being the field's tooltip or name) and the
 * text of free-text and note annotations on a page. Empty fields, unchecked boxes and push
 * buttons say nothing and are left out; a radio group is reported once, by its chosen value.
 */
export async function readPageAnnotations(
  page: PdfPageLike,
): Promise<{ lines: string[]; formFields: number; annotations: number }> {
  const annotations = await page.getAnnotations({ intent: 'display' });
  const lines: string[] = [];
  const seenFields = new Set<string>();
  let formFields = 0;
  let notes = 0;
  for (const annotation of annotations) {
    if (annotation.subtype === 'Widget') {
      const value = fieldText(annotation);
      const label = clean(annotation.alternativeText) || clean(annotation.fieldName) || 'Field';
      if (value === '' || seenFields.has(`${label}\u0000${value}`)) continue;
      seenFields.add(`${label}\u0000${value}`);
      lines.push(`${label}: ${value}`);
      formFields += 1;
    } else if (annotation.subtype === 'FreeText' || annotation.subtype === 'Text') {
      const contents = clean(annotation.contentsObj?.str);
      if (contents === '') continue;
      lines.push(annotation.subtype === 'Text' ? `Note: ${contents}` : contents);
      notes += 1;
    }
  }
  return { lines, formFields, annotations: notes };
}

function fieldText(field: PdfAnnotation): string {
  if (field.pushButton) return '';
  const value = field.fieldValue;
  if (field.checkBox) {
    const on = typeof value === 'string' && value !== 'Off' && value === (field.exportValue ?? value);
    return on
      ? clean(field.exportValue) === 'Yes' || clean(field.exportValue) === 'On'
        ? 'Yes'
        : clean(field.exportValue)
      : '';
  }
  if (field.radioButton) {
    return typeof value === 'string' && value !== 'Off' && value === field.buttonValue ? clean(value) : '';
  }
  const values = Array.isArray(value) ? value : [value];
  const shown = values
    .filter((entry): entry is string => typeof entry === 'string' && entry.trim() !== '')
    .map((entry) => {
      // A choice field stores export values; show what the user saw.
      const option = field.options?.find((candidate) => candidate.exportValue === entry);
      return clean(typeof option?.displayValue === 'string' ? option.displayValue : entry);
    });
  return shown.join(', ');
}

function clean(text: string | undefined): string {
  return (text ?? '').replace(/\s+/g, ' ').trim();
}
