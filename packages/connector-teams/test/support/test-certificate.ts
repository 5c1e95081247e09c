// A CA and a server certificate for `localhost`, generated at test time (never committed), and a
// fetch that trusts that CA. Node reads NODE_EXTRA_CA_CERTS only at startup, so the trust is
// injected instead: undici's fetch with an Agent whose `connect.ca` is the test CA. The connector
// takes it as `settings.fetch` for Graph and for MSAL's token requests alike.

import { generate } from 'selfsigned';
import { Agent, fetch as undiciFetch } from 'undici';

export interface TestCertificate {
  ca: string;
  cert: string;
  key: string;
  /** A fetch that trusts the test CA (and only the system CAs besides). */
  fetch: typeof fetch;
  close(): Promise<void>;
}

let cached: Promise<{ ca: string; cert: string; key: string }> | undefined;

async function create() {
  const caPems = await generate([{ name: 'commonName', value: 'Tributary Test CA' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    ],
  });
  const server = await generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    ca: { key: caPems.private, cert: caPems.cert },
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
        ],
      },
    ],
  });
  return { ca: caPems.cert, cert: server.cert, key: server.private };
}

export async function testCertificate(): Promise<TestCertificate> {
  cached ??= create();
  const pems = await cached;
  const agent = new Agent({ connect: { ca: pems.ca }, keepAliveTimeout: 1000 });
  const trusted = ((input: Parameters<typeof fetch>[0], init?: RequestInit) =>
    undiciFetch(
      input as never,
      { ...(init as object), dispatcher: agent } as never,
    )) as unknown as typeof fetch;
  return { ...pems, fetch: trusted, close: () => agent.close() };
}
