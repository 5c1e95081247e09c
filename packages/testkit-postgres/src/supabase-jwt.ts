import { randomBytes } from 'node:crypto';
import { errors, type JWTPayload, jwtVerify, SignJWT } from 'jose';

/** Claims carried by a Supabase-style JWT (the parts this harness reads). */
export interface SupabaseJwtClaims extends JWTPayload {
  role?: string;
  [claim: string]: unknown;
}

/** Signs and verifies HS256 JWTs the way Supabase's API keys and user access tokens are signed. */
export class SupabaseJwt {
  readonly secret: string;
  readonly #key: Uint8Array;

  constructor(secret: string = randomBytes(32).toString('hex')) {
    if (secret.length < 32) {
      throw new Error('[tributary] [testkit] the JWT secret must be at least 32 characters (as on Supabase)');
    }
    this.secret = secret;
    this.#key = new TextEncoder().encode(secret);
  }

  /** Signs `claims` with HS256; `expiresIn` is in seconds (default one hour). */
  async sign(claims: SupabaseJwtClaims, expiresInSeconds = 3600): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ iat: now, exp: now + expiresInSeconds, ...claims })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .sign(this.#key);
  }

  /**
   * Verifies the signature and `exp`. Returns the claims, or a reason for PostgREST's PGRST301
   * error (`JWT expired`, `JWSError JWSInvalidSignature`, ...).
   */
  async verify(token: string): Promise<{ claims: SupabaseJwtClaims } | { error: string }> {
    try {
      const { payload } = await jwtVerify(token, this.#key, { algorithms: ['HS256'] });
      return { claims: payload as SupabaseJwtClaims };
    } catch (error) {
      if (error instanceof errors.JWTExpired) return { error: 'JWT expired' };
      if (error instanceof errors.JWSSignatureVerificationFailed) {
        return { error: 'JWSError JWSInvalidSignature' };
      }
      return { error: `JWSError ${error instanceof Error ? error.message : String(error)}` };
    }
  }
}
