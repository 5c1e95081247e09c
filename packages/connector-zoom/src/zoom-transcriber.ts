/** What a transcriber receives: the meeting's audio, at most `maxBytes`. */
export interface ZoomTranscribeInput {
  bytes: Uint8Array;
  fileName: string;
  mimeType: string;
  signal?: AbortSignal | undefined;
}

export interface ZoomTranscriptionResult {
  text: string;
  durationSeconds?: number | undefined;
  language?: string | undefined;
}

/**
 * Speech to text for meetings Zoom has no transcript of. The same shape as the `Transcriber` of
 * `@tributary/connector-upload`, so its `createOpenAITranscriber()` (OpenAI's
 * `audio/transcriptions`) can be passed as is; anything with this shape works.
 */
export interface ZoomTranscriber {
  /** Kept in document metadata and in the document version, e.g. `openai:whisper-1`. */
  readonly id: string;
  /** Audio larger than this is not sent; the meeting waits for a Zoom transcript instead. */
  readonly maxBytes: number;
  transcribe(input: ZoomTranscribeInput): Promise<ZoomTranscriptionResult>;
}
