/** What replaces a secret in redacted text. */
export const REDACTED = '[REDACTED]';

// Parameter names whose values are secrets, in query strings, form bodies and JSON. Matched as
// whole names, or as a name part (`api_key`, `x-api-key`, `client_secret`, `refresh_token`).
// `code` only in query strings (OAuth authorization codes): in JSON it is usually an error code.
const secretNamePart = '(?:key|token|secret|password|passwd|signature|credential)';
const secretName = String.raw`(?:[\w.-]*${secretNamePart}[\w.-]*|pwd|sig|jwt|auth|authorization|cookie|session_?id)`;
const secretQueryName = `(?:${secretName}|code)`;

const patterns: ReadonlyArray<readonly [RegExp, string]> = [
  // Authorization header values: `Bearer abc`, `Basic dXNlcjpwYXNz`, `token abc`.
  [/\b(Bearer|Basic|Token)\s+[A-Za-z0-9._~+/=-]+/gi, `$1 ${REDACTED}`],
  // JWTs (access tokens, id tokens, signed webhook payloads): three base64url parts, header `eyJ`.
  [/\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g, REDACTED],
  // Query string and form values: `?key=...`, `&access_token=...`, `;token=...`.
  [new RegExp(String.raw`([?&;#]|^|\s)(${secretQueryName})=([^&#\s"'<>]+)`, 'gi'), `$1$2=${REDACTED}`],
  // JSON and header-like pairs: `"access_token": "..."`, `client_secret: ...`.
  [new RegExp(String.raw`("?)\b(${secretName})\1(\s*[:=]\s*)"([^"]*)"`, 'gi'), `$1$2$1$3"${REDACTED}"`],
  // Credentials in URLs: `https://user:password@host`.
  [/\b([a-z][a-z0-9+.-]*:\/\/[^/\s:@]+):[^/\s@]+@/gi, `$1:${REDACTED}@`],
  // Well-known token shapes: OpenAI `sk-`, Notion `secret_`/`ntn_`, Google `ya29.`, GitHub, Slack.
  [
    /\b(?:sk-[A-Za-z0-9_-]{16,}|secret_[A-Za-z0-9]{20,}|ntn_[A-Za-z0-9]{20,}|ya29\.[A-Za-z0-9._-]{10,}|gh[pousr]_[A-Za-z0-9]{20,}|xox[abposr]-[A-Za-z0-9-]{10,})/g,
    REDACTED,
  ],
];

/**
 * Masks secrets in free text before it goes into an error message or a log line: bearer/basic
 * tokens, secret-looking query/form/JSON values (`key=`, `token=`, `secret=`, `access_token`,
 * `client_secret`, `signature`, `code`...), JWT-looking strings, passwords in URLs and
 * well-known API key shapes. It is a safety net, not a licence to log secrets: never pass a
 * credential to a message on purpose.
 */
export function redactSecrets(text: string): string {
  let result = text;
  for (const [pattern, replacement] of patterns) {
    result = result.replace(pattern, replacement);
  }
  return result;
}

/** Redacts a URL (string or `URL`) for messages: secret query values, userinfo passwords, tokens in the path. */
export function redactUrl(url: string | URL): string {
  return redactSecrets(typeof url === 'string' ? url : url.href);
}
