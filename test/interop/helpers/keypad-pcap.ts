/**
 * A caller's keypad as a capture file for sipp's `<exec play_pcap_audio="…">`, which replays
 * the UDP payloads of a pcap from its media port to the media address of the peer's SDP, at the
 * capture's pace. The shipped `dtmf_2833_*.pcap` hold one key each, with no audio around it;
 * these streams are what a phone sends: 20 ms PCMU frames all along, the caller listening to
 * the prompt for `leadInMs` before the first key, and each key held 100 ms then released for
 * 100 ms (test/helpers/dtmf.ts's Q.23 pairs, the timing Conclave's own keys use):
 *
 * - `rfc4733`: while a key is down, telephone-event packets (PT 101) replace the audio
 *   (RFC 4733 §2.5.1.1: same SSRC and sequence space, marker on the first, the timestamp fixed at
 *   the event's start, the duration growing by 160 per packet), the end packet (E bit) three
 *   times (§2.5.1.4); the audio after it has the timestamp it would have had.
 * - `inband`: the key's two tones in the PCMU audio itself, for a line without telephone-event.
 *
 * The file is classic pcap (libpcap's format: magic a1b2c3d4, link type 1 = Ethernet)
 * with IPv4/UDP headers whose addresses and ports sipp rewrites.
 */
import { writeFile } from 'node:fs/promises';
import { encodeMulaw } from '../../../src/media/codec/g711.js';
import { serializeRtp } from '../../../src/media/rtp/rtp-packet.js';
import { keyTone } from '../../helpers/dtmf.js';

/** The telephone-event payload type the SDP of keypadUacScenario maps (RFC 4733 §7.1.1: dynamic). */
export const TELEPHONE_EVENT_PT = 101;
const PCMU_PT = 0;
const FRAME = 160;
const FRAME_MS = 20;
const KEY_FRAMES = 5;
const GAP_FRAMES = 5;
const END_REPEATS = 3;
/** RFC 4733 §3.2 event codes. */
const EVENT_CODES = '0123456789*#ABCD';
/** RFC 4733 §2.3.2 volume, −dBm0. */
const VOLUME = 10;
/** μ-law of silence. */
const PCMU_SILENCE = 0xff;

export interface KeypadStreamOptions {
  keys: string;
  mode: 'rfc4733' | 'inband';
  /** Audio before the first key (the caller hears the prompt start); default 1000 ms. */
  leadInMs?: number;
  /** Audio after the last key; default 200 ms. */
  tailMs?: number;
  ssrc?: number;
}

export interface TimedPacket {
  /** When to send it, from the start of the stream. */
  atMs: number;
  rtp: Uint8Array;
}

