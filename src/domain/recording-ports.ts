/**
 * What recordings need from the outside: taps on the media plane that hand over a room's or a
 * leg's audio as it is mixed (RecorderTaps), and somewhere to keep it (RecordingStorage: files
 * under CONCLAVE_RECORDINGS_DIR, MP3 made from them on demand). app.ts adapts the media plane
 * and the file storage to these.
 */
import type { PauseBehavior, RecordingTrack } from './recording.js';

/** What a recording takes: a conference's room (its whole mix) or a call's leg. */
export type RecordingTarget = { conferenceSid: string } | { callSid: string };

export interface TapOptions {
  /** 1: mono. 2 (calls only): what the call says on the first channel, what it hears on the second. */
  channels: 1 | 2;
  /** Calls, mono: what the call says (`inbound`), hears (`outbound`), or both mixed. Rooms: `both`. */
  track: RecordingTrack;
}

export interface RecorderTaps {
  /**
   * Starts handing over the target's audio, 8 kHz PCM16 (interleaved when dual), in batches as
   * the media thread mixes it. Rejects when the target has no media here (the call ended, the
   * room is not on this node).
   */
  start(recordingSid: string, target: RecordingTarget, options: TapOptions, onAudio: (pcm: Int16Array) => void): Promise<RecorderTap>;
}

export interface RecorderTap {
  /** From now on the audio is left out (`skip`) or handed over as silence (`silence`). */
  pause(behavior: PauseBehavior): Promise<void>;
  resume(): Promise<void>;
  /** Stops; resolves once every batch before it was handed over. Idempotent. */
  stop(): Promise<void>;
  /** Resolves when the audio ended by itself (the leg or room closed); after its last batch. */
  readonly ended: Promise<void>;
}

/** A recording's audio, as a file is read. */
export interface RecordingMedia {
  contentType: 'audio/x-wav' | 'audio/mpeg';
  /** Bytes, when known (Content-Length). */
  size: number | undefined;
  body: AsyncIterable<Uint8Array>;
}

export interface RecordingStorage {
  /** A new file for the recording; rejects when the directory cannot be written. */
  create(recordingSid: string, channels: 1 | 2): Promise<RecordingSink>;
  /** The recording as WAV or MP3 (made from the WAV on first request, off the event loop); undefined when there is none. */
  read(recordingSid: string, format: 'wav' | 'mp3'): Promise<RecordingMedia | undefined>;
  /** Deletes every file of the recording; nothing when there is none. */
  remove(recordingSid: string): Promise<void>;
  /**
   * A file left by a crash mid-recording, made playable (its header written for what reached
   * the disk): its duration in whole seconds, or undefined when there is no usable audio.
   */
  recover(recordingSid: string): Promise<number | undefined>;
}

export interface RecordingSink {
  /** Appends audio (8 kHz PCM16, interleaved when dual); never throws: a write failure settles `failed`. */
  append(pcm: Int16Array): void;
  /** Settles with the first write error (disk full, unwritable directory); never resolves otherwise. */
  readonly failed: Promise<Error>;
  /**
   * Writes what is pending, trims leading and trailing silence when asked, and leaves a complete
   * WAV; resolves with its duration in whole seconds. Rejects on a write error.
   */
  finish(options: { trim: boolean }): Promise<number>;
  /** Closes and deletes the file (a recording ending absent). Idempotent. */
  discard(): Promise<void>;
}
