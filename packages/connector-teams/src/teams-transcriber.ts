/** A recording handed to the transcriber. */
export interface TranscriptionInput {
  /** The recording's bytes, streamed from Graph (read it once). */
  readonly stream: ReadableStream<Uint8Array>;
  /** `video/mp4` for Teams recordings. */
  readonly mimeType: string;
  /** A file name with an extension, for speech APIs that want one. */
  readonly fileName: string;
  /** Size in bytes when Graph sent `content-length`. */
  readonly sizeBytes: number | undefined;
  readonly signal: AbortSignal;
}

/**
 * Turns a recording into text, e.g. with OpenAI's `audio.transcriptions` or Azure Speech. Returns
 * the transcript as plain text (keep speakers and timestamps in it when the service gives them).
 * Throw to fail the recording's document; the run goes on and retries it next time.
 */
export interface TeamsTranscriber {
  transcribe(input: TranscriptionInput): Promise<string>;
}
