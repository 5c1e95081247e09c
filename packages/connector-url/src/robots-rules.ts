import { ConnectorApiError, type Logger, TimeoutError, UnsafeUrlError } from '@tributary/core';
import robotsParserModule from 'robots-parser';
import type { HostPoliteness } from './host-politeness.js';
import type { SafeFetcher } from './safe-fetcher.js';

/** RFC 9309 asks crawlers to read at least 500 KiB of a robots.txt. */
const MAX_ROBOTS_BYTES = 512 * 1024;

/** `allowed`/`disallowed` by the rules; `unreachable` when robots.txt failed with 5xx or no answer. */
export type RobotsVerdict = 'allowed' | 'disallowed' | 'unreachable';

export interface RobotsRules {
  /** Throws `UnsafeUrlError` when the robots.txt URL itself may not be fetched. */
  verdict(url: string): Promise<RobotsVerdict>;
}

interface Parsed {
  isAllowed(url: string, userAgent?: string): boolean | undefined;
  getCrawlDelay(userAgent?: string): number | undefined;
}

// robots-parser is CommonJS (`module.exports = function`); its types describe an ES default export.
const robotsParser = ((robotsParserModule as unknown as { default?: unknown }).default ??
  robotsParserModule) as unknown as (url: string, contents: string) => Parsed;

/**
 * robots.txt per origin, fetched once per sync with RFC 9309 semantics: a 2xx body is parsed
 * (group matched by the product token of the User-Agent, longest match wins, `Allow` wins ties);
 * 4xx means no rules (everything allowed); 5xx, timeouts and network failures mean "unreachable",
 * and nothing on that origin is fetched. `Crawl-delay` slows the host down (never speeds it up).
 */
export function createRobotsRules(options: {
  fetcher: SafeFetcher;
  userAgent: string;
  politeness: HostPoliteness;
  logger: Logger;
}): RobotsRules {
  const token = (options.userAgent.split(/[\s/]/)[0] ?? options.userAgent).toLowerCase();
  const byOrigin = new Map<string, Promise<Parsed | 'allow-all' | 'unreachable'>>();

  const load = async (origin: string): Promise<Parsed | 'allow-all' | 'unreachable'> => {
    const robotsUrl = `${origin}/robots.txt`;
    try {
      const response = await options.fetcher.fetch(robotsUrl, { maxBytes: MAX_ROBOTS_BYTES });
      if (response.status === 404 || response.status === 410 || !response.body) return 'allow-all';
      const parsed = robotsParser(robotsUrl, new TextDecoder().decode(response.body));
      const delay = parsed.getCrawlDelay(token);
      if (delay !== undefined) options.politeness.setCrawlDelay(new URL(origin).host, delay);
      return parsed;
    } catch (error) {
      if (UnsafeUrlError.isInstance(error)) throw error;
      const status = ConnectorApiError.isInstance(error) ? error.status : undefined;
      if (status !== undefined && status >= 400 && status < 500 && status !== 429) return 'allow-all';
      options.logger.warn('robots.txt unreachable; nothing is fetched from this origin this time', {
        origin,
        error: error instanceof Error ? error.message : String(error),
        timeout: TimeoutError.isInstance(error),
      });
      return 'unreachable';
    }
  };

  return {
    async verdict(url) {
      const origin = new URL(url).origin;
      let rules = byOrigin.get(origin);
      if (!rules) {
        rules = load(origin);
        byOrigin.set(origin, rules);
      }
      const resolved = await rules;
      if (resolved === 'allow-all') return 'allowed';
      if (resolved === 'unreachable') return 'unreachable';
      return resolved.isAllowed(url, token) === false ? 'disallowed' : 'allowed';
    },
  };
}
