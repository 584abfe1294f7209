/**
 * Opus (RFC 6716) for WebRTC legs, through @discordjs/opus (libopus built from its bundled
 * source). The mixer stays at 8 kHz: libopus takes and gives 8 kHz PCM directly and resamples
 * internally, so a 20 ms frame is 160 samples either side. On the wire an Opus stream's RTP clock
 * is 48 kHz whatever the audio bandwidth (RFC 7587 §4.1): 960 ticks per 20 ms frame.
 *
 * The encoder is set up for speech on a lossy path: application VOIP, in-band FEC on with an
 * expected loss of 10 % (RFC 7587 §3.3: the next packet carries a coarse copy of this one),
 * 24 kbit/s (narrowband SILK needs less; the surplus pays for the FEC), complexity 5 (measured
 * in bench/opus-codec.ts: about half the CPU of libopus's default 9 for a narrowband voice).
 *
 * Decoding: @discordjs/opus cannot decode FEC (it calls opus_decode with decode_fec = 0) nor
 * conceal one frame (an empty packet gets 720 ms of concealment at 8 kHz, after which the decoder
 * believes 720 ms were lost: with a 1 kHz tone the ten good frames after a single lost one came
 * out between 0.1× and 1.7× their level). No maintained npm package checked (opusscript,
 * @evan/opus, opus-decoder) decodes FEC either. So the decoder uses native/opus_decode.c
 * (opus-native.ts), which calls that same libopus with decode_fec and 20 ms concealment, into
 * our buffers. Measured on the speech-like voice with every tenth packet lost, over each lost
 * frame and the two after it against a decode that lost nothing: FEC 22 dB SNR, libopus's PLC
 * 6 dB, repeating the last frame 2 dB. Where that module did not build or load, decoding goes
 * through the binding: recover() is false and conceal() repeats the last frame as the jitter
 * buffer does for G.711 (−6 dB, −12 dB…, silence from the fifth), leaving libopus's state alone.
 *
 * Allocation: none per frame in our code. The binding allocates one Buffer per encode (the
 * packet); decoding through the native module allocates nothing (through the binding: a
 * 320-octet Buffer per frame).
 */
import opus from '@discordjs/opus';
import { nativeOpus } from './opus-native.js';
import type { NativeOpusDecoder } from './opus-native.js';

/** RTP clock rate of Opus, whatever the audio bandwidth (RFC 7587 §4.1). */
export const OPUS_CLOCK_RATE = 48_000;
/** RTP timestamp increment per 20 ms frame. */
export const OPUS_TICKS_PER_FRAME = 960;

/** The mixer's rate and frame: 20 ms at 8 kHz. */
const PCM_RATE = 8000;
const FRAME = 160;
const FRAME_BYTES = FRAME * 2;

// libopus request codes (opus_defines.h).
const OPUS_SET_APPLICATION = 4000;
const OPUS_APPLICATION_VOIP = 2048;
const OPUS_SET_COMPLEXITY = 4010;
const OPUS_SET_INBAND_FEC = 4012;
const OPUS_SET_PACKET_LOSS_PERC = 4014;

const DEFAULT_BITRATE = 24_000;
const DEFAULT_COMPLEXITY = 5;
/** Loss the encoder plans its FEC for, in percent (libopus adds FEC above a loss-dependent rate). */
const EXPECTED_LOSS_PERCENT = 10;
/** Lost frames concealed by the halved repeat; silence after (−24 dB by then). */
const MAX_CONCEALED = 4;

export interface OpusEncoderOptions {
  /** Bits per second (default 24,000). */
  bitrate?: number;
  /** libopus complexity 0–10 (default 5). */
  complexity?: number;
}

/** 8 kHz PCM frames to Opus packets, one 20 ms frame per packet. */
export class OpusFrameEncoder {
  private codec: opus.OpusEncoder | null;
  /** The frame as the binding takes it (a Node Buffer), copied into each encode. */
  private readonly input = Buffer.alloc(FRAME_BYTES);
  private readonly inputPcm = new Int16Array(this.input.buffer, this.input.byteOffset, FRAME);

  constructor(options: OpusEncoderOptions = {}) {
    const codec = new opus.OpusEncoder(PCM_RATE, 1);
    // The application can only be changed before the first encode (libopus refuses it after).
    codec.applyEncoderCTL(OPUS_SET_APPLICATION, OPUS_APPLICATION_VOIP);
    codec.applyEncoderCTL(OPUS_SET_INBAND_FEC, 1);
    codec.applyEncoderCTL(OPUS_SET_PACKET_LOSS_PERC, EXPECTED_LOSS_PERCENT);
    codec.applyEncoderCTL(OPUS_SET_COMPLEXITY, options.complexity ?? DEFAULT_COMPLEXITY);
    codec.setBitrate(options.bitrate ?? DEFAULT_BITRATE);
    this.codec = codec;
  }

  get closed(): boolean {
    return this.codec === null;
  }

  /** 160 samples of 8 kHz PCM16 → one packet; the view is valid until the next encode. */
  encode(pcm: Int16Array): Uint8Array {
    if (this.codec === null) throw new Error('Opus encoder is closed');
    this.inputPcm.set(pcm.length === FRAME ? pcm : pcm.subarray(0, FRAME));
    if (pcm.length < FRAME) this.inputPcm.fill(0, pcm.length);
    return this.codec.encode(this.input);
  }

