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
 * What the binding cannot do, said plainly:
 * - FEC decode. @discordjs/opus calls opus_decode with decode_fec = 0 and has no other decode
 *   entry, and no maintained npm package checked (opusscript, @evan/opus, opus-decoder) exposes
 *   it either; `recover()` therefore returns false and the caller conceals instead.
 * - libopus's own concealment. It conceals when given an empty packet, but through the binding
 *   only 720 ms at a time (it asks for its whole 5,760-sample output buffer), after which the
 *   decoder believes 720 ms were lost: measured with a 1 kHz tone, the ten good frames after a
 *   single lost one then came out between 0.1× and 1.7× their level, where a decoder not told of
 *   the loss was back at level on the first. So `conceal()` repeats the last decoded frame, as
 *   the jitter buffer does for G.711 (−6 dB, then −12 dB…, silence from the fifth lost frame),
 *   and leaves libopus's state alone.
 * Allocation: we reuse our buffers; the binding allocates one Buffer per call for its result
 * (the packet on encode, 320 octets of PCM on decode).
 */
import opus from '@discordjs/opus';

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

/** Opus packets (any bandwidth, mono or stereo, as browsers send them) to 8 kHz mono frames. */
export class OpusFrameDecoder {
  private codec: opus.OpusEncoder | null = new opus.OpusEncoder(PCM_RATE, 1);
  /** The last `out` and a byte view of it, so copying a result into it allocates nothing. */
  private lastOut: Int16Array | null = null;
  private lastOutBytes: Uint8Array | null = null;
  /** The last frame decoded, repeated (attenuated) to conceal a loss, and the frames lost since. */
  private readonly last = new Int16Array(FRAME);
  private lost = 0;

  get closed(): boolean {
    return this.codec === null;
  }

  /** One packet → 160 samples at 8 kHz into out; false if undecodable (out is then untouched). */
  decode(payload: Uint8Array, out: Int16Array): boolean {
    if (this.codec === null || payload.length === 0) return false;
    let pcm: Buffer;
    try {
      pcm = this.codec.decode(Buffer.isBuffer(payload) ? payload : Buffer.from(payload.buffer, payload.byteOffset, payload.length));
    } catch {
      return false; // the binding throws on a corrupt packet (OPUS_INVALID_PACKET)
    }
    this.lost = 0;
    // RFC 7587 lets the sender choose the frame duration; browsers send 20 ms unless told
    // otherwise. A shorter frame is padded with silence, a longer one cut to the mixer's frame.
    this.copyOut(pcm, out);
    this.last.set(out.subarray(0, FRAME));
    return true;
  }

  /**
   * In-band FEC (RFC 7587 §3.3): the lost frame before `next`, from `next`'s redundancy. Not
   * possible through @discordjs/opus (see the file header): always false, and `out` is untouched.
   */
  recover(_next: Uint8Array, _out: Int16Array): boolean {
    return false;
  }

  /** Packet loss concealment for one frame: the last decoded frame, halved per lost frame. */
  conceal(out: Int16Array): void {
    const shift = ++this.lost;
    if (shift > MAX_CONCEALED || this.codec === null) {
      out.fill(0, 0, FRAME);
      return;
    }
    const last = this.last;
    for (let i = 0; i < FRAME; i++) out[i] = last[i]! >> shift;
  }

  close(): void {
    this.codec = null;
    this.lastOut = null;
    this.lastOutBytes = null;
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
