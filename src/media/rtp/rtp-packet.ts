/**
 * RTP fixed header (RFC 3550 §5.1) parsing and serialisation.
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * |V=2|P|X|  CC   |M|     PT      |       sequence number         |
 * |                           timestamp                           |
 * |           synchronization source (SSRC) identifier            |
 * |            contributing source (CSRC) identifiers  (CC × 32)  |
 * | header extension (§5.3.1): profile(16) length(16, in words) … |
 *
 * Packets come from the network, so parsing never throws: anything malformed (short, wrong
 * version, CSRC list or extension running past the end, padding count larger than the payload)
 * yields `undefined`/`false` and the caller drops the datagram. The payload is a zero-copy view
 * into the received buffer; it is only valid until that buffer is reused.
 */

/** Size of the fixed header with no CSRCs. */
export const RTP_HEADER_SIZE = 12;

export interface RtpHeader {
  /** P bit; the padding has already been removed from `payload`. */
  padding: boolean;
  /** X bit; the extension has been skipped (its contents are not exposed). */
  extension: boolean;
  marker: boolean;
  payloadType: number;
  sequenceNumber: number;
  timestamp: number;
  ssrc: number;
  /** CSRC identifiers (empty for a packet from an endpoint, as opposed to a mixer). */
  csrcs: number[];
}

export interface RtpPacket extends RtpHeader {
  payload: Uint8Array;
}

/** What `serializeRtp` needs: the header fields we send, CSRCs optional. */
export interface RtpPacketInit {
  marker: boolean;
  payloadType: number;
  sequenceNumber: number;
  timestamp: number;
  ssrc: number;
  csrcs?: number[];
  payload: Uint8Array;
}

/** A reusable parse target for the receive hot path (no allocation per packet). */
export interface RtpView {
  marker: boolean;
  payloadType: number;
  sequenceNumber: number;
  timestamp: number;
  ssrc: number;
  /** Offset and length of the payload inside the parsed buffer. */
  payloadOffset: number;
  payloadLength: number;
}

export function createRtpView(): RtpView {
  return { marker: false, payloadType: 0, sequenceNumber: 0, timestamp: 0, ssrc: 0, payloadOffset: 0, payloadLength: 0 };
}

/**
 * Parses `buf` into `out` without allocating; returns false (and leaves `out` unspecified) when
 * the packet is malformed. CSRCs are validated for length but not copied.
 */
export function readRtp(buf: Uint8Array, out: RtpView): boolean {
  const len = buf.length;
  if (len < RTP_HEADER_SIZE) return false;
  const b0 = buf[0]!;
  if (b0 >> 6 !== 2) return false; // §5.1: V is 2; 0/1 are old RTP or vat, 3 is undefined
  const csrcCount = b0 & 0x0f;
  let offset = RTP_HEADER_SIZE + csrcCount * 4;
  if (offset > len) return false;
  if ((b0 & 0x10) !== 0) {
    // §5.3.1: a 4-byte extension header whose second half counts 32-bit words that follow.
    if (offset + 4 > len) return false;
    const words = (buf[offset + 2]! << 8) | buf[offset + 3]!;
    offset += 4 + words * 4;
    if (offset > len) return false;
  }
  let end = len;
  if ((b0 & 0x20) !== 0) {
    // §5.1: the last octet of the padding counts the padding octets, itself included, so it is
    // at least 1 and may not reach back into the header.
    const pad = buf[len - 1]!;
    if (pad === 0 || end - pad < offset) return false;
    end -= pad;
  }
  const b1 = buf[1]!;
  out.marker = (b1 & 0x80) !== 0;
  out.payloadType = b1 & 0x7f;
  out.sequenceNumber = (buf[2]! << 8) | buf[3]!;
  // `>>> 0` keeps 32-bit fields unsigned.
  out.timestamp = ((buf[4]! << 24) | (buf[5]! << 16) | (buf[6]! << 8) | buf[7]!) >>> 0;
  out.ssrc = ((buf[8]! << 24) | (buf[9]! << 16) | (buf[10]! << 8) | buf[11]!) >>> 0;
  out.payloadOffset = offset;
  out.payloadLength = end - offset;
  return true;
}

/** Parses a packet into a fresh object (convenient API; the receive path uses `readRtp`). */
export function parseRtp(buf: Uint8Array): RtpPacket | undefined {
  const view = createRtpView();
  if (!readRtp(buf, view)) return undefined;
  const b0 = buf[0]!;
  const csrcs: number[] = [];
  for (let i = 0, n = b0 & 0x0f; i < n; i++) {
    const o = RTP_HEADER_SIZE + i * 4;
    csrcs.push(((buf[o]! << 24) | (buf[o + 1]! << 16) | (buf[o + 2]! << 8) | buf[o + 3]!) >>> 0);
  }
  return {
    padding: (b0 & 0x20) !== 0,
    extension: (b0 & 0x10) !== 0,
    marker: view.marker,
    payloadType: view.payloadType,
    sequenceNumber: view.sequenceNumber,
    timestamp: view.timestamp,
    ssrc: view.ssrc,
    csrcs,
    payload: buf.subarray(view.payloadOffset, view.payloadOffset + view.payloadLength),
  };
}

/**
 * Writes a 12-byte fixed header (V=2, no padding, no extension, no CSRCs — what an endpoint or
 * our mixer sends) at the start of `dst`; returns 12. Used on the send path with a preallocated
 * packet buffer whose payload part is filled by the encoder.
 */
export function writeRtpHeader(
  dst: Uint8Array,
  marker: boolean,
  payloadType: number,
  sequenceNumber: number,
  timestamp: number,
  ssrc: number,
): number {
  dst[0] = 0x80;
  dst[1] = (marker ? 0x80 : 0) | (payloadType & 0x7f);
  dst[2] = (sequenceNumber >>> 8) & 0xff;
  dst[3] = sequenceNumber & 0xff;
  dst[4] = (timestamp >>> 24) & 0xff;
  dst[5] = (timestamp >>> 16) & 0xff;
  dst[6] = (timestamp >>> 8) & 0xff;
  dst[7] = timestamp & 0xff;
  dst[8] = (ssrc >>> 24) & 0xff;
  dst[9] = (ssrc >>> 16) & 0xff;
  dst[10] = (ssrc >>> 8) & 0xff;
  dst[11] = ssrc & 0xff;
  return RTP_HEADER_SIZE;
}

/**
 * Serialises a full packet (with CSRCs, no extension, no padding) into a new buffer. Not for
 * the per-frame path; tests and tools use it.
 */
export function serializeRtp(p: RtpPacketInit): Uint8Array {
  const csrcs = p.csrcs ?? [];
  if (csrcs.length > 15) throw new RangeError('at most 15 CSRCs fit in the CC field');
  const headerLen = RTP_HEADER_SIZE + csrcs.length * 4;
  const out = new Uint8Array(headerLen + p.payload.length);
  writeRtpHeader(out, p.marker, p.payloadType, p.sequenceNumber, p.timestamp, p.ssrc);
  out[0] = 0x80 | csrcs.length;
  for (let i = 0; i < csrcs.length; i++) {
    const c = csrcs[i]!;
    const o = RTP_HEADER_SIZE + i * 4;
    out[o] = (c >>> 24) & 0xff;
    out[o + 1] = (c >>> 16) & 0xff;
    out[o + 2] = (c >>> 8) & 0xff;
    out[o + 3] = c & 0xff;
  }
  out.set(p.payload, headerLen);
  return out;
}
