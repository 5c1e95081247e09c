import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpClient, paginate, paginatePages, TributaryError } from '../src/index.js';
import { type ScriptedServer, startScriptedServer } from './scripted-server.js';

interface FilesPage {
  files: { id: string }[];
  nextPageToken?: string;
}

let server: ScriptedServer;

beforeAll(async () => {
  server = await startScriptedServer();
});

afterAll(async () => {
  await server.close();
});

describe('paginate', () => {
  it('follows cursors over 3 pages from a real server and stops when the cursor is missing', async () => {
    const pages: Record<string, FilesPage> = {
      '': { files: [{ id: 'a' }, { id: 'b' }], nextPageToken: 'p2' },
      p2: { files: [], nextPageToken: 'p3' },
      p3: { files: [{ id: 'c' }] },
    };
    server.script((request) => {
      const token = new URL(request.url, server.origin).searchParams.get('pageToken') ?? '';
      return { status: 200, body: JSON.stringify(pages[token]) };
    });
    const http = createHttpClient({ provider: 'google_drive' });
    const items: string[] = [];
    for await (const file of paginate<FilesPage, { id: string }>({
      fetchPage: (cursor) =>
        http.json<FilesPage>(`${server.origin}/drive/v3/files${cursor ? `?pageToken=${cursor}` : ''}`),
      getItems: (page) => page.files,
      getNextCursor: (page) => page.nextPageToken,
    })) {
      items.push(file.id);
    }
    expect(items).toEqual(['a', 'b', 'c']);
    expect(server.requests.map((request) => request.url)).toEqual([
      '/drive/v3/files',
      '/drive/v3/files?pageToken=p2',
      '/drive/v3/files?pageToken=p3',
    ]);
  });

  it('treats an empty-string cursor as the end', async () => {
    const seen: (string | undefined)[] = [];
    const items: number[] = [];
    for await (const item of paginate<{ items: number[]; next: string }, number>({
      fetchPage: async (cursor) => {
        seen.push(cursor);
        return cursor === undefined ? { items: [1], next: 'b' } : { items: [2], next: '' };
      },
      getItems: (page) => page.items,
      getNextCursor: (page) => page.next,
    })) {
      items.push(item);
    }
    expect(items).toEqual([1, 2]);
    expect(seen).toEqual([undefined, 'b']);
  });

  it('throws a clear error instead of looping when a cursor repeats', async () => {
    let fetches = 0;
    const run = async () => {
      for await (const _ of paginate<{ next: string }, never>({
        provider: 'zoom',
        fetchPage: async () => {
          fetches += 1;
          return { next: fetches === 1 ? 'x' : fetches === 2 ? 'y' : 'x' };
        },
        getItems: () => [],
        getNextCursor: (page) => page.next,
      })) {
        // drain
      }
    };
    const error = await run().then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(TributaryError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ code: 'pagination_cursor_repeated', connector: 'zoom' });
    expect((error as Error).message).toMatch(
      /^\[tributary\] \[zoom\] the provider returned a next-page cursor it had already returned \(after page 3\)/,
    );
    expect(fetches).toBe(3);
  });

  it('paginatePages yields whole pages and honours maxPages', async () => {
    const pages: number[] = [];
    const run = async () => {
      for await (const page of paginatePages<number, number>({
        maxPages: 2,
        fetchPage: async (cursor) => cursor ?? 0,
        getNextCursor: (page) => page + 1,
      })) {
        pages.push(page);
      }
    };
    await expect(run()).rejects.toMatchObject({ code: 'pagination_limit' });
    expect(pages).toEqual([0, 1]);
  });
});
