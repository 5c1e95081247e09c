import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';

export const TOKEN_COOKIE = 'tributary_console_token';
/** Sent by the console's own script on every request that changes something (see below). */
export const CONSOLE_HEADER = 'x-tributary-console';

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

/** True for addresses only this machine can reach (127.0.0.0/8, ::1, localhost). */
export function isLoopback(host: string): boolean {
  return LOOPBACK_HOSTS.has(host) || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

function sameSecret(given: string, expected: string): boolean {
  // Digests of equal length, so the comparison time says nothing about the token.
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/**
 * Guards the console (not the webhook endpoints, which verify provider signatures, nor /healthz):
 *
 * - With a token: `Authorization: Bearer <token>` or the cookie set by opening `/?token=<token>`
 *   once (HttpOnly, SameSite=Strict); anything else gets 401.
 * - Without a token (allowed on loopback binds only): the Host header must name a loopback host,
 *   so a web page cannot reach the console through DNS rebinding.
 * - Always: requests that change something must carry the `x-tributary-console` header. A browser
 *   sends a custom header cross-origin only after a CORS preflight, which the console never
 *   approves, so another site's page cannot add connectors or start syncs.
 */
export function consoleAuth(options: {
  token: string | undefined;
  loopbackOnly: boolean;
}): MiddlewareHandler {
  return async (c, next) => {
    if (options.token === undefined) {
      // The Node adapter builds the request URL from the Host header.
      if (options.loopbackOnly && !isLoopback(new URL(c.req.url).hostname)) {
        return c.text('[tributary] [console] this console answers only on a loopback host name', 403);
      }
    } else {
      const url = new URL(c.req.url);
      const fromQuery = url.searchParams.get('token');
      if (c.req.method === 'GET' && url.pathname === '/' && fromQuery !== null) {
        if (!sameSecret(fromQuery, options.token)) return c.text('[tributary] [console] wrong token', 401);
        setCookie(c, TOKEN_COOKIE, options.token, {
          httpOnly: true,
          sameSite: 'Strict',
          path: '/',
          secure: url.protocol === 'https:',
        });
        // Drop the token from the address bar (and from the history).
        return c.redirect('/', 303);
      }
      const bearer = c.req.header('authorization')?.match(/^Bearer\s+(.+)$/i)?.[1];
      const given = bearer ?? getCookie(c, TOKEN_COOKIE);
      if (given === undefined || !sameSecret(given, options.token)) {
        return c.text(
          '[tributary] [console] missing or wrong token: open /?token=<token> once, or send Authorization: Bearer <token>',
          401,
        );
      }
    }
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD' && c.req.header(CONSOLE_HEADER) !== '1') {
      return c.text(
        `[tributary] [console] requests that change something need the ${CONSOLE_HEADER} header`,
        403,
      );
    }
    await next();
  };
}