  /** The binding frees libopus's state when its object is collected; we drop ours. */
  close(): void {
    this.codec = null;
  }
}

/** Samples of the longest Opus packet (120 ms, RFC 6716 §3.2.5) at 8 kHz. */
const MAX_PACKET_SAMPLES = 960;

export interface OpusDecoderOptions {
  /** Use native/opus_decode.c where it loaded (default); false = the binding's decode only. */
  native?: boolean;
}

/** Opus packets (any bandwidth, mono or stereo, as browsers send them) to 8 kHz mono frames. */
export class OpusFrameDecoder {
  /** The native decoder (FEC, per-frame PLC), or null: then the binding's. */
  private native: NativeOpusDecoder | null = null;
  private codec: opus.OpusEncoder | null = null;
  private isClosed = false;
  /** Native decodes land here (a packet may hold up to 120 ms), then 20 ms of it is copied out. */
  private readonly scratch: Int16Array;
  private readonly scratchFrame: Int16Array;
  /** The last `out` and a byte view of it, so copying the binding's result allocates nothing. */
  private lastOut: Int16Array | null = null;
  private lastOutBytes: Uint8Array | null = null;
  /** Without the native decoder: the last frame decoded, repeated halved to conceal, and the frames lost since. */
  private readonly last = new Int16Array(FRAME);
  private lost = 0;

  constructor(options: OpusDecoderOptions = {}) {
    if (nativeOpus !== null && options.native !== false) {
      this.native = nativeOpus.create(PCM_RATE);
      this.scratch = new Int16Array(MAX_PACKET_SAMPLES);
    } else {
      this.codec = new opus.OpusEncoder(PCM_RATE, 1);
      this.scratch = new Int16Array(FRAME);
    }
    this.scratchFrame = this.scratch.subarray(0, FRAME);
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** Whether recover() can use in-band FEC and conceal() libopus's PLC (the native decoder loaded). */
  get fec(): boolean {
    return this.native !== null;
  }

  /**
   * One packet → 160 samples at 8 kHz into out; false if undecodable (out is then untouched).
   * RFC 7587 lets the sender choose the frame duration; browsers send 20 ms unless told
   * otherwise. A shorter frame is padded with silence, a longer one cut to the mixer's frame.
   */
  decode(payload: Uint8Array, out: Int16Array): boolean {
    if (this.isClosed || payload.length === 0) return false;
    if (this.native !== null) {
      const n = nativeOpus!.decode(this.native, payload, this.scratch, 0);
      if (n < 0) return false;
      this.frameOut(n, out);
      return true;
    }
    let pcm: Buffer;
    try {
      pcm = this.codec!.decode(Buffer.isBuffer(payload) ? payload : Buffer.from(payload.buffer, payload.byteOffset, payload.length));
    } catch {
      return false; // the binding throws on a corrupt packet (OPUS_INVALID_PACKET)
    }
    this.lost = 0;
    this.copyOut(pcm, out);
    this.last.set(out.subarray(0, FRAME));
    return true;
  }

  /**
   * In-band FEC (RFC 7587 §3.3): the lost 20 ms frame before `next`, from `next`'s redundancy;
   * then decode `next` itself as usual. Where `next` carries no FEC, libopus conceals instead
   * (so a true here is not proof of redundancy). False without the native decoder (the binding
   * cannot decode FEC), or for a packet libopus refuses; `out` is then untouched.
   */
  recover(next: Uint8Array, out: Int16Array): boolean {
    if (this.isClosed || this.native === null || next.length === 0) return false;
    const n = nativeOpus!.decode(this.native, next, this.scratchFrame, 1);
    if (n !== FRAME) return false;
    this.frameOut(n, out);
    return true;
  }

  /**
   * Packet loss concealment for one frame: libopus's own (pitch-continued, then faded) with the
   * native decoder; without it, the last decoded frame halved per lost frame (see the header).
   */
  conceal(out: Int16Array): void {
    if (this.isClosed) {
      out.fill(0, 0, FRAME);
      return;
    }
    if (this.native !== null) {
      const n = nativeOpus!.decode(this.native, null, this.scratchFrame, 0);
      if (n === FRAME) {
        out.set(this.scratchFrame);
        return;
      }
    }
    const shift = ++this.lost;
    if (shift > MAX_CONCEALED) {
      out.fill(0, 0, FRAME);
      return;
    }
    const last = this.last;
    for (let i = 0; i < FRAME; i++) out[i] = last[i]! >> shift;
  }

  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    if (this.native !== null) nativeOpus!.destroy(this.native);
    this.native = null;
    this.codec = null;
    this.lastOut = null;
    this.lastOutBytes = null;
  }

  /** `n` samples decoded into the scratch → out's 20 ms (padded with silence if short). */
  private frameOut(n: number, out: Int16Array): void {
    if (n >= FRAME) {
      out.set(this.scratchFrame);
    } else {
      out.set(this.scratch.subarray(0, n));
      out.fill(0, n, FRAME);
    }
  }

  private copyOut(pcm: Buffer, out: Int16Array): void {
    if (this.lastOut !== out) {
      this.lastOut = out;
      this.lastOutBytes = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
    }
    const bytes = this.lastOutBytes!;
    const n = Math.min(pcm.length, FRAME_BYTES, bytes.length);
    pcm.copy(bytes, 0, 0, n);
    if (n < FRAME_BYTES && n < bytes.length) bytes.fill(0, n, Math.min(FRAME_BYTES, bytes.length));
  }
}
