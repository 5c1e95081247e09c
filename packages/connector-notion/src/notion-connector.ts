import {
  type ConnectorContext,
  type ConnectorV1,
  defineConnector,
  type SourceDocument,
} from '@tributary/core';
import { mapNotionPage } from './map-notion-page.js';
import { createNotionApi, type NotionApi } from './notion-api.js';
import { isTrashed } from './notion-api-types.js';
import { syncChanges } from './notion-changes.js';
import { parseNotionCursor } from './notion-cursor.js';
import { isGone } from './notion-errors.js';
import { NotionNodes, NotionScope, nodeOfPage } from './notion-nodes.js';
import {
  DEFAULT_MAX_DEPTH,
  MAX_PAGE_SIZE,
  NOTION_CONNECTOR_TYPE,
  type NotionConfig,
  type NotionConnectorSettings,
  type NotionCredentials,
  notionConfigSchema,
  notionCredentialsSchema,
} from './notion-settings.js';
import { nowOf, syncFull, syncListing } from './notion-sync.js';
import { notionWebhooks } from './notion-webhooks.js';

/** The Notion connector (`ConnectorV1`). */
export type NotionConnector = ConnectorV1<NotionConfig, NotionCredentials>;

type AnyCtx = ConnectorContext<NotionConfig, NotionCredentials>;

function apiFor(ctx: AnyCtx, settings: NotionConnectorSettings): NotionApi {
  return createNotionApi({
    credentials: ctx.credentials,
    settings,
    signal: ctx.signal,
    metrics: ctx.metrics,
    logger: ctx.logger,
  });
}

function checkSetting(name: string, value: number | undefined, min: number, max: number): void {
  if (value !== undefined && (!Number.isFinite(value) || value < min || value > max)) {
    throw new RangeError(`[tributary] [notion] ${name} must be a number from ${min} to ${max}, got ${value}`);
  }
}

/**
 * Notion: pages and data source rows as Markdown (properties as metadata and a readable header),
 * everything shared with the integration or listed root pages and data sources; incremental syncs
 * from search sorted by edit time; webhooks mapped to targeted re-fetches; Notion's request budget
 * (3 requests/s) through one rate limiter that several processes can share.
 *
 * @example
 * const notion = createNotionConnector();
 * const summary = await runSync({
 *   connector: notion, connectorId, repository, embedder: createLexicalEmbedder(),
 *   config: { rootPageIds: ['<page id>'] },
 *   credentials: { type: 'internal', token: process.env.NOTION_TOKEN },
 * });
 */
export function createNotionConnector(settings: NotionConnectorSettings = {}): NotionConnector {
  checkSetting('pageSize', settings.pageSize, 1, MAX_PAGE_SIZE);
  checkSetting('maxDepth', settings.maxDepth, 0, 100);
  checkSetting('requestsPerSecond', settings.requestsPerSecond, 0.001, 10_000);
  checkSetting('burst', settings.burst, 1, 10_000);
  checkSetting('timeoutMs', settings.timeoutMs, 1, 600_000);

  return defineConnector<NotionConfig, NotionCredentials>({
    type: NOTION_CONNECTOR_TYPE,
    displayName: 'Notion',
    capabilities: {
      incremental: true,
      deletions: true,
      permissions: true,
      binaryContent: false,
      webhooks: true,
    },
    configSchema: notionConfigSchema,
    credentialsSchema: notionCredentialsSchema,
    webhooks: notionWebhooks,

    // GET /v1/users/me: the cheapest call that needs a valid token.
    async check(ctx) {
      await apiFor(ctx, settings).me();
    },

    async *sync(ctx) {
      const deps = { ctx, api: apiFor(ctx, settings), settings };
      const cursor = parseNotionCursor(ctx.cursor);
      if (ctx.mode === 'incremental' && cursor?.phase === 'changes') {
        yield* syncChanges(deps, cursor);
        return;
      }
      // An incremental run over a listing a crash interrupted continues it; a full run starts over.
      if (ctx.mode === 'incremental' && cursor && cursor.phase !== 'changes') {
        yield* syncListing(deps, cursor);
        return;
      }
      yield* syncFull(deps);
    },

    // One page by id, for webhook events: null when trashed, gone, unshared or out of scope.
    async fetchDocument(ctx, externalId): Promise<SourceDocument | null> {
      const api = apiFor(ctx, settings);
      let page: Awaited<ReturnType<NotionApi['retrievePage']>>;
      try {
        page = await api.retrievePage(externalId);
      } catch (error) {
        if (isGone(error)) return null;
        throw error;
      }
      if (isTrashed(page)) return null;
      const nodes = new NotionNodes(api, undefined);
      const node = nodeOfPage(page);
      const { ids, titles } = await nodes.ancestry(page.id, node);
      const path = titles.join(' / ');
      if (!new NotionScope(ctx.config).contains(ids, path, node.title)) return null;
      return mapNotionPage(page, {
        api,
        maxDepth: settings.maxDepth ?? DEFAULT_MAX_DEPTH,
        path,
        propertiesHeader: ctx.config.propertiesHeader !== false,
        now: nowOf(settings),
        permissions: { credentials: ctx.credentials, readers: ctx.config.readers },
      });
    },
  });
}
