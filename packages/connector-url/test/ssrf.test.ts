// SSRF: every vector is refused with UnsafeUrlError and nothing reaches the local test server.
// The connector here has NO allowlist for the server (except where a test says so, to prove
// that the first hop of a redirect is allowed and only the hop to a private address is refused).
import type { LookupAddress } from 'node:dns';
import { createConnectorInstance, InvalidConfigError, UnsafeUrlError } from '@tributary/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createUrlConnector, type LookupFunction, unsafeAddressReason } from '../src/index.js';
import { collect, FAST_RETRY, load, upserts } from './helpers.js';
import { articlePage, prose, type Site, startSite } from './site-server.js';

let site: Site;
let second: Site;
beforeEach(async () => {
  site = await startSite();
  second = await startSite();
  for (const server of [site, second]) {
    server.pages.set('/', { body: articlePage({ title: 'Internal', paragraphs: [prose('secret')] }) });
  }
});
afterEach(async () => {
  await site.close();
  await second.close();
});

/** A resolver answering from a table, counting its calls; never touches real DNS. */
function fakeDns(answers: Record<string, string[] | (() => string[])>) {
  const calls: string[] = [];
  const lookup: LookupFunction = (hostname, _options, callback) => {
    calls.push(hostname);
    const answer = answers[hostname];
    if (!answer) {
      callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), []);
      return;
    }
    const addresses = typeof answer === 'function' ? answer() : answer;
    callback(
      null,
      addresses.map((address): LookupAddress => ({ address, family: address.includes(':') ? 6 : 4 })),
    );
  };
  return { lookup, calls };
}

async function expectRefused(
  url: string,
  lookup?: LookupFunction,
  settings: { allowedHosts?: string[] } = {},
) {
  const connector = createUrlConnector({ lookup, retry: FAST_RETRY, ...settings });
  const instance = createConnectorInstance(connector, { config: { url, requestsPerSecond: 500 } });
  const error = await instance.check().catch((caught: unknown) => caught);
  expect(UnsafeUrlError.isInstance(error), `${url} must be refused, got ${String(error)}`).toBe(true);
  return error as UnsafeUrlError;
}

function expectUntouched() {
  expect(site.requests, 'the test server must receive no request').toEqual([]);
  expect(second.requests, 'the second server must receive no request').toEqual([]);
}

describe('refused addresses (IP literals in every notation)', () => {
  const vectors = (port: number): [string, string][] => [
    ['loopback', `http://127.0.0.1:${port}/`],
    ['loopback, other 127/8 address', `http://127.0.0.2:${port}/`],
    ['decimal integer IPv4', `http://2130706433:${port}/`],
    ['hexadecimal IPv4', `http://0x7f000001:${port}/`],
    ['octal IPv4', `http://0177.0.0.1:${port}/`],
    ['mixed hex/octal dotted IPv4', `http://0x7f.0.0.01:${port}/`],
    ['shortened IPv4', `http://127.1:${port}/`],
    ['IPv6 loopback', `http://[::1]:${port}/`],
    ['IPv4-mapped IPv6 loopback', `http://[::ffff:127.0.0.1]:${port}/`],
    ['IPv4-mapped IPv6 loopback, hex form', `http://[::ffff:7f00:1]:${port}/`],
    ['unspecified 0.0.0.0', `http://0.0.0.0:${port}/`],
    ['unspecified as "0"', `http://0:${port}/`],
    ['IPv6 unspecified', `http://[::]:${port}/`],
    ['cloud metadata (AWS, GCP, Azure)', 'http://169.254.169.254/latest/meta-data/'],
    ['cloud metadata, IPv4-mapped IPv6', 'http://[::ffff:169.254.169.254]/latest/meta-data/'],
    ['AWS metadata over IPv6', 'http://[fd00:ec2::254]/latest/meta-data/'],
    ['Alibaba metadata (CGNAT range)', 'http://100.100.100.200/latest/meta-data/'],
    ['private 10/8', 'http://10.0.0.1/'],
    ['private 172.16/12', 'http://172.16.0.1/'],
    ['private 192.168/16', 'https://192.168.1.1/'],
    ['CGNAT 100.64/10', 'http://100.64.0.1/'],
    ['multicast', 'http://224.0.0.1/'],
    ['broadcast', 'http://255.255.255.255/'],
    ['IPv6 link-local', 'http://[fe80::1]/'],
    ['IPv6 unique-local', 'http://[fc00::1]/'],
    ['IPv6 multicast', 'http://[ff02::1]/'],
    ['NAT64 embedding loopback', 'http://[64:ff9b::7f00:1]/'],
    ['6to4 embedding loopback', 'http://[2002:7f00:1::]/'],
    ['IPv4-compatible IPv6 loopback', `http://[::127.0.0.1]:${port}/`],
    ['IPv4-compatible IPv6 loopback, hex form', `http://[::7f00:1]:${port}/`],
    ['IPv4-compatible IPv6 metadata address', 'http://[::169.254.169.254]/latest/meta-data/'],
    ['IPv4-translated IPv6 loopback', `http://[::ffff:0:127.0.0.1]:${port}/`],
    ['NAT64 embedding a private IPv4 address', 'http://[64:ff9b::10.0.0.1]/'],
    ['NAT64 embedding the metadata address', 'http://[64:ff9b::169.254.169.254]/'],
    ['local-use NAT64 (64:ff9b:1::/48)', 'http://[64:ff9b:1::a00:1]/'],
    ['IPv6 outside 2000::/3', 'http://[4000::1]/'],
    ['IPv6 discard prefix', 'http://[100::1]/'],
    ['IPv6 site-local (deprecated)', 'http://[fec0::1]/'],
    ['IPv6 documentation 2001:db8::/32', 'http://[2001:db8::1]/'],
    ['IPv6 documentation 3fff::/20', 'http://[3fff::1]/'],
    ['IPv6 IETF protocol assignments 2001::/23', 'http://[2001:2::1]/'],
  ];

  it('has at least 25 literal vectors', () => {
    expect(vectors(1).length).toBeGreaterThanOrEqual(25);
  });

  for (const [name, _] of vectors(0)) {
    it(`refuses ${name}`, async () => {
      const url = (vectors(site.port).find(([label]) => label === name) as [string, string])[1];
      const error = await expectRefused(url);
      expect(error.reason).toMatch(/address|scoped/);
      expectUntouched();
    });
  }
});

