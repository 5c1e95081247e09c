import {
  AuthError,
  ConnectorApiError,
  QuotaExceededError,
  RateLimitError,
  redactSecrets,
} from '@tributary/core';

export interface TranscribeInput {
  /** The whole recording (at most `maxBytes`). */
  bytes: Uint8Array;
  fileName: string;
  mimeType: string;
  signal?: AbortSignal | undefined;
}

export interface TranscriptionResult {
  text: string;
  /** Seconds of audio, when the service reports it. */
  durationSeconds?: number | undefined;
  language?: string | undefined;
}

/** Turns speech into text. `createOpenAITranscriber` ships; anything with this shape works. */
export interface Transcriber {
  /** Shown in document metadata, e.g. `openai:whisper-1`. */
  readonly id: string;
  /** Files larger than this are stored and reported as too large to transcribe. */
  readonly maxBytes: number;
  transcribe(input: TranscribeInput): Promise<TranscriptionResult>;
}

/** OpenAI's upload limit for `audio/transcriptions`: 25 MB. */
export const OPENAI_TRANSCRIPTION_MAX_BYTES = 25 * 1024 * 1024;

/**
 * The part of an `openai` client the transcriber calls. Structural, so these type declarations
 * compile without `openai` installed (it is an optional peer); an `OpenAI` instance fits it.
 */
export interface OpenAITranscriptionClient {
  readonly audio: {
    readonly transcriptions: {
      // Method syntax on purpose: parameters are compared bivariantly, so the SDK's overloads fit.
      create(
        body: { file: unknown; model: string; response_format?: string },
        options?: { signal?: AbortSignal | undefined; maxRetries?: number },
      ): PromiseLike<unknown>;
    };
  };
}

export interface OpenAITranscriberSettings {
  /** Default `whisper-1`; `gpt-4o-transcribe` and `gpt-4o-mini-transcribe` work too. */
  model?: string | undefined;
  /** Default: `OPENAI_API_KEY`, read at the first call. Never logged. */
  apiKey?: string | undefined;
  baseURL?: string | undefined;
  /** A client you built; its retries are turned off per request (one retry owner: the caller). */
  client?: OpenAITranscriptionClient | undefined;
  /** Default 25 MB (the API's limit). */
  maxBytes?: number | undefined;
  timeoutMs?: number | undefined;
}

/**
 * Transcription with OpenAI's `audio/transcriptions` endpoint (openai is an optional peer
 * dependency, loaded on first use). 401/403 become `AuthError`, an exhausted quota
 * `QuotaExceededError`, 429 `RateLimitError`, anything else `ConnectorApiError`; messages are
 * redacted.
 */
export function createOpenAITranscriber(settings: OpenAITranscriberSettings = {}): Transcriber {
  const model = settings.model ?? 'whisper-1';
  let client: Promise<OpenAITranscriptionClient> | undefined;
  const getClient = () => {
    client ??= (async () => {
      if (settings.client) return settings.client;
      const { default: OpenAIClient } = await import('openai');
      const apiKey = settings.apiKey ?? process.env.OPENAI_API_KEY;
      if (!apiKey) {
        throw new AuthError({
          connector: 'upload',
          message: 'no OpenAI API key for transcription',
          hint: 'Set OPENAI_API_KEY or pass apiKey/client to createOpenAITranscriber, or leave transcriber unset to store recordings as awaiting transcription',
        });
      }
      return new OpenAIClient({
        apiKey,
        baseURL: settings.baseURL,
        maxRetries: 0,
        timeout: settings.timeoutMs ?? 600_000,
      });
    })();
    return client;
  };
  return {
    id: `openai:${model}`,
    maxBytes: settings.maxBytes ?? OPENAI_TRANSCRIPTION_MAX_BYTES,
    async transcribe(input) {
      const openai = await getClient();
      const { toFile } = await import('openai');
      try {
        const file = await toFile(input.bytes, input.fileName, { type: input.mimeType });
        const result = (await openai.audio.transcriptions.create(
          { file, model, response_format: model === 'whisper-1' ? 'verbose_json' : 'json' },
          { signal: input.signal, maxRetries: 0 },
        )) as { text: string; duration?: number; language?: string };
        return { text: result.text, durationSeconds: result.duration, language: result.language };
      } catch (error) {
        throw toTranscriptionError(error);
      }
    },
  };
}

function toTranscriptionError(error: unknown): Error {
  const status = (error as { status?: unknown })?.status;
  const code = (error as { code?: unknown })?.code;
  const message = redactSecrets(error instanceof Error ? error.message : String(error));
  if (status === 401 || status === 403) {
    return new AuthError({
      connector: 'upload',
      status,
      message: `OpenAI refused the transcription request (${status}): ${message}`,
      hint: 'Check the OpenAI API key given to createOpenAITranscriber',
    });
  }
  if (status === 429 && code === 'insufficient_quota') {
    return new QuotaExceededError({
      connector: 'upload',
      message: `OpenAI transcription quota is used up: ${message}`,
    });
  }
  if (status === 429) {
    return new RateLimitError({
      connector: 'upload',
      status: 429,
      message: `OpenAI transcription is rate limited: ${message}`,
    });
  }
  return new ConnectorApiError({
    connector: 'upload',
    status: typeof status === 'number' ? status : undefined,
    message: `transcription failed: ${message}`,
  });
}
