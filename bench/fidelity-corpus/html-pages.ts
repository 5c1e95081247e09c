// Web pages shaped like real sites (news, docs, blog, shop, wiki, forum): the content a reader
// came for, wrapped in the chrome real sites put around it. `expected` is the content only.

export interface CorpusPage {
  name: string;
  html: string;
  expected: string;
}

const cookieBanner = `<div class="cookie-consent" role="dialog"><p>We use cookies to improve your experience. By continuing to browse you accept our cookie policy and the processing of your data by our partners.</p><button>Accept all</button></div>`;
const siteHeader = (site: string) =>
  `<header class="site-header"><a href="/" class="logo">${site}</a><nav><ul><li><a href="/news">News</a></li><li><a href="/sport">Sport</a></li><li><a href="/culture">Culture</a></li><li><a href="/opinion">Opinion</a></li><li><a href="/subscribe">Subscribe</a></li></ul></nav></header>`;
const siteFooter = (site: string) =>
  `<footer class="site-footer"><p>© 2026 ${site} Media Group. All rights reserved.</p><ul><li><a href="/terms">Terms of use</a></li><li><a href="/privacy">Privacy policy</a></li><li><a href="/contact">Contact us</a></li><li><a href="/careers">Careers</a></li></ul></footer>`;
const newsletter = `<div class="newsletter-box"><h3>Get the morning briefing</h3><p>Sign up for our free newsletter and receive the most important stories of the day in your inbox every morning before breakfast, curated by our editors, with no advertising and no tracking pixels. Unsubscribe at any time with a single click from any email you receive from us.</p><form><input type="email" placeholder="you@example.com"><button>Sign up</button></form></div>`;

function news(): CorpusPage {
  const paragraphs = [
    'The regional water authority approved a plan on Tuesday to rebuild the Harwick reservoir dam, ending three years of debate over how to secure drinking water for 400,000 residents.',
    'Engineers found in 2023 that the concrete spillway had cracked along two joints, and emergency repairs have since limited the reservoir to sixty percent of its capacity during the winter months.',
    'The approved design replaces the spillway entirely and raises the crest by one and a half metres, which the authority says will restore full capacity and withstand a thousand-year flood.',
    'Construction is expected to begin next spring and to last four years. The authority estimates the cost at 212 million euros, two thirds of which will come from a national infrastructure fund.',
    'Residents of the villages downstream welcomed the decision but asked for a clear evacuation plan during the works. A public meeting is scheduled for the first week of March in the Harwick community hall.',
    'Opposition councillors criticised the timeline, arguing that a smaller repair could have been finished within eighteen months at a third of the price, while keeping the reservoir in service.',
  ];
  const html = `<!doctype html><html lang="en"><head><title>Harwick dam to be rebuilt after years of debate | The Valley Courier</title></head><body>
${cookieBanner}${siteHeader('The Valley Courier')}
<nav class="breadcrumbs" aria-label="Breadcrumb"><a href="/">Home</a> › <a href="/news">News</a> › <a href="/news/region">Region</a></nav>
<div class="layout"><div class="content">
<h1>Harwick dam to be rebuilt after years of debate</h1>
<p class="byline">By Irene Castellanos · 14 January 2026</p>
${paragraphs
  .slice(0, 3)
  .map((text) => `<p>${text}</p>`)
  .join('\n')}
${newsletter}
${paragraphs
  .slice(3)
  .map((text) => `<p>${text}</p>`)
  .join('\n')}
</div>
<aside class="related"><h3>Most read</h3><ol><li><a href="/a">Storm closes coastal road for the weekend</a></li><li><a href="/b">Local bakery wins national award</a></li><li><a href="/c">School budget vote delayed again</a></li></ol></aside>
</div>
<div class="print-footer"><p>Printed from valleycourier.example on 14 January 2026. This article is copyright The Valley Courier and may not be reproduced without permission.</p></div>
${siteFooter('The Valley Courier')}</body></html>`;
  return {
    name: 'news-article.html',
    html,
    expected: [
      'Harwick dam to be rebuilt after years of debate',
      'By Irene Castellanos · 14 January 2026',
      ...paragraphs,
    ].join('\n\n'),
  };
}

