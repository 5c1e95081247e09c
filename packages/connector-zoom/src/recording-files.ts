import { UnsupportedContentError, webVttExtractor } from '@tributary/core';
import type { ZoomMeeting, ZoomRecordingFile } from './zoom-api.js';
import { ZOOM_CONNECTOR_TYPE } from './zoom-settings.js';
import type { ZoomTranscriber } from './zoom-transcriber.js';

const AUDIO_TYPES: Record<string, string> = { M4A: 'audio/mp4', MP4: 'video/mp4' };

const isReady = (file: ZoomRecordingFile) =>
  file.download_url !== undefined && (file.status === undefined || file.status === 'completed');

/** The meeting's transcript file (Zoom's audio transcript), when it is ready. */
export function transcriptFile(meeting: ZoomMeeting): ZoomRecordingFile | undefined {
  return meeting.recording_files.find((file) => file.file_type === 'TRANSCRIPT' && isReady(file));
}

/** The in-meeting chat file, when there is one. */
export function chatFile(meeting: ZoomMeeting): ZoomRecordingFile | undefined {
  return meeting.recording_files.find((file) => file.file_type === 'CHAT' && isReady(file));
}

/** The smallest file with the meeting's audio (audio-only M4A first) for a transcriber. */
export function audioFile(meeting: ZoomMeeting): ZoomRecordingFile | undefined {
  const candidates = meeting.recording_files.filter(
    (file) => file.file_type && file.file_type in AUDIO_TYPES && isReady(file),
  );
  return (
    candidates.find((file) => file.file_type === 'M4A') ??
    [...candidates].sort((a, b) => (a.file_size ?? Infinity) - (b.file_size ?? Infinity))[0]
  );
}

export function audioMimeType(file: ZoomRecordingFile): string {
  return AUDIO_TYPES[file.file_type ?? ''] ?? 'application/octet-stream';
}

/** How a meeting's words get into the document. */
export type TranscriptPlan =
  | { kind: 'zoom'; file: ZoomRecordingFile }
  | { kind: 'transcribe'; file: ZoomRecordingFile; transcriber: ZoomTranscriber }
  | { kind: 'awaiting'; reason: 'no_transcript' | 'too_large' };

/** Zoom's transcript when there is one; else the audio for the transcriber; else wait for Zoom. */
export function planTranscript(
  meeting: ZoomMeeting,
  transcriber: ZoomTranscriber | undefined,
): TranscriptPlan {
  const transcript = transcriptFile(meeting);
  if (transcript) return { kind: 'zoom', file: transcript };
  const audio = transcriber ? audioFile(meeting) : undefined;
  if (audio && transcriber) {
    if ((audio.file_size ?? 0) <= transcriber.maxBytes)
      return { kind: 'transcribe', file: audio, transcriber };
    return { kind: 'awaiting', reason: 'too_large' };
  }
  return { kind: 'awaiting', reason: 'no_transcript' };
}

function tooLarge(fileName: string, limit: number): UnsupportedContentError {
  return new UnsupportedContentError({
    connector: ZOOM_CONNECTOR_TYPE,
    fileName,
    reason: 'too_large',
    message: `${fileName} is larger than the ${limit} byte limit`,
    hint: 'Raise maxTextFileBytes (text files) or use a transcriber with a larger maxBytes (audio)',
  });
}

/**
 * Reads a download as text, chunk by chunk through a streaming decoder, stopping (and cancelling
 * the download) past `maxBytes`: a runaway file never fills memory.
 */
export async function readText(response: Response, fileName: string, maxBytes: number): Promise<string> {
  const bytes = await readBytes(response, fileName, maxBytes);
  return new TextDecoder('utf-8').decode(bytes);
}

/** Reads a download into one buffer of at most `maxBytes` (a transcriber's input). */
export async function readBytes(response: Response, fileName: string, maxBytes: number): Promise<Uint8Array> {
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body?.cancel().catch(() => {});
    throw tooLarge(fileName, maxBytes);
  }
  if (!response.body) return new Uint8Array();
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      throw tooLarge(fileName, maxBytes);
    }
    chunks.push(value);
  }
  const joined = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    joined.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return joined;
}

export interface TranscriptText {
  /** One line per cue: `[hh:mm:ss] Speaker: text`. */
  text: string;
  speakers: string[];
  cueCount: number;
}

/** Zoom's VTT transcript as lines with timestamps and speakers (core's WebVTT extractor). */
export async function vttToText(vtt: string, fileName: string): Promise<TranscriptText> {
  const output = await webVttExtractor.extract({
    bytes: undefined,
    text: vtt,
    mimeType: 'text/vtt',
    fileName,
    label: fileName,
    maxCharacters: Number.MAX_SAFE_INTEGER,
  });
  const metadata = (output.metadata ?? {}) as { speakers?: string[]; cueCount?: number };
  return { text: output.text, speakers: metadata.speakers ?? [], cueCount: metadata.cueCount ?? 0 };
}

// `00:01:02\t From  Ada Lovelace : hello` (classic) or `00:01:02 From Ada Lovelace to Everyone:`
// followed by the message on tab-indented lines (newer clients).
const CHAT_LINE = /^(\d{1,2}:\d{2}:\d{2})\s+From\s+(.+?)(?:\s+to\s+(.+?))?\s*:\s*(.*)$/;

/** Zoom's chat file as `[hh:mm:ss] Name: message` lines; a private message says to whom. */
export function chatToText(chat: string): string {
  const lines: string[] = [];
  let current: { time: string; name: string; to: string | undefined; message: string } | undefined;
  const flush = () => {
    if (!current) return;
    const message = current.message.replace(/\s+/g, ' ').trim();
    if (message !== '') {
      const to = current.to && !/^everyone$/i.test(current.to) ? ` (to ${current.to})` : '';
      const time = current.time.padStart(8, '0');
      lines.push(`[${time}] ${current.name}${to}: ${message}`);
    }
    current = undefined;
  };
  for (const raw of chat.replace(/^\uFEFF/, '').split(/\r?\n/)) {
    const match = CHAT_LINE.exec(raw.trim());
    if (match) {
      flush();
      current = {
        time: match[1] as string,
        name: (match[2] as string).trim(),
        to: match[3]?.trim(),
        message: match[4] ?? '',
      };
    } else if (current && raw.trim() !== '') {
      current.message += ` ${raw.trim()}`;
    }
  }
  flush();
  return lines.join('\n');
}
