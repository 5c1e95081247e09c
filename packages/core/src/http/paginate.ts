import { TributaryError } from '../errors/tributary-error.js';

export interface PaginateOptions<Page, Item, Cursor> {
  /** Fetches one page; `cursor` is `undefined` for the first page (or `initialCursor`). */
  fetchPage(cursor: Cursor | undefined): Promise<Page>;
  getItems(page: Page): Iterable<Item>;
  /** The next page's cursor; `undefined`, `null` or `''` means this was the last page. */
  getNextCursor(page: Page): Cursor | null | undefined;
  /** Start from here instead of the first page (resume). */
  initialCursor?: Cursor | undefined;
  /** Stop with an error after this many pages (a runaway guard). Default unlimited. */
  maxPages?: number | undefined;
  /** Checked between pages. */
  signal?: AbortSignal | undefined;
  /** Connector type, for error messages. */
  provider?: string | undefined;
}

/**
 * Yields every page, following cursors until one is missing or empty. Empty pages with a cursor
 * are followed (Drive returns those before the end). A cursor seen before throws instead of
 * looping forever: a provider bug or a mis-read cursor field would otherwise never end the sync.
 */
export async function* paginatePages<Page, Cursor = string>(
  options: Omit<PaginateOptions<Page, never, Cursor>, 'getItems'>,
): AsyncGenerator<Page, void, undefined> {
  const seen = new Set<string>();
  let cursor = options.initialCursor;
  if (cursor !== undefined) seen.add(cursorKey(cursor));
  for (let pageNumber = 1; ; pageNumber++) {
    options.signal?.throwIfAborted();
    if (options.maxPages !== undefined && pageNumber > options.maxPages) {
      throw new TributaryError({
        code: 'pagination_limit',
        connector: options.provider,
        area: 'http',
        message: `pagination stopped after maxPages (${options.maxPages}) pages`,
        hint: 'Raise maxPages if the source really is that large',
      });
    }
    const page = await options.fetchPage(cursor);
    yield page;
    const next = options.getNextCursor(page);
    if (next === undefined || next === null || (next as unknown) === '') return;
    const key = cursorKey(next);
    if (seen.has(key)) {
      throw new TributaryError({
        code: 'pagination_cursor_repeated',
        connector: options.provider,
        area: 'http',
        message: `the provider returned a next-page cursor it had already returned (after page ${pageNumber}), so pagination would loop forever`,
        hint: 'Check that getNextCursor reads the right field; if it does, the provider listing is inconsistent: run the sync again later',
      });
    }
    seen.add(key);
    cursor = next;
  }
}

/** Yields every item of every page. See `paginatePages`. */
export async function* paginate<Page, Item, Cursor = string>(
  options: PaginateOptions<Page, Item, Cursor>,
): AsyncGenerator<Item, void, undefined> {
  for await (const page of paginatePages<Page, Cursor>(options)) {
    yield* options.getItems(page);
  }
}

function cursorKey(cursor: unknown): string {
  return typeof cursor === 'string' ? `s:${cursor}` : `j:${JSON.stringify(cursor)}`;
}