/** The RTP packets of the keypad stream (see the file comment), in sending order. */
export function keypadRtp(options: KeypadStreamOptions): TimedPacket[] {
  const ssrc = options.ssrc ?? 0x4b455953;
  const packets: TimedPacket[] = [];
  let seq = 1000;
  let frame = 0;
  const audio = (payload: Uint8Array, marker = false): void => {
    packets.push({ atMs: frame * FRAME_MS, rtp: serializeRtp({ marker, payloadType: PCMU_PT, sequenceNumber: seq++ & 0xffff, timestamp: frame * FRAME, ssrc, payload }) });
    frame++;
  };
  const silence = (ms: number): void => {
    for (let i = 0; i < Math.round(ms / FRAME_MS); i++) audio(new Uint8Array(FRAME).fill(PCMU_SILENCE), frame === 0);
  };
  silence(options.leadInMs ?? 1000);
  for (const key of options.keys) {
    const code = EVENT_CODES.indexOf(key);
    if (key.length !== 1 || code < 0) throw new Error(`"${key}" is not a keypad key`);
    if (options.mode === 'inband') {
      const tone = keyTone(key, KEY_FRAMES * FRAME_MS);
      for (let f = 0; f < KEY_FRAMES; f++) {
        const payload = new Uint8Array(FRAME);
        encodeMulaw(tone.subarray(f * FRAME, (f + 1) * FRAME), payload);
        audio(payload);
      }
    } else {
      const start = frame * FRAME;
      for (let f = 0; f < KEY_FRAMES - 1 + END_REPEATS; f++) {
        const end = f >= KEY_FRAMES - 1;
        const duration = Math.min(f + 1, KEY_FRAMES) * FRAME;
        const payload = Uint8Array.of(code, (end ? 0x80 : 0) | VOLUME, duration >> 8, duration & 0xff);
        // The end repeats follow the last tone packet 5 ms apart, before the next audio frame is due.
        const at = Math.min(f, KEY_FRAMES - 1) * FRAME_MS + (end ? (f - KEY_FRAMES + 1) * 5 : 0);
        packets.push({ atMs: frame * FRAME_MS + at, rtp: serializeRtp({ marker: f === 0, payloadType: TELEPHONE_EVENT_PT, sequenceNumber: seq++ & 0xffff, timestamp: start, ssrc, payload }) });
      }
      frame += KEY_FRAMES;
    }
    silence(GAP_FRAMES * FRAME_MS);
  }
  silence(options.tailMs ?? 200);
  return packets;
}

/** A pcap (Ethernet, IPv4, UDP from 10.0.0.1:4000 to 10.0.0.2:6000: sipp rewrites both ends). */
export function pcapOf(packets: readonly TimedPacket[]): Buffer {
  const header = Buffer.alloc(24);
  header.writeUInt32LE(0xa1b2c3d4, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(65535, 16); // snaplen
  header.writeUInt32LE(1, 20); // LINKTYPE_ETHERNET
  const records = packets.map(({ atMs, rtp }, index) => {
    const udpLength = 8 + rtp.length;
    const ipLength = 20 + udpLength;
    const frame = Buffer.alloc(14 + ipLength);
    frame.writeUInt16BE(0x0800, 12); // EtherType IPv4 (MACs left zero)
    const ip = frame.subarray(14);
    ip[0] = 0x45;
    ip.writeUInt16BE(ipLength, 2);
    ip.writeUInt16BE(index & 0xffff, 4);
    ip.writeUInt16BE(0x4000, 6); // don't fragment
    ip[8] = 64;
    ip[9] = 17; // UDP
    Buffer.from([10, 0, 0, 1, 10, 0, 0, 2]).copy(ip, 12);
    ip.writeUInt16BE(ipChecksum(ip.subarray(0, 20)), 10);
    const udp = ip.subarray(20);
    udp.writeUInt16BE(4000, 0);
    udp.writeUInt16BE(6000, 2);
    udp.writeUInt16BE(udpLength, 4); // checksum 0: none (RFC 768)
    Buffer.from(rtp).copy(udp, 8);
    const record = Buffer.alloc(16);
    const micros = Math.round(atMs * 1000);
    record.writeUInt32LE(1_700_000_000 + Math.floor(micros / 1_000_000), 0);
    record.writeUInt32LE(micros % 1_000_000, 4);
    record.writeUInt32LE(frame.length, 8);
    record.writeUInt32LE(frame.length, 12);
    return Buffer.concat([record, frame]);
  });
  return Buffer.concat([header, ...records]);
}

/** Writes the keypad stream as a pcap for `play_pcap_audio`; resolves with how long it plays. */
export async function writeKeypadPcap(path: string, options: KeypadStreamOptions): Promise<number> {
  const packets = keypadRtp(options);
  await writeFile(path, pcapOf(packets));
  return packets.at(-1)?.atMs ?? 0;
}

/** RFC 791 header checksum: the ones' complement of the ones' complement sum of 16-bit words. */
function ipChecksum(header: Buffer): number {
  let sum = 0;
  for (let i = 0; i < header.length; i += 2) sum += header.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}
