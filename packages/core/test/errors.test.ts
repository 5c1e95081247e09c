import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  AbortError,
  AuthError,
  ConnectorApiError,
  CorruptContentError,
  formatFieldPath,
  InvalidConfigError,
  isAbortError,
  isFatalError,
  QuotaExceededError,
  RateLimitError,
  redactSecrets,
  TimeoutError,
  TributaryError,
  UnsafeUrlError,
  UnsupportedContentError,
  WebhookVerificationError,
} from '../src/index.js';

describe('TributaryError', () => {
  it('formats messages as [tributary] [scope] what happened. what to do next.', () => {
    const error = new TributaryError({
      code: 'x',
      connector: 'notion',
      message: 'the page vanished',
      hint: 'Sync again',
    });
    expect(error.message).toBe('[tributary] [notion] the page vanished. Sync again.');
    expect(error.name).toBe('TributaryError');
    expect(new AuthError({ connector: 'zoom', status: 401 }).name).toBe('AuthError');
    expect(new TributaryError({ code: 'x', area: 'http', message: 'done.' }).message).toBe(
      '[tributary] [http] done.',
    );
  });

  it('isInstance recognises errors from a second copy of the package (marker, not instanceof)', () => {
    // What another copy of @tributary/core produces: its own classes, the same global symbols.
    const fromOtherCopy = Object.assign(Object.create(Error.prototype) as Error, {
      [Symbol.for('tributary.error')]: true,
      [Symbol.for('tributary.error.connector_api_error')]: true,
      [Symbol.for('tributary.error.rate_limit')]: true,
      code: 'rate_limited',
      status: 429,
    });
    expect(fromOtherCopy instanceof TributaryError).toBe(false);
    expect(TributaryError.isInstance(fromOtherCopy)).toBe(true);
    expect(ConnectorApiError.isInstance(fromOtherCopy)).toBe(true);
    expect(RateLimitError.isInstance(fromOtherCopy)).toBe(true);
    expect(AuthError.isInstance(fromOtherCopy)).toBe(false);
    expect(TributaryError.isInstance(new Error('plain'))).toBe(false);
    expect(TributaryError.isInstance(null)).toBe(false);
    expect(TributaryError.isInstance({ code: 'x' })).toBe(false);
  });

  it('subclass checks are specific', () => {
    const rateLimit = new RateLimitError({ connector: 'notion', retryAfterMs: 2000 });
    expect(RateLimitError.isInstance(rateLimit)).toBe(true);
    expect(ConnectorApiError.isInstance(rateLimit)).toBe(true);
    expect(TributaryError.isInstance(rateLimit)).toBe(true);
    expect(AuthError.isInstance(rateLimit)).toBe(false);
    expect(RateLimitError.isInstance(new ConnectorApiError({ status: 500 }))).toBe(false);
    expect(rateLimit).toMatchObject({
      status: 429,
      isRetryable: true,
      retryAfterMs: 2000,
      code: 'rate_limited',
    });
    expect(rateLimit.message).toContain('asked to wait 2s');
  });
});

describe('ConnectorApiError', () => {
  it.each([
    [408, true],
    [409, true],
    [425, true],
    [429, true],
    [500, true],
    [503, true],
    [400, false],
    [404, false],
    [422, false],
  ])('status %i isRetryable=%s', (status, retryable) => {
    expect(new ConnectorApiError({ status }).isRetryable).toBe(retryable);
  });

  it('treats a missing status as a retryable network error', () => {
    const error = new ConnectorApiError({
      connector: 'zoom',
      method: 'get',
      url: 'https://api.zoom.us/v2/users',
    });
    expect(error.isRetryable).toBe(true);
    expect(error.message).toBe(
      '[tributary] [zoom] GET https://api.zoom.us/v2/users failed before any response arrived (network error). ' +
        'Check network access to the provider; the call is retried automatically and the next sync resumes from the last checkpoint.',
    );
  });

  it('stores URL and body excerpt redacted and truncated', () => {
    const error = new ConnectorApiError({
      status: 500,
      url: 'https://www.googleapis.com/drive/v3/files?key=AIzaSyABCDEF&q=name',
      responseBody: `Authorization: Bearer abc.def.ghi ${'x'.repeat(2000)}`,
    });
    expect(error.url).toBe('https://www.googleapis.com/drive/v3/files?key=[REDACTED]&q=name');
    expect(error.responseExcerpt).toMatch(/^Authorization: Bearer \[REDACTED\] x+…$/);
    expect(error.responseExcerpt?.length).toBeLessThanOrEqual(501);
  });
});

