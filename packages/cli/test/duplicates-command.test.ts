import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureCli } from './support/capture-cli.js';

const ORG_ID = '00000000-0000-4000-8000-0000000c2201';

async function run(cwd: string, argv: string[]) {
  return captureCli(argv, {
    env: {},
    cwd,
  });
}

describe('tributary duplicates', () => {
  let cwd: string;
  const ids: Record<string, string> = {};
  beforeAll(async () => {
    cwd = await mkdtemp(join(tmpdir(), 'tributary-cli-duplicates-'));
    expect((await run(cwd, ['migrate', '--pglite', 'db'])).code).toBe(0);
    // Two connectors store the same text; the link RPC (what runSync calls) groups them.
    const pglite = await PGlite.create(join(cwd, 'db'), { extensions: { vector } });
    try {
      const text = 'The harbour tides turn at noon on the first day of the month.';
      const hash = createHash('sha256').update(text).digest('hex');
      for (const [type, externalId, title] of [
        ['google_drive', 'tides.md', 'Tides'],
        ['zoom', 'tides-copy', 'Tides (copy)'],
      ] as const) {
        const { rows } = await pglite.query<{ id: string }>(
          `insert into public.connector_configs (org_id, connector_type, name) values ($1, $2, $2) returning id`,
          [ORG_ID, type],
        );
        const upserted = await pglite.query<{ document_id: string }>(
          'select document_id from public.upsert_documents($1, $2::jsonb)',
          [
            rows[0]?.id,
            JSON.stringify([{ external_id: externalId, title, content: text, content_hash: hash }]),
          ],
        );
        const id = upserted.rows[0]?.document_id ?? '';
        ids[externalId] = id;
        await pglite.query('select * from public.link_document_duplicates($1::jsonb)', [
          JSON.stringify([{ document_id: id }]),
        ]);
      }
    } finally {
      await pglite.close();
    }
  }, 120_000);
  afterAll(async () => {
    if (cwd) await rm(cwd, { recursive: true, force: true });
  });

  it('lists each group with its canonical first, as text and as JSON', async () => {
    const text = await run(cwd, ['duplicates', '--org', ORG_ID, '--pglite', 'db']);
    expect(text.stderr).toBe('');
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('Duplicate groups in');
    expect(text.stdout).toMatch(/canonical\s+Tides\s+\[tides\.md\]/);
    expect(text.stdout).toMatch(/exact\s+Tides \(copy\)\s+\[tides-copy\]/);

    const json = await run(cwd, [
      '--json',
      'duplicates',
      '--org',
      ORG_ID,
      '--document',
      ids['tides-copy'] ?? '',
      '--pglite',
      'db',
    ]);
    expect(json.code).toBe(0);
    const parsed = JSON.parse(json.stdout) as {
      members: { documentId: string; isCanonical: boolean; kind: string | null }[];
    };
    expect(parsed.members).toEqual([
      expect.objectContaining({ documentId: ids['tides.md'], isCanonical: true, kind: null }),
      expect.objectContaining({ documentId: ids['tides-copy'], isCanonical: false, kind: 'exact' }),
    ]);
  });

  it('refuses a bad organisation id with one clear line', async () => {
    const bad = await run(cwd, ['duplicates', '--org', 'not-a-uuid', '--pglite', 'db']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/^\[tributary\] .*uuid/);
  });
});
