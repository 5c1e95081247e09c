// Property-based fuzzing (fast-check, bounded runs) of the URL connector's parsers: the URL
// normaliser, the cursor decoder, the address policy and the page reader. Every input ends in a
// value, never a throw or a hang. bench/fuzz.ts runs the same properties for longer.
import { silentLogger } from '@tributary/core';
import fc from 'fast-check';
import ipaddr from 'ipaddr.js';
import { describe, expect, it } from 'vitest';
import { unsafeAddressReason } from '../src/address-policy.js';
import { canonicalizeUrl } from '../src/canonical-url.js';
import { readHtmlPage } from '../src/html-page.js';
import { cursorOf, parseCursor } from '../src/url-cursor.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 100);

const urlish = fc.oneof(
  fc.webUrl({ withQueryParameters: true, withFragments: true }),
  fc.string({ maxLength: 120 }),
  fc.string({ unit: 'binary', maxLength: 60 }).map((tail) => `https://example.com/${tail}`),
  fc.constantFrom(
    'http://[::1]/',
    'https://a.b/c?utm_source=x&b=2&a=1#f',
    'javascript:alert(1)',
    '//x',
    '?q',
    '#',
  ),
);

describe('canonicalizeUrl under fuzzing', () => {
  it('never throws; its output is an http(s) URL and a fixed point', () => {
    fc.assert(
      fc.property(urlish, fc.option(fc.webUrl(), { nil: undefined }), (input, base) => {
        const canonical = canonicalizeUrl(input, base);
        if (canonical === undefined) return;
        expect(canonical).toMatch(/^https?:\/\//);
        expect(canonicalizeUrl(canonical)).toBe(canonical);
        expect(canonical).not.toContain('#');
      }),
      { numRuns: RUNS * 5 },
    );
  });
});

describe('parseCursor under fuzzing', () => {
  it('decodes any JSON value into a map without throwing', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), (value) => {
        expect(parseCursor(value as never, silentLogger)).toBeInstanceOf(Map);
      }),
      { numRuns: RUNS * 5 },
    );
  });

  it('round-trips cursors it wrote, also after random damage to them', () => {
    const state = fc.record({
      id: fc.webUrl(),
      title: fc.string({ maxLength: 30 }),
      mediaType: fc.constantFrom('text/html', 'application/pdf'),
      etag: fc.option(fc.string({ maxLength: 20 }), { nil: undefined }),
      links: fc.option(fc.array(fc.webUrl(), { maxLength: 3 }), { nil: undefined }),
    });
    fc.assert(
      fc.property(
        fc.dictionary(fc.webUrl(), state, { maxKeys: 5 }),
        fc.jsonValue({ maxDepth: 2 }),
        fc.nat(),
        (pages, junk, slot) => {
          const map = new Map(
            Object.entries(pages).map(([key, value]) => [key, JSON.parse(JSON.stringify(value))]),
          );
          const cursor = cursorOf(map) as { pages: unknown[] };
          expect(parseCursor(cursor as never, silentLogger).size).toBe(map.size);
          if (cursor.pages.length > 0) cursor.pages[slot % cursor.pages.length] = junk;
          expect(parseCursor(cursor as never, silentLogger).size).toBeLessThanOrEqual(map.size);
        },
      ),
      { numRuns: RUNS * 2 },
    );
  });
});

describe('unsafeAddressReason under fuzzing', () => {
  it('never throws, and only global unicast IPv6 inside 2000::/3 is ever public', () => {
    const global = ipaddr.parseCIDR('2000::/3');
    fc.assert(
      fc.property(
        fc.oneof(fc.ipV6(), fc.ipV4(), fc.ipV4Extended(), fc.string({ maxLength: 45 })),
        (address) => {
          const reason = unsafeAddressReason(address);
          if (reason !== undefined || !ipaddr.IPv6.isValid(address)) return;
          const parsed = ipaddr.IPv6.parse(new URL(`http://[${address}]/`).hostname.slice(1, -1));
          const mapped = parsed.isIPv4MappedAddress();
          expect(mapped || parsed.match(global as [ipaddr.IPv6, number]), address).toBe(true);
        },
      ),
      { numRuns: RUNS * 10 },
    );
  });
});

describe('readHtmlPage under fuzzing', () => {
  const tag = fc.constantFrom(
    'p',
    'div',
    'table',
    'tr',
    'td',
    'th',
    'pre',
    'code',
    'img',
    'a',
    'main',
    'article',
    'nav',
    'script',
    'figure',
    'ul',
    'li',
  );
  const node: fc.Arbitrary<string> = fc.letrec((tie) => ({
    node: fc.oneof(
      { depthSize: 'small' },
      fc.string({ maxLength: 40 }),
      fc
        .tuple(tag, fc.array(tie('node'), { maxLength: 4 }), fc.string({ maxLength: 30 }))
        .map(
          ([name, children, attribute]) =>
            `<${name} class="${attribute}" src="data:image/png;base64,${'A'.repeat(80)}">${children.join('')}</${name}>`,
        ),
    ),
  })).node as fc.Arbitrary<string>;

  it('reads any markup into a page without throwing or keeping data: URIs', () => {
    fc.assert(
      fc.property(fc.oneof(node, fc.string({ unit: 'binary', maxLength: 300 })), (html) => {
        const page = readHtmlPage(`<html><body>${html}</body></html>`, 'https://example.com/');
        expect(typeof page.markdown).toBe('string');
        expect(page.markdown).not.toMatch(/data:image\/png;base64,A{64,}/);
      }),
      { numRuns: RUNS * 2 },
    );
  });
});
