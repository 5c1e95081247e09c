// The fake Microsoft identity platform token endpoint (`/{tenant}/oauth2/v2.0/token`): client
// credentials, refresh token and authorization code grants with the documented success and error
// bodies (`invalid_client`, `invalid_grant`, `invalid_scope`), and the access tokens the fake Graph
// accepts. The id token is unsigned (MSAL reads, not verifies, the claims of a token it received
// over TLS from its authority).
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { json, readBody } from './fake-http.ts';

export interface FakeIdentityOptions {
  tenantId: string;
  clientId: string;
  clientSecret: string;
  /** The server's base URL (known once it listens). */
  issuer: () => string;
  onRequest: () => void;
}

export class FakeIdentity {
  readonly accessTokens = new Set<string>();
  /** Refresh token → user id. */
  readonly refreshTokens = new Map<string, string>();
  /** Authorization code → user id. */
  readonly authCodes = new Map<string, string>();
  private readonly options: FakeIdentityOptions;

  constructor(options: FakeIdentityOptions) {
    this.options = options;
  }

  private issueTokens(withRefresh: string | undefined, user?: string) {
    const access = `at-${randomBytes(16).toString('hex')}`;
    this.accessTokens.add(access);
    const body: Record<string, unknown> = {
      token_type: 'Bearer',
      expires_in: 3599,
      ext_expires_in: 3599,
      access_token: access,
      scope: 'https://graph.microsoft.com/.default',
    };
    if (withRefresh) body.refresh_token = withRefresh;
    if (user) {
      const { clientId, tenantId } = this.options;
      const claims = {
        aud: clientId,
        iss: `${this.options.issuer()}/${tenantId}/v2.0`,
        oid: user,
        sub: user,
        tid: tenantId,
        name: 'Test User',
        preferred_username: 'user@contoso.test',
        iat: Math.floor(Date.now() / 1000),
        exp: Math.floor(Date.now() / 1000) + 3600,
        ver: '2.0',
      };
      body.id_token = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.`;
      body.client_info = Buffer.from(JSON.stringify({ uid: user, utid: tenantId })).toString('base64url');
    }
    return body;
  }

  async tokenEndpoint(request: IncomingMessage, response: ServerResponse): Promise<void> {
    this.options.onRequest();
    const form = new URLSearchParams(await readBody(request));
    if (
      form.get('client_id') !== this.options.clientId ||
      form.get('client_secret') !== this.options.clientSecret
    ) {
      json(response, 401, {
        error: 'invalid_client',
        error_description: 'AADSTS7000215: Invalid client secret provided.',
        error_codes: [7000215],
      });
      return;
    }
    const grant = form.get('grant_type');
    if (grant === 'client_credentials') {
      if (!(form.get('scope') ?? '').includes('.default')) {
        json(response, 400, {
          error: 'invalid_scope',
          error_description: 'AADSTS1002012: scope must end in /.default',
        });
        return;
      }
      json(response, 200, this.issueTokens(undefined));
      return;
    }
    if (grant === 'refresh_token' || grant === 'authorization_code') {
      const secret = grant === 'refresh_token' ? form.get('refresh_token') : form.get('code');
      const user =
        grant === 'refresh_token' ? this.refreshTokens.get(secret ?? '') : this.authCodes.get(secret ?? '');
      if (!user) {
        json(response, 400, {
          error: 'invalid_grant',
          error_description: 'AADSTS70000: The provided grant has expired or was revoked.',
        });
        return;
      }
      const refresh =
        [...this.refreshTokens].find(([, owner]) => owner === user)?.[0] ??
        `rt-${randomBytes(12).toString('hex')}`;
      this.refreshTokens.set(refresh, user);
      json(response, 200, this.issueTokens(refresh, user));
      return;
    }
    json(response, 400, { error: 'unsupported_grant_type', error_description: 'AADSTS70003' });
  }
}
