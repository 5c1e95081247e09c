/** Query parameters that only track campaigns: dropped so one page is one document. */
const TRACKING_PARAMETER = /^(?:utm_[a-z_]+|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|_ga|_hsenc|_hsmi)$/i;

/**
 * The normalised form of a URL used as a document's external id: lower-case scheme and host
 * (the URL parser does it), default port dropped, dot segments resolved, fragment dropped,
 * tracking parameters dropped, remaining query parameters sorted, an empty query removed.
 * Returns `undefined` for anything that is not an absolute http(s) URL.
 */
export function canonicalizeUrl(input: string | URL, base?: string | URL): string | undefined {
  let url: URL;
  try {
    url = new URL(input, base);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  url.hash = '';
  url.username = '';
  url.password = '';
  const kept = [...url.searchParams.entries()].filter(([name]) => !TRACKING_PARAMETER.test(name));
  // Stable order: a sort by name keeps the relative order of repeated names.
  kept.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  url.search = kept.length === 0 ? '' : new URLSearchParams(kept).toString();
  return url.href;
}

/**
 * Same site for `rel=canonical`: same host, or hosts that differ only by a leading `www.`
 * (http→https upgrades included). A canonical link pointing at another site is ignored, so a
 * page cannot claim another site's identity.
 */
export function isSameSite(a: string, b: string): boolean {
  const hostA = new URL(a).hostname.replace(/^www\./, '');
  const hostB = new URL(b).hostname.replace(/^www\./, '');
  return hostA === hostB;
}

/** Same origin: scheme, host and port. */
export function isSameOrigin(a: string, b: string): boolean {
  return new URL(a).origin === new URL(b).origin;
}