function docs(): CorpusPage {
  const intro =
    'The client retries requests that fail with a network error or a retryable status, waiting longer after each attempt. Configure the policy once when you create the client; every call made through it follows the same rules.';
  const code = `import { createClient } from '@acme/storage';

const client = createClient({
  retries: 5,
  backoff: { initialMs: 200, maxMs: 10_000 },
});
await client.upload('reports/q3.pdf', bytes);`;
  const rows = [
    ['Option', 'Type', 'Default', 'Meaning'],
    ['retries', 'number', '3', 'Attempts after the first one'],
    ['initialMs', 'number', '100', 'Wait before the first retry'],
    ['maxMs', 'number', '30000', 'Longest wait between two attempts'],
  ];
  const after =
    'A request that still fails after the last attempt rejects with a RetryError carrying every attempt, so you can log what happened. Requests that are not idempotent, such as creating a bucket, are never retried unless you pass an idempotency key.';
  const html = `<!doctype html><html lang="en"><head><title>Retries · Acme Storage docs</title></head><body>
${siteHeader('Acme Storage')}
<div class="docs"><nav class="sidebar" role="navigation"><ul>${['Getting started', 'Authentication', 'Uploads', 'Retries', 'Webhooks', 'Limits', 'Changelog'].map((item) => `<li><a href="/docs/${item}">${item}</a></li>`).join('')}</ul></nav>
<main><h1>Retries</h1><p>${intro}</p>
<div class="highlight"><pre><code class="language-ts"><span class="k">import</span> { createClient } <span class="k">from</span> <span class="s">'@acme/storage'</span>;

<span class="k">const</span> client = createClient({
  retries: <span class="n">5</span>,
  backoff: { initialMs: <span class="n">200</span>, maxMs: <span class="n">10_000</span> },
});
<span class="k">await</span> client.upload(<span class="s">'reports/q3.pdf'</span>, bytes);</code></pre></div>
<h2>Options</h2>
<table class="params"><tbody>${rows.map((row) => `<tr>${row.map((cell) => `<td>${cell}</td>`).join('')}</tr>`).join('')}</tbody></table>
<h2>When retries end</h2><p>${after}</p>
<div class="feedback"><p>Was this page helpful?</p><button>Yes</button><button>No</button></div>
</main></div>${siteFooter('Acme Storage')}</body></html>`;
  return {
    name: 'docs-page.html',
    html,
    expected: [
      'Retries',
      intro,
      code,
      'Options',
      rows.map((row) => row.join(' ')).join('\n'),
      'When retries end',
      after,
    ].join('\n\n'),
  };
}

function blog(): CorpusPage {
  const base64 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk'.repeat(300);
  const paragraphs = [
    'Last autumn we moved our sourdough starter from a warm kitchen shelf to the cellar, and the bread changed more than we expected.',
    'At fourteen degrees the starter rises slowly, over twelve hours instead of five, and the loaves come out more sour with a thicker, darker crust.',
    'We now feed it once a day with equal weights of rye flour and water, and take it upstairs the evening before a bake so that it is lively by morning.',
    'If your kitchen is warm in summer, the cellar trick works the other way round: it keeps the starter from exhausting itself between feeds.',
  ];
  const html = `<!doctype html><html lang="en"><head><title>What the cellar did to our sourdough — Crumb & Crust</title></head><body>
${siteHeader('Crumb & Crust')}
<article class="post"><h1>What the cellar did to our sourdough</h1>
<p>${paragraphs[0]}</p>
<figure><img src="data:image/png;base64,${base64}" alt="Two loaves side by side, the cellar loaf darker"><figcaption>The kitchen loaf (left) and the cellar loaf (right).</figcaption></figure>
<p>${paragraphs[1]}</p>
<p><img src="data:image/jpeg;base64,${base64}"></p>
<p>${paragraphs[2]}</p>
<p>${paragraphs[3]}</p>
<div class="share-buttons"><a href="#">Share on Facebook</a> <a href="#">Share on X</a> <a href="#">Pin it</a></div>
</article>
<section class="comments"><h3>3 comments</h3><div class="comment"><p>Great tip, thanks!</p></div></section>
${siteFooter('Crumb & Crust')}</body></html>`;
  return {
    name: 'blog-inline-images.html',
    html,
    expected: [
      'What the cellar did to our sourdough',
      paragraphs[0],
      'Two loaves side by side, the cellar loaf darker',
      'The kitchen loaf (left) and the cellar loaf (right).',
      ...paragraphs.slice(1),
    ].join('\n\n'),
  };
}

