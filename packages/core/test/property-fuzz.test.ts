// Property-based fuzzing (fast-check, bounded runs): every input to the extractors, the Markdown
// image stripper, text normalisation and webhook intake ends in a result or a typed
// TributaryError, never a crash (TypeError, RangeError...) or a hang. bench/fuzz.ts runs the same
// properties for longer.
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createExtractorRegistry, normalizeText, stripInlineImages } from '../src/content/index.js';
import { TributaryError, WebhookVerificationError } from '../src/errors/index.js';
import { defineConnector, handleWebhook, type IncomingWebhookRequest } from '../src/index.js';
import { createMemoryRepository } from '../src/testing.js';
import { buildDocx, buildPdf, buildZip } from './__fixtures__/content-fixtures.js';

/** Runs per property: enough to find shallow crashes in CI; bench/fuzz.ts runs thousands. */
const RUNS = Number(process.env.FUZZ_RUNS ?? 40);
/** An input that takes longer than this is a hang. */
const HANG_MS = 15_000;

const registry = createExtractorRegistry();

async function outcomeOf(promise: Promise<unknown>): Promise<'ok' | 'typed-error'> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`hang: no answer within ${HANG_MS} ms`)), HANG_MS);
  });
  try {
    await Promise.race([promise, hang]);
    return 'ok';
  } catch (error) {
    if (TributaryError.isInstance(error)) return 'typed-error';
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

const MIME_CLAIMS = [
  undefined,
  'application/pdf',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  'text/html; charset=utf-8',
  'text/csv',
  'text/vtt',
  'application/x-subrip',
  'application/json',
  'text/markdown',
  'text/plain',
  'application/octet-stream',
  'image/png',
];
const NAMES = [
  undefined,
  'a.pdf',
  'a.docx',
  'a.xlsx',
  'a.pptx',
  'a.html',
  'a.csv',
  'a.vtt',
  'a.srt',
  'a.json',
  'a.md',
  'a.txt',
  'a.bin',
];

/** Valid documents of every built-in format, to mutate. */
const SEEDS: Uint8Array[] = [
  buildPdf([['Fuzz seed page', 'Second line of text.']], { title: 'Seed' }),
  buildDocx([
    { heading: 1, text: 'Seed' },
    { paragraph: 'A paragraph.' },
    {
      table: [
        ['a', 'b'],
        ['1', '2'],
      ],
    },
  ]),
  buildZip([
    { name: '[Content_Types].xml', data: '<Types/>' },
    { name: 'xl/workbook.xml', data: '<workbook/>' },
  ]),
  new TextEncoder().encode('WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n<v Ann>Hello there</v>\n'),
  new TextEncoder().encode('1\n00:00:01,000 --> 00:00:02,000\nHello\n'),
  new TextEncoder().encode('name,amount\n"a, b",1\nc,2\n'),
  new TextEncoder().encode(
    '<!doctype html><html><head><title>T</title></head><body><main><h1>H</h1><table><tr><td>x</td></tr></table></main></body></html>',
  ),
  new TextEncoder().encode('{"a":[1,2,{"b":null}]}'),
  new TextEncoder().encode('---\ntitle: x\n---\n# Head\n![i](data:image/png;base64,AAAA)'),
];

/** A seed with some bytes overwritten, a slice cut out, or cut short. */
const mutatedSeed = fc
  .tuple(
    fc.constantFrom(...SEEDS),
    fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
    fc.option(fc.tuple(fc.nat(), fc.nat()), { nil: undefined }),
    fc.option(fc.nat(), { nil: undefined }),
  )
  .map(([seed, writes, cut, truncate]) => {
    let bytes = Uint8Array.from(seed);
    for (const [position, value] of writes) bytes[position % bytes.length] = value;
    if (cut) {
      const start = cut[0] % bytes.length;
      bytes = Uint8Array.from([...bytes.subarray(0, start), ...bytes.subarray(start + (cut[1] % 64))]);
    }
    if (truncate !== undefined) bytes = bytes.subarray(0, truncate % (bytes.length + 1));
    return bytes;
  });

describe('extractors under fuzzing', () => {
  it('arbitrary bytes with any claim and name: a result or a typed error', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 4096 }),
        fc.constantFrom(...MIME_CLAIMS),
        fc.constantFrom(...NAMES),
        async (bytes, claimedMimeType, fileName) => {
          await outcomeOf(registry.extract({ bytes, claimedMimeType, fileName }));
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('mutated valid documents of every format: a result or a typed error', async () => {
    await fc.assert(
      fc.asyncProperty(
        mutatedSeed,
        fc.constantFrom(...MIME_CLAIMS),
        fc.constantFrom(...NAMES),
        async (bytes, claimedMimeType, fileName) => {
          await outcomeOf(registry.extract({ bytes, claimedMimeType, fileName }));
        },
      ),
      { numRuns: RUNS * 3 },
    );
  });

  it('arbitrary text with any claim: a result or a typed error, and the text is normalized', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ unit: 'binary', maxLength: 2000 }),
        fc.constantFrom(...MIME_CLAIMS),
        async (text, claimedMimeType) => {
          const result = await registry.extract({ text, claimedMimeType }).catch((error: unknown) => {
            if (TributaryError.isInstance(error)) return undefined;
            throw error;
          });
          if (result) expect(normalizeText(result.text)).toBe(result.text);
        },
      ),
      { numRuns: RUNS * 2 },
    );
  });
});

