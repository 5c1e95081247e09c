import type { WebhookEndpoint } from './webhook-endpoint.js';

/** Next.js App Router route context (`params` is a promise since Next.js 15, a plain object before). */
export interface NextRouteContext {
  params?:
    | Promise<Record<string, string | string[] | undefined>>
    | Record<string, string | string[] | undefined>;
}

type RouteHandler = (request: Request, context?: NextRouteContext) => Promise<Response>;

/**
 * Route handlers for a Next.js App Router route such as `app/api/webhooks/[connectorId]/route.ts`:
 * `export const { POST, GET } = toNextRouteHandlers(endpoint);`. Route handlers receive the
 * untouched Web `Request`, so the raw body is preserved. Set `export const runtime = 'nodejs'`
 * when your repository uses `pg`.
 */
export function toNextRouteHandlers(endpoint: WebhookEndpoint): { POST: RouteHandler; GET: RouteHandler } {
  const handler: RouteHandler = async (request, context) => {
    const params = context?.params ? await context.params : undefined;
    const value = params?.connectorId;
    return endpoint(request, { connectorId: typeof value === 'string' ? value : undefined });
  };
  return { POST: handler, GET: handler };
}
