import { AuthError } from './auth-error.js';
import { InvalidConfigError } from './invalid-config-error.js';
import { QuotaExceededError } from './quota-exceeded-error.js';

/**
 * True for errors that end a whole sync run `failed` instead of failing one document: bad or
 * revoked credentials (`AuthError`), an exhausted quota (`QuotaExceededError`) and invalid
 * config (`InvalidConfigError`). Retrying or moving on to the next document cannot help.
 */
export function isFatalError(error: unknown): boolean {
  return (
    AuthError.isInstance(error) ||
    QuotaExceededError.isInstance(error) ||
    InvalidConfigError.isInstance(error)
  );
}
