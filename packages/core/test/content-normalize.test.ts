import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { contentHash, normalizeText } from '../src/content/index.js';

describe('normalizeText', () => {
  it('composes Unicode to NFC', () => {
    const decomposed = 'Cafe\u0301 de\u0301ja\u0300 vu';
    expect(normalizeText(decomposed)).toBe('Café déjà vu');
    expect(normalizeText(decomposed)).toBe(normalizeText('Café déjà vu'));
  });

  it('turns CRLF, lone CR and Unicode line separators into LF', () => {
    expect(normalizeText('a\r\nb\rc\u2028d\u2029e')).toBe('a\nb\nc\nd\ne');
  });

  it('strips NULs and control characters but keeps tabs, newlines and the form-feed page break', () => {
    expect(normalizeText('he\u0000llo\u0007 wo\u001Brld\u007F\u0085!')).toBe('hello world\n!');
    expect(normalizeText('col1\tcol2\npage one\n\f\npage two')).toBe('col1\tcol2\npage one\n\f\npage two');
    expect(normalizeText('\uFEFFbom at start')).toBe('bom at start');
  });

  it('removes trailing spaces per line and collapses 3+ line breaks to one blank line', () => {
    expect(normalizeText('one   \ntwo\t\n\n\n\n\nthree \u00A0')).toBe('one\ntwo\n\nthree');
    expect(normalizeText('a\n \n \n \nb')).toBe('a\n\nb');
  });

  it('replaces lone surrogates and trims the whole text', () => {
    expect(normalizeText('  \n x\uD800y \n\n')).toBe('x\uFFFDy');
    expect(normalizeText('emoji 😀 stays')).toBe('emoji 😀 stays');
  });

  it('is idempotent', () => {
    const samples = ['  a\r\n\r\n\r\n\r\nb  \u0000', 'x\u0301\u0007\n\n\n\ny', '\tindented\n\f\nnext', ''];
    for (const sample of samples) {
      const once = normalizeText(sample);
      expect(normalizeText(once)).toBe(once);
    }
  });
});

describe('contentHash', () => {
  it('is the sha256 hex of the normalized text', () => {
    const expected = createHash('sha256').update('hello\nworld', 'utf8').digest('hex');
    expect(contentHash('hello\r\nworld   \n\n\n')).toBe(expected);
    expect(contentHash('hello\nworld')).toMatch(/^[0-9a-f]{64}$/);
  });

  it('is equal for texts that differ only in what normalization removes, different otherwise', () => {
    expect(contentHash('Cafe\u0301\r\n')).toBe(contentHash('Café'));
    expect(contentHash('Café')).not.toBe(contentHash('Cafe'));
  });
});