function product(): CorpusPage {
  const description =
    'A two-person tent for three seasons, with a single pole and a vestibule large enough for two packs.';
  const specs = [
    ['Weight', '1.4 kg'],
    ['Packed size', '45 × 15 cm'],
    ['Floor area', '2.9 m²'],
    ['Water column', '3000 mm'],
  ];
  const html = `<!doctype html><html lang="en"><head><title>Ridgeline 2 tent | Trailgear</title></head><body>
${siteHeader('Trailgear')}
<nav class="breadcrumbs"><a href="/">Home</a> › <a href="/camping">Camping</a> › <a href="/camping/tents">Tents</a></nav>
<main><h1>Ridgeline 2 tent</h1><p class="price">€289</p><p>${description}</p>
<table><tr><th>Specification</th><th>Value</th></tr>${specs.map(([key, value]) => `<tr><td>${key}</td><td>${value}</td></tr>`).join('')}</table>
</main>
<aside class="recommendations"><h3>Customers also bought</h3><ul>${['Ultralight sleeping mat', 'Down sleeping bag -5°C', 'Titanium pot 750 ml', 'Trekking poles, carbon', 'Headlamp 400 lumen', 'Water filter bottle'].map((item) => `<li><a href="/p">${item}</a> <span>from €39</span></li>`).join('')}</ul></aside>
${siteFooter('Trailgear')}</body></html>`;
  return {
    name: 'product-page.html',
    html,
    expected: [
      'Ridgeline 2 tent',
      '€289',
      description,
      'Specification Value',
      specs.map((row) => row.join(' ')).join('\n'),
    ].join('\n\n'),
  };
}

function wiki(): CorpusPage {
  const paragraphs = [
    'The Kessel is a river in central Europe, 214 kilometres long, that rises in the Fichtel hills and flows north into the Saale near the town of Brenna.',
    'Its name is first recorded in 1147 as Chezzila, from an old word for a hollow or basin, after the deep valley the river cuts through its middle course.',
    'Mills lined the river from the thirteenth century onwards; by 1850 there were forty-two of them, grinding grain, sawing timber and, later, driving the looms of the Brenna textile works.',
    'Since the closure of the last mill in 1961 the river has been restored in stages. Salmon returned to its lower course in 2014 for the first time in a hundred years.',
  ];
  const infobox = [
    ['Length', '214 km'],
    ['Source', 'Fichtel hills'],
    ['Mouth', 'Saale at Brenna'],
    ['Basin size', '2,430 km²'],
  ];
  const html = `<!doctype html><html lang="en"><head><title>Kessel (river) - Riverpedia</title></head><body>
<div id="mw-head"><nav>${['Main page', 'Contents', 'Random article', 'Help', 'Donate'].map((item) => `<a href="/">${item}</a>`).join(' ')}</nav></div>
<div id="content"><h1>Kessel (river)</h1>
<table class="infobox"><tr><th colspan="2">Kessel</th></tr>${infobox.map(([key, value]) => `<tr><th>${key}</th><td>${value}</td></tr>`).join('')}</table>
<p>${paragraphs[0]}</p><h2>Name</h2><p>${paragraphs[1]}</p><h2>History</h2><p>${paragraphs[2]}</p><p>${paragraphs[3]}</p>
<div class="navbox"><table><tr><th>Rivers of central Europe</th></tr><tr><td><a href="/">Saale</a> · <a href="/">Elster</a> · <a href="/">Mulde</a> · <a href="/">Unstrut</a> · <a href="/">Ilm</a></td></tr></table></div>
</div><div id="footer"><p>This page was last edited on 2 December 2026. Text is available under a Creative Commons licence.</p></div></body></html>`;
  return {
    name: 'wiki-page.html',
    html,
    expected: [
      'Kessel (river)',
      'Kessel',
      infobox.map((row) => row.join(' ')).join('\n'),
      paragraphs[0],
      'Name',
      paragraphs[1],
      'History',
      paragraphs[2],
      paragraphs[3],
    ].join('\n\n'),
  };
}

function forum(): CorpusPage {
  const posts = [
    [
      'quietfox',
      'My sourdough starter smells like nail polish remover after two days in the fridge. Is it dead, or can I still save it?',
    ],
    [
      'breadhead',
      'It is hungry, not dead. That smell is acetone-like byproduct from starving yeast. Discard most of it and feed it twice at room temperature.',
    ],
    [
      'quietfox',
      'Fed it twice yesterday and it doubled in six hours this morning. Thank you, the smell is gone too.',
    ],
  ];
  const html = `<!doctype html><html lang="en"><head><title>Starter smells like acetone? - Bakers Forum</title></head><body>
${siteHeader('Bakers Forum')}
<div class="thread"><h1>Starter smells like acetone?</h1>
${posts.map(([user, text]) => `<div class="post"><div class="author">${user}</div><div class="post-body"><p>${text}</p></div><div class="post-actions"><a href="#">Reply</a> <a href="#">Quote</a> <a href="#">Report</a></div></div>`).join('\n')}
</div>${siteFooter('Bakers Forum')}</body></html>`;
  return {
    name: 'forum-thread.html',
    html,
    expected: ['Starter smells like acetone?', ...posts.map(([user, text]) => `${user}\n${text}`)].join(
      '\n\n',
    ),
  };
}

export function corpusPages(): CorpusPage[] {
  return [news(), docs(), blog(), product(), wiki(), forum()];
}