describe('refused schemes and names', () => {
  for (const url of [
    'file:///etc/passwd',
    'ftp://example.com/file',
    'gopher://example.com/',
    'data:text/html,hi',
  ]) {
    it(`refuses ${url.split(':')[0]}: in config and after a redirect`, async () => {
      expect(() => createConnectorInstance(createUrlConnector(), { config: { url } })).toThrow(
        InvalidConfigError,
      );
      site.pages.set('/go', { body: '', status: 302, headers: { location: url } });
      const error = await expectRefused(site.url('/go'), undefined, { allowedHosts: [site.host] });
      expect(error.reason).toMatch(/scheme/);
    });
  }

  it('refuses localhost and *.localhost without resolving them', async () => {
    const dns = fakeDns({});
    await expectRefused(`http://localhost:${site.port}/`, dns.lookup);
    await expectRefused(`http://app.localhost:${site.port}/`, dns.lookup);
    expect(dns.calls).toEqual([]);
    expectUntouched();
  });

  it('refuses a DNS name that resolves to loopback', async () => {
    const dns = fakeDns({ 'intranet.test': ['127.0.0.1'] });
    const error = await expectRefused(`http://intranet.test:${site.port}/`, dns.lookup);
    expect(error.reason).toContain('127.0.0.1');
    expectUntouched();
  });

  it('refuses a DNS name that resolves to the metadata address', async () => {
    const dns = fakeDns({ 'metadata.test': ['169.254.169.254'] });
    await expectRefused('http://metadata.test/computeMetadata/v1/', dns.lookup);
  });

  it('refuses a name with one public and one private answer', async () => {
    const dns = fakeDns({ 'mixed.test': ['93.184.216.34', '127.0.0.1'] });
    await expectRefused(`http://mixed.test:${site.port}/`, dns.lookup);
    expectUntouched();
  });

  it('refuses a name that answers public, then private (DNS rebinding): the connection is checked', async () => {
    let answers = 0;
    const dns = fakeDns({
      'rebind.test': () => {
        answers += 1;
        return answers === 1 ? ['93.184.216.34'] : ['127.0.0.1'];
      },
    });
    const error = await expectRefused(`http://rebind.test:${site.port}/`, dns.lookup);
    // The first answer passed the early check; the connection resolved again, got loopback and
    // refused to connect: the address checked is the address connected to.
    expect(dns.calls).toEqual(['rebind.test', 'rebind.test']);
    expect(error.reason).toContain('127.0.0.1');
    expectUntouched();
  });

  it('refuses a name whose AAAA answer is an IPv4-compatible loopback (::127.0.0.1)', async () => {
    const dns = fakeDns({ 'compat.example.com': ['::127.0.0.1'] });
    const error = await expectRefused(`http://compat.example.com:${site.port}/`, dns.lookup);
    expect(error.reason).toMatch(/IPv4-compatible|2000::\/3/);
    expectUntouched();
  });

  it('refuses a name that resolves to IPv4-mapped IPv6 loopback', async () => {
    const dns = fakeDns({ 'mapped.test': ['::ffff:127.0.0.1'] });
    await expectRefused(`http://mapped.test:${site.port}/`, dns.lookup);
    expectUntouched();
  });
});

