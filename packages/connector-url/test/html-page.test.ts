// The page reader on shapes real sites have: articles beside newsletter boxes and breadcrumbs,
// data tables without <th>, highlighted code, base64 images, pages Readability finds nothing in.
import { describe, expect, it } from 'vitest';
import { readHtmlPage } from '../src/html-page.js';

const sentence = (topic: string) =>
  `The ${topic} study followed forty households through a full year of changing water prices and usage. `;
const paragraphs = (topic: string, count: number) =>
  Array.from({ length: count }, (_, index) => `<p>${sentence(`${topic} ${index}`).repeat(3)}</p>`).join('\n');

const page = (body: string) =>
  `<!doctype html><html lang="en"><head><title>Water</title></head><body>${body}</body></html>`;

describe('main content', () => {
  it('keeps the article, not the newsletter box, breadcrumb or print footer beside it', () => {
    const html = page(`
      <nav class="breadcrumbs"><a href="/">Home</a> / <a href="/news">News</a></nav>
      <div class="newsletter-signup"><h3>Newsletter</h3><p>${'Get the best stories in your inbox every morning, free, with no spam ever. '.repeat(4)}</p></div>
      <div class="content"><h1>Water prices</h1>${paragraphs('pricing', 5)}</div>
      <div class="print-footer"><p>Printed from water.example. Copyright 2026, all rights reserved worldwide. ${'Terms apply. '.repeat(10)}</p></div>`);
    const { markdown, contentSource } = readHtmlPage(html, 'https://water.example/a');
    expect(contentSource).toBe('readability');
    expect(markdown).toContain('pricing 4 study');
    expect(markdown).not.toMatch(/inbox every morning|Printed from|Home \/ News/);
  });

  it('keeps data tables as GFM tables, promoting the first row when there is no <th>', () => {
    const html = page(`<article><h1>Rivers</h1>${paragraphs('river', 3)}
      <table>
        <tr><td>River</td><td>Length (km)</td></tr>
        <tr><td>Nile</td><td>6,650</td></tr>
        <tr><td>Amazon | Solimões</td><td>6,400</td></tr>
      </table>
      <table><thead><tr><th>Year</th><th>Flow</th></tr></thead><tbody><tr><td>2025</td><td>high</td></tr></tbody></table>
      ${paragraphs('delta', 2)}</article>`);
    const { markdown } = readHtmlPage(html, 'https://rivers.example/');
    expect(markdown).toContain('| River | Length (km) |\n| --- | --- |\n| Nile | 6,650 |');
    expect(markdown).toContain('| Amazon \\| Solimões | 6,400 |');
    expect(markdown).toContain('| Year | Flow |\n| --- | --- |\n| 2025 | high |');
  });

  it('keeps code blocks fenced with their language, also a bare <pre>', () => {
    const html = page(`<main><h1>Install</h1>${paragraphs('install', 3)}
      <pre><code class="language-ts"><span class="kw">const</span> client = createClient();
if (a &lt; b) { run(); }</code></pre>
      <pre>  indented
    output</pre></main>`);
    const { markdown } = readHtmlPage(html, 'https://docs.example/');
    expect(markdown).toContain('```ts\nconst client = createClient();\nif (a < b) { run(); }\n```');
    expect(markdown).toContain('```\n  indented\n    output\n```');
  });

  it('never keeps a data: image as text: alt text and captions stay, http images keep a short link', () => {
    const base64 = 'iVBORw0KGgo'.repeat(400);
    const html = page(`<article><h1>Map</h1>${paragraphs('map', 3)}
      <figure><img src="data:image/png;base64,${base64}" alt="Map of the basin"><figcaption>Figure 2: the basin in 2025</figcaption></figure>
      <p><img src="data:image/gif;base64,${base64}"></p>
      <p><img src="https://cdn.example/photo.jpg" alt="Dam at dusk"> <img src="https://cdn.example/${'x'.repeat(300)}.jpg" alt="Long link"></p>
      <p><a href="data:text/plain;base64,${base64}">Download the data</a></p>
      ${paragraphs('basin', 2)}</article>`);
    const { markdown } = readHtmlPage(html, 'https://maps.example/');
    expect(markdown).not.toContain('data:');
    expect(markdown).not.toContain('iVBORw0KGgo');
    expect(markdown).toContain('Map of the basin');
    expect(markdown).toContain('Figure 2: the basin in 2025');
    expect(markdown).toContain('![Dam at dusk](https://cdn.example/photo.jpg)');
    expect(markdown).toContain('Long link');
    expect(markdown).not.toContain('xxxxxxxxxx');
    expect(markdown).toContain('Download the data');
  });

  it('falls back to the body without navigation, header and footer when Readability finds nothing', () => {
    const html = page(`<header><a href="/">Brand</a></header><nav><a href="/a">Menu item</a></nav>
      <div><p>Opening hours: 9 to 5.</p><p>Call 555-0100.</p></div><footer>Footer text</footer>`);
    const { markdown, contentSource } = readHtmlPage(html, 'https://shop.example/');
    expect(contentSource).toBe('body');
    expect(markdown).toBe('Opening hours: 9 to 5.\n\nCall 555-0100.');
  });

  it("uses <main> when Readability's pick is a sliver of it", () => {
    const items = Array.from(
      { length: 40 },
      (_, index) => `<li><a href="/p/${index}">Product ${index}</a> ships in ${index + 1} days</li>`,
    ).join('');
    const html = page(`<main><h1>Catalogue</h1><ul>${items}</ul></main>`);
    const { markdown } = readHtmlPage(html, 'https://shop.example/');
    expect(markdown).toContain('Product 0');
    expect(markdown).toContain('[Product 39](/p/39) ships in 40 days');
  });
});