describe('text helpers under fuzzing', () => {
  it('normalizeText is idempotent for any string', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 500 }), (text) => {
        expect(normalizeText(normalizeText(text))).toBe(normalizeText(text));
      }),
      { numRuns: RUNS * 5 },
    );
  });

  it('stripInlineImages never leaves a base64 data: image, whatever surrounds it', () => {
    const payload = fc.stringMatching(/^[A-Za-z0-9+/]{64,200}={0,2}$/);
    const image = fc
      .tuple(fc.string({ maxLength: 30 }), payload, fc.constantFrom('png', 'jpeg', 'gif', 'svg+xml'))
      .map(([alt, data, type]) => [
        `![${alt.replace(/[\]\\]/g, '')}](data:image/${type};base64,${data})`,
        `<img alt="x" src="data:image/${type};base64,${data}">`,
        `data:image/${type};base64,${data}`,
      ]);
    fc.assert(
      fc.property(
        fc.string({ maxLength: 200 }),
        image,
        fc.nat(2),
        fc.string({ maxLength: 200 }),
        (before, forms, which, after) => {
          const output = stripInlineImages(`${before}${forms[which]}${after}`);
          expect(output).not.toMatch(/data:image\/[\w.+-]+;base64,[A-Za-z0-9+/=]{64,}/);
        },
      ),
      { numRuns: RUNS * 5 },
    );
  });
});

describe('webhook intake under fuzzing', () => {
  const SECRET = 'whsec_fuzz_0f3a';
  const connector = defineConnector({
    type: 'fuzzhooks',
    displayName: 'Fuzz hooks',
    capabilities: { webhooks: true },
    async check() {},
    async *sync() {},
    webhooks: {
      verify(request, secret) {
        const signature = request.headers['x-signature'] ?? '';
        const expected = createHmac('sha256', secret).update(request.rawBody).digest('hex');
        if (
          signature.length !== expected.length ||
          !timingSafeEqual(Buffer.from(signature), Buffer.from(expected))
        ) {
          throw new WebhookVerificationError({ connector: 'fuzzhooks', reason: 'signature mismatch' });
        }
      },
      parse(request) {
        const body = JSON.parse(new TextDecoder().decode(request.rawBody)) as { id: string };
        return [
          { eventId: body.id, eventType: 'thing.changed', action: { kind: 'sync', mode: 'incremental' } },
        ];
      },
    },
  });
  const repository = createMemoryRepository();
  const connectorId = repository.addConnector({ orgId: randomUUID(), connectorType: 'fuzzhooks' }).id;

  const headerName = fc.constantFrom('x-signature', 'X-Signature', 'content-type', 'x-other', '');
  const request = fc.record({
    method: fc.constantFrom('POST', 'GET', 'PUT', ''),
    url: fc.oneof(fc.webUrl(), fc.string({ maxLength: 40 })),
    headers: fc.dictionary(
      headerName,
      fc.oneof(fc.string({ maxLength: 80 }), fc.array(fc.string({ maxLength: 20 }), { maxLength: 3 })),
    ),
    rawBody: fc.uint8Array({ maxLength: 512 }),
    signed: fc.boolean(),
  });

  it('any delivery, signed or not: an outcome or a typed intake error', async () => {
    await fc.assert(
      fc.asyncProperty(request, async ({ signed, ...incoming }) => {
        const headers: Record<string, string | string[]> = { ...incoming.headers };
        if (signed)
          headers['x-signature'] = createHmac('sha256', SECRET).update(incoming.rawBody).digest('hex');
        const result = await handleWebhook({
          connector,
          connectorId,
          repository,
          secret: SECRET,
          request: { ...incoming, headers } as IncomingWebhookRequest,
        }).catch((error: unknown) => {
          if (TributaryError.isInstance(error)) return undefined;
          throw error;
        });
        if (result?.outcome === 'accepted') expect(signed || headers['x-signature'] !== undefined).toBe(true);
        if (result && !signed && result.outcome === 'accepted')
          throw new Error('an unsigned delivery was accepted');
      }),
      { numRuns: RUNS * 3 },
    );
  });
});
