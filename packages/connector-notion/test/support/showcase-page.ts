// One page using every block type the renderer knows, built in the fake store, for the Markdown
// tests and the comparison with notion-to-md.
import type { FakeNotionStore } from './fake-notion-store.js';
import { block, inlineEquation, mentionDate, mentionPage, mentionUser, text } from './notion-fixtures.js';

export const SYNCED_ORIGINAL_ID = '5ca1ab1e-0000-4000-8000-00000000005c';

export function addShowcasePage(store: FakeNotionStore): {
  pageId: string;
  linkedId: string;
  childId: string;
} {
  const linkedId = store.addPage({ title: 'Tide tables' });
  const pageId = store.addPage({ title: 'Harbour guide' });
  store.appendBlocks(pageId, [
    block.heading(1, 'Arrival'),
    block.paragraph([
      text('Moor '),
      text('only', { bold: true }),
      text(' at '),
      text('berth 4', { italic: true }),
      text(', not '),
      text('berth 9', { strikethrough: true }),
      text('; call '),
      text('VHF 12', { code: true }),
      text(' or read '),
      text('the rules', {}, 'https://example.com/rules'),
      text('. Ask '),
      mentionUser('u-ada', 'Ada'),
      text(', see '),
      mentionPage(linkedId, 'Tide tables'),
      text(' before '),
      mentionDate('2026-07-01'),
      text('. Energy: '),
      inlineEquation('E=mc^2'),
    ]),
    block.heading(2, 'Checklist'),
    block.bullet('Fenders', [block.bullet('Two per side', [block.bullet('Three in a gale')])]),
    block.bullet('Lines'),
    block.numbered('Radio the harbour master'),
    block.numbered('Wait for a berth', [block.numbered('Circle outside')]),
    block.todo('Pay the fee', true),
    block.todo('Fill water', false),
    block.toggle('Night arrival', [block.paragraph('Use the leading lights.')]),
    block.quote('Slow is smooth.'),
    block.callout('Fuel closes at 18:00.', '⛽'),
    block.code('const knots = 5;\nconsole.log(knots);', 'javascript', 'Speed limit'),
    block.equation('v = d / t'),
    block.divider(),
    block.bookmark('https://example.com/weather', 'Weather'),
    block.embed('https://example.com/map'),
    block.image('https://example.com/harbour.png', 'The harbour'),
    block.image('https://files.example/secret-signed-url?X-Amz=1', 'Hosted chart', true),
    block.file('https://files.example/signed/fees.pdf?X-Amz=1', 'fees.pdf'),
    block.table([
      ['Berth', 'Depth'],
      ['4', '3 m'],
      ['9', '2 | shallow'],
    ]),
    block.columns([block.paragraph('Left column text')], [block.paragraph('Right column text')]),
    block.syncedOriginal(SYNCED_ORIGINAL_ID, [block.paragraph('Shared footer: harbour office 08-17.')]),
    block.syncedCopy(SYNCED_ORIGINAL_ID),
    block.unsupported('ai_block'),
  ]);
  const childId = store.addPage({
    title: 'Fees',
    parentPageId: pageId,
    blocks: [block.paragraph('10 € a night')],
  });
  return { pageId, linkedId, childId };
}