describe('redactSecrets', () => {
  it.each([
    ['Authorization: Bearer sk-live-1234567890abcdef', 'Authorization: Bearer [REDACTED]'],
    ['https://x.test/a?token=abc123&page=2', 'https://x.test/a?token=[REDACTED]&page=2'],
    [
      'https://x.test/a?api_key=abc&secret=s3&client_secret=zz',
      'https://x.test/a?api_key=[REDACTED]&secret=[REDACTED]&client_secret=[REDACTED]',
    ],
    ['https://x.test/cb?code=4/0AX4XfWh&state=1', 'https://x.test/cb?code=[REDACTED]&state=1'],
    [
      '{"access_token": "ya29.zzz", "code": "rate_limited"}',
      '{"access_token": "[REDACTED]", "code": "rate_limited"}',
    ],
    ['https://user:hunter2@db.example.com/x', 'https://user:[REDACTED]@db.example.com/x'],
    ['id token eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhYmMifQ.c2lnbmF0dXJl here', 'id token [REDACTED] here'],
    ['notion key secret_abcdefghijklmnopqrstuvwxyz0123 ok', 'notion key [REDACTED] ok'],
    ['nothing to hide: page=2&q=hello', 'nothing to hide: page=2&q=hello'],
  ])('%s', (input, expected) => {
    expect(redactSecrets(input)).toBe(expected);
  });
});

describe('InvalidConfigError', () => {
  const schema = z.object({
    folders: z.array(z.object({ id: z.string().min(1), recursive: z.boolean().default(true) })),
    pageSize: z.number().int().max(1000).optional(),
    headers: z.record(z.string(), z.string()).optional(),
  });

  it('names the field of a nested zod issue as folders[2].id', () => {
    const result = schema.safeParse({ folders: [{ id: 'a' }, { id: 'b' }, { id: 42 }] });
    expect(result.success).toBe(false);
    if (result.success) return;
    const error = InvalidConfigError.fromSchemaIssues(result.error, { connector: 'google_drive' });
    expect(error.fieldPath).toBe('folders[2].id');
    expect(error.message).toMatch(
      /^\[tributary\] \[google_drive\] invalid config field "folders\[2\]\.id": /,
    );
    expect(error.message).toContain('Fix the config and create the connector again.');
    expect(error.issues).toHaveLength(1);
    expect(isFatalError(error)).toBe(true);
  });

  it('lists further issues and quotes odd keys', () => {
    const result = schema.safeParse({ folders: 'nope', pageSize: 5000, headers: { 'x-api-key': 7 } });
    if (result.success) throw new Error('expected failure');
    const error = InvalidConfigError.fromSchemaIssues(result.error, { subject: 'settings' });
    expect(error.issues.map((issue) => issue.fieldPath)).toEqual([
      'folders',
      'pageSize',
      'headers["x-api-key"]',
    ]);
    expect(error.message).toContain('(and 2 more: settings field "pageSize"');
    expect(error.message).not.toContain('5000');
  });

  it('formats paths', () => {
    expect(formatFieldPath([])).toBe('');
    expect(formatFieldPath(['a', 0, 'b', { key: 'c d' }])).toBe('a[0].b["c d"]');
  });
});

describe('fatal and abort classification', () => {
  it('isFatalError: auth, quota and invalid config only', () => {
    expect(isFatalError(new AuthError({ status: 401 }))).toBe(true);
    expect(isFatalError(new QuotaExceededError())).toBe(true);
    expect(isFatalError(new InvalidConfigError({ issues: [{ fieldPath: 'x', message: 'bad' }] }))).toBe(true);
    expect(isFatalError(new RateLimitError({}))).toBe(false);
    expect(isFatalError(new ConnectorApiError({ status: 500 }))).toBe(false);
    expect(isFatalError(new UnsupportedContentError({ mimeType: 'image/png' }))).toBe(false);
    expect(isFatalError(new Error('x'))).toBe(false);
  });

  it('isAbortError recognises ours and the DOM one, not timeouts', () => {
    const controller = new AbortController();
    controller.abort();
    expect(isAbortError(controller.signal.reason)).toBe(true);
    expect(isAbortError(new AbortError())).toBe(true);
    expect(isAbortError(new TimeoutError({ timeoutMs: 5 }))).toBe(false);
    expect(isAbortError(AbortSignal.timeout(0).reason)).toBe(false);
  });

  it('content, URL and webhook errors say what to do next', () => {
    expect(new UnsupportedContentError({ fileName: 'a.png', mimeType: 'image/png' }).message).toBe(
      '[tributary] [content] cannot extract text from a.png (image/png): the type is not supported. ' +
        'Convert the file to a supported type (text, HTML, Markdown, PDF, DOCX, CSV, VTT/SRT) or register an extractor for it.',
    );
    expect(new CorruptContentError({ reason: 'truncated zip', connector: 'upload' }).message).toContain(
      '[tributary] [upload] cannot read the content: truncated zip.',
    );
    const unsafe = new UnsafeUrlError({
      url: 'http://169.254.169.254/latest?token=abc',
      reason: 'link-local address',
    });
    expect(unsafe.url).toBe('http://169.254.169.254/latest?token=[REDACTED]');
    expect(new WebhookVerificationError({ connector: 'zoom', reason: 'signature mismatch' }).message).toMatch(
      /^\[tributary\] \[zoom\] webhook verification failed: signature mismatch\. Reject the delivery/,
    );
  });
});