describe('redirects', () => {
  // The first server is allowlisted; the hop to the second (also loopback, not allowlisted) is not.
  const redirectTo = (location: string) => {
    site.pages.set('/go', { body: '', status: 302, headers: { location } });
  };

  it('refuses a redirect to loopback', async () => {
    redirectTo(second.url('/'));
    await expectRefused(site.url('/go'), undefined, { allowedHosts: [site.host] });
    expect(site.requests.map((r) => r.path)).toEqual(['/go']);
    expect(second.requests).toEqual([]);
  });

  it('refuses a redirect to a decimal-IP loopback, a loopback name and the metadata address', async () => {
    const dns = fakeDns({ 'evil.test': ['127.0.0.1'] });
    for (const location of [
      `http://2130706433:${second.port}/`,
      `http://evil.test:${second.port}/`,
      'http://169.254.169.254/latest/meta-data/',
      `http://[::1]:${second.port}/`,
    ]) {
      redirectTo(location);
      await expectRefused(site.url('/go'), dns.lookup, { allowedHosts: [site.host] });
    }
    expect(second.requests).toEqual([]);
  });

  it('refuses a redirect to file:', async () => {
    redirectTo('file:///etc/passwd');
    const error = await expectRefused(site.url('/go'), undefined, { allowedHosts: [site.host] });
    expect(error.reason).toContain('scheme');
  });
});

describe('through sync', () => {
  it('a refused single URL becomes a failed document carrying UnsafeUrlError', async () => {
    const changes = await collect(createUrlConnector({ retry: FAST_RETRY }), { url: site.url('/') });
    const [document] = upserts(changes);
    const error = await load(document as NonNullable<typeof document>).catch((e: unknown) => e);
    expect(UnsafeUrlError.isInstance(error)).toBe(true);
    expectUntouched();
  });

  it('a crawl whose start URL is refused fails the sync', async () => {
    const instance = createConnectorInstance(createUrlConnector(), { config: { startUrl: site.url('/') } });
    const iterate = async () => {
      for await (const _ of instance.sync()) {
        // nothing is yielded
      }
    };
    await expect(iterate()).rejects.toSatisfy((error: unknown) => UnsafeUrlError.isInstance(error));
    expectUntouched();
  });

  it('a crawl never follows a link to a private address', async () => {
    site.pages.set('/', {
      body: articlePage({ title: 'Home', paragraphs: [prose('home')], links: [second.url('/'), '/page'] }),
    });
    site.pages.set('/page', { body: articlePage({ title: 'Page', paragraphs: [prose('page')] }) });
    const changes = await collect(createUrlConnector({ allowedHosts: [site.host], retry: FAST_RETRY }), {
      startUrl: site.url('/'),
      sameOrigin: false,
    });
    expect(upserts(changes).map((d) => d.externalId)).toEqual([site.url('/'), site.url('/page')]);
    expect(second.requests).toEqual([]);
  });

  it('the same URL is fetched once allowlisted (the refusals above are the guard, not a dead server)', async () => {
    const changes = await collect(createUrlConnector({ allowedHosts: [site.host] }), { url: site.url('/') });
    expect(upserts(changes)).toHaveLength(1);
    expect(site.requests.map((r) => r.path)).toEqual(['/']);
  });
});

describe('address policy', () => {
  it('allows public unicast addresses only', () => {
    for (const address of [
      '93.184.216.34',
      '8.8.8.8',
      '2606:4700:4700::1111',
      '2a00:1450:4001:81b::200e',
      '::ffff:8.8.8.8',
      '[2606:4700:4700::1111]',
    ]) {
      expect(unsafeAddressReason(address), address).toBeUndefined();
    }
    for (const address of [
      '127.0.0.1',
      '10.1.2.3',
      '169.254.169.254',
      'fd00:ec2::254',
      '::',
      'fe80::1%eth0',
      '::127.0.0.1',
      '::7f00:1',
      '::8.8.8.8',
      '64:ff9b::8.8.8.8',
      '64:ff9b::a00:1',
      '4000::1',
      'e000::1',
      '1fff:ffff::1',
      '2001::1',
      '2001:db8::1',
      '2002:808:808::',
      '3fff:fff::1',
      '2620:4f:8000::1',
      '[::127.0.0.1]',
    ]) {
      expect(unsafeAddressReason(address), address).toBeTypeOf('string');
    }
    expect(unsafeAddressReason('::7f00:1')).toMatch(/embeds 127\.0\.0\.1/);
    expect(unsafeAddressReason('4000::1')).toMatch(/outside the public 2000::\/3 range/);
  });
});
