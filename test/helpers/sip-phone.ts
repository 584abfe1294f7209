/**
 * A SIP phone for end-to-end tests, in process on 127.0.0.1: a SIP user agent on its own UDP
 * port that calls Conclave or answers Conclave's INVITEs, and an RTP socket that speaks a tone
 * as PCMU every 20 ms (drift-corrected) and keeps every frame it hears with its arrival time,
 * so tests can ask "what did this phone hear after the REST 200?". Its keypad presses keys as
 * RFC 4733 events (its SDP offers telephone-event/8000 on 101) or, opened with
 * `telephoneEvent: false`, as in-band tones; RFC 4733 keys Conclave sends it are kept in
 * `keysHeard`.
 */
import dgram from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { decodeMulaw, encodeMulaw } from '../../src/media/codec/g711.js';
import { parseRtp, serializeRtp } from '../../src/media/rtp/rtp-packet.js';
import { writeAnswer, writeOffer, type RemoteAudio } from '../../src/sip/sdp/audio-session.js';
import { rtpAudio } from '../../src/sip/sdp/session-audio.js';
import { answerCrypto, offerCrypto, offeredCryptoFor, type SdesCrypto } from '../../src/sip/sdp/sdes-crypto.js';
import { SrtpContext } from '../../src/media/rtp/srtp-context.js';
import type { SipCall } from '../../src/sip/ua/call.js';
import type { IncomingCall } from '../../src/sip/ua/incoming-call.js';
import { SipUserAgent } from '../../src/sip/ua/user-agent.js';
import { SipCombinedTransport } from '../../src/sip/transport/combined-transport.js';
import type { SipTlsOptions } from '../../src/sip/transport/tcp-transport.js';
import { goertzel, meanAmplitude, ToneSource } from '../media/goertzel.js';
import { keyTone } from './dtmf.js';

export interface HeardFrame {
  /** performance.now() when the test process read it. */
  at: number;
  /** Its RTP timestamp: Conclave's clock, 8 per ms. */
  ts: number;
  pcm: Int16Array;
}

/** What the phone sends in one 20 ms slot while it presses keys. */
type KeySlot = { kind: 'event'; code: number; duration: number; end: boolean } | { kind: 'pcm'; pcm: Int16Array };

const RFC4733_CODES = '0123456789*#ABCD';
const TELEPHONE_EVENT_PT = 101;

/** Removes telephone-event from an SDP body (a phone that only sends keys in-band). */
function withoutTelephoneEvent(sdp: string): string {
  return sdp
    .split('\r\n')
    .filter((line) => !/^a=(rtpmap|fmtp):101\b/.test(line))
    .map((line) => (line.startsWith('m=audio') ? line.replace(/ 101\b/, '') : line))
    .join('\r\n');
}

export class SipPhone {
  readonly heard: HeardFrame[] = [];
  /** SRTP packets that failed authentication or replay checks (an SRTP call). */
  srtpRefused = 0;
  private srtpOffered: SdesCrypto[] | undefined;
  private srtpOut: SrtpContext | undefined;
  private srtpIn: SrtpContext | undefined;
  /** Keys Conclave sent as RFC 4733 events, in order (one per event). */
  readonly keysHeard: string[] = [];
  private lastEventTs = -1;
  /** The RTP timestamp of the key event being sent. */
  private eventStart = 0;
  private readonly keySlots: KeySlot[] = [];
  call: SipCall | undefined;
  remote: RemoteAudio | undefined;
  /** Resolves when Conclave's INVITE arrives (answering phones). */
  readonly invited: Promise<IncomingCall>;
  private tone: ToneSource | null;
  private timer: NodeJS.Timeout | undefined;
  private seq = 1;
  private ts = 0;
  private next = 0;
  private sending = true;
  private readonly payload = new Uint8Array(160);
  private sdpVersion = 1;
  private closed = false;

  private constructor(
    readonly name: string,
    private readonly transport: SipCombinedTransport,
    readonly ua: SipUserAgent,
    private readonly rtp: dgram.Socket,
    hz: number | null,
    invited: Promise<IncomingCall>,
    private readonly telephoneEvent: boolean,
  ) {
    this.tone = hz === null ? null : new ToneSource(hz, 8000);
    this.invited = invited;
    rtp.on('message', (raw) => {
      let msg: Buffer = raw;
      if (this.srtpIn) {
        const length = this.srtpIn.unprotectRtp(raw, raw.length, raw);
        if (length < 0) {
          this.srtpRefused++;
          return;
        }
        msg = raw.subarray(0, length);
      } else if (this.srtpOffered) {
        return; // SRTP offered, not answered yet: nothing to read
      }
      const p = parseRtp(msg);
      if (p && p.payloadType === TELEPHONE_EVENT_PT && p.payload.length >= 4 && (p.payload[1]! & 0x80) !== 0 && p.timestamp !== this.lastEventTs) {
        this.lastEventTs = p.timestamp;
        this.keysHeard.push(RFC4733_CODES[p.payload[0]!] ?? '?');
      }
      if (!p || p.payloadType !== 0) return;
      const pcm = new Int16Array(160);
      decodeMulaw(p.payload, pcm);
      this.heard.push({ at: performance.now(), ts: p.timestamp, pcm });
    });
  }

  /**
   * A phone speaking `hz` (null: silent), listening on UDP and TCP; with `answer`, it answers
   * every INVITE at once; `onInvite` is told every INVITE (a carrier that challenges, then accepts).
   */
  static async open(
    name: string,
    hz: number | null,
    options: { answer?: boolean; telephoneEvent?: boolean; srtp?: boolean; tls?: SipTlsOptions; host?: string; onInvite?: (incoming: IncomingCall, phone: SipPhone) => void } = {},
  ): Promise<SipPhone> {
    const host = options.host ?? '127.0.0.1';
    const transport = await SipCombinedTransport.open({ host, port: 0, ...(options.tls ? { tls: { ...options.tls, port: 0 } } : {}) });
    const rtp = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => rtp.bind(0, host, resolve));
    let onInvite: (incoming: IncomingCall) => void = () => {};
    const invited = new Promise<IncomingCall>((resolve) => (onInvite = resolve));
    const holder: { phone?: SipPhone } = {};
    const ua = new SipUserAgent({
      transport,
      address: transport.address,
      onInvite: (incoming) => {
        onInvite(incoming);
        if (options.answer) holder.phone?.accept(incoming);
        if (holder.phone) options.onInvite?.(incoming, holder.phone);
      },
      onReinvite: (_call, offered) => {
        const phone = holder.phone!;
        const offer = rtpAudio(offered);
        phone.remote = offer;
        return phone.sdp(writeAnswer(phone.localAudio(), offer));
      },
    });
    holder.phone = new SipPhone(name, transport, ua, rtp, hz, invited, options.telephoneEvent ?? true);
    if (options.srtp) holder.phone.srtpOffered = offerCrypto();
    return holder.phone;
  }

  get uri(): string {
    return `sip:${this.name}@${this.transport.address.host}:${this.transport.address.port}`;
  }

  /** The phone's `sips:` URI, at its TLS listener (opened with `tls`: SIP over TLS, RFC 5630). */
  get sipsUri(): string {
    const tls = this.transport.tlsAddress;
    if (!tls) throw new Error(`${this.name} was opened without tls`);
    return `sips:${this.name}@${tls.host}:${tls.port}`;
  }

  private sdp(body: string): string {
    return this.telephoneEvent ? body : withoutTelephoneEvent(body);
  }

  /**
   * Presses keys (0–9, `*`, `#`, A–D; `w` waits ½ s): each held 100 ms then released for
   * 100 ms, as RFC 4733 events (RFC 4733 §2.5: marker on the first packet, one timestamp per
   * event, growing duration, the end packet three times) or, for a phone without
   * telephone-event, as in-band tones. Resolves once the last key is sent.
   */
  async pressKeys(digits: string): Promise<void> {
    for (const key of digits) {
      if (key === 'w') {
        for (let i = 0; i < 25; i++) this.keySlots.push({ kind: 'pcm', pcm: new Int16Array(160) });
        continue;
      }
      if (this.telephoneEvent) {
        const code = RFC4733_CODES.indexOf(key);
        if (code === -1) throw new Error(`"${key}" is not a key`);
        // The event's timestamp is the audio clock's when its first packet goes (sendEvent).
        for (let i = 1; i <= 5; i++) this.keySlots.push({ kind: 'event', code, duration: i * 160, end: false });
        for (let i = 0; i < 3; i++) this.keySlots.push({ kind: 'event', code, duration: 800, end: true });
      } else {
        const tone = keyTone(key, 100);
        for (let i = 0; i < 5; i++) this.keySlots.push({ kind: 'pcm', pcm: tone.subarray(i * 160, (i + 1) * 160) });
      }
      for (let i = 0; i < 5; i++) this.keySlots.push({ kind: 'pcm', pcm: new Int16Array(160) });
    }
    while (this.keySlots.length > 0) await new Promise((r) => setTimeout(r, 20));
  }

  private localAudio(): { address: string; port: number; sessionId: string; sessionVersion: number } {
    return { address: this.rtp.address().address, port: this.rtp.address().port, sessionId: '4242', sessionVersion: this.sdpVersion };
  }

  /**
   * Calls `target` (Conclave's SIP URI); resolves once answered, rejects with the failure status.
   * `via` sends the INVITE to another address than the URI's host (a domain name that does not
   * resolve); `auth` answers a digest challenge; `headers` are added to the INVITE.
   */
  async dial(target: string, options: { via?: { host: string; port: number }; auth?: { username: string; password: string }; headers?: Array<readonly [string, string]> } = {}): Promise<SipCall> {
    const call = this.ua.invite({
      to: target,
      from: this.uri,
      sdpOffer: this.sdp(writeOffer(this.localAudio(), this.srtpOffered ? { crypto: this.srtpOffered } : {})),
      ...(options.via ? { destination: options.via } : {}),
      ...(options.auth ? { auth: options.auth } : {}),
      ...(options.headers ? { headers: options.headers } : {}),
    });
    this.call = call;
    const answered = await new Promise<RemoteAudio>((resolve, reject) => {
      call.on('answered', (a) => resolve(rtpAudio(a.remoteAudio)));
      call.on('failed', (f) => reject(Object.assign(new Error(`call failed: ${f.status} ${f.reason}`), { status: f.status })));
    });
    this.remote = answered;
    if (this.srtpOffered) {
      // RFC 4568: we send with the key of the line the answer accepted, and read with its key.
      const accepted = answered.crypto ? offeredCryptoFor(this.srtpOffered, answered.crypto) : null;
      if (!accepted || !answered.crypto) throw new Error(`${this.name} offered SRTP and got a plain answer`);
      this.srtpOut = new SrtpContext(accepted.key);
      this.srtpIn = new SrtpContext(answered.crypto.key);
    }
    this.startSending();
    return call;
  }

  /** Answers an INVITE from Conclave. */
  accept(incoming: IncomingCall): SipCall {
    const offer = rtpAudio(incoming.offer);
    this.remote = offer;
    // An SRTP phone answers an SRTP offer in kind (its own key on the offered line); a plain one plainly.
    const ours = this.srtpOffered && offer.crypto ? answerCrypto(offer.crypto) : undefined;
    if (ours && offer.crypto) {
      this.srtpOut = new SrtpContext(ours.key);
      this.srtpIn = new SrtpContext(offer.crypto.key);
    }
    const call = incoming.accept(this.sdp(writeAnswer(this.localAudio(), offer, ours ? { crypto: [ours] } : {})));
    this.call = call;
    this.startSending();
    return call;
  }

  /** The phone's own hold (re-INVITE sendonly, RFC 3264 §8.4), or resume. */
  async hold(onHold: boolean): Promise<void> {
    this.sdpVersion++;
    const offer = this.sdp(writeOffer(this.localAudio())).replace('a=sendrecv', onHold ? 'a=sendonly' : 'a=sendrecv');
    const result = await this.call!.reinvite(offer);
    if (result.status !== 200) throw new Error(`re-INVITE answered ${result.status}`);
  }

  /** Stops (false) or resumes (true) sending RTP at all, as a phone that lost its network would. */
  setSending(on: boolean): void {
    this.sending = on;
  }

  private startSending(): void {
    if (this.timer) return;
    this.next = performance.now();
    const tick = (): void => {
      this.sendFrame();
      this.next += 20;
      this.timer = setTimeout(tick, Math.max(0, this.next - performance.now()));
    };
    tick();
  }

  private sendFrame(): void {
    if (!this.remote || !this.sending) return;
    const slot = this.keySlots.shift();
    if (slot?.kind === 'event') {
      this.sendEvent(slot);
      return;
    }
    const pcm = slot?.kind === 'pcm' ? slot.pcm : this.tone ? this.tone.pop() : new Int16Array(160);
    encodeMulaw(pcm, this.payload);
    const packet = serializeRtp({ marker: this.seq === 1, payloadType: 0, sequenceNumber: this.seq++ & 0xffff, timestamp: (this.ts += 160) >>> 0, ssrc: 0x5eed0000 + this.name.length, payload: this.payload });
    this.rtp.send(this.protect(packet), this.remote.port, this.remote.address);
  }

  /** One RFC 4733 packet in the audio's SSRC and sequence space; the timestamp stays at the event's start. */
  private sendEvent(slot: Extract<KeySlot, { kind: 'event' }>): void {
    const first = slot.duration === 160 && !slot.end;
    if (first) this.eventStart = (this.ts += 160) >>> 0;
    const payload = new Uint8Array([slot.code, (slot.end ? 0x80 : 0) | 10, slot.duration >> 8, slot.duration & 0xff]);
    const packet = serializeRtp({ marker: first, payloadType: TELEPHONE_EVENT_PT, sequenceNumber: this.seq++ & 0xffff, timestamp: this.eventStart, ssrc: 0x5eed0000 + this.name.length, payload });
    if (!first) this.ts = (this.eventStart + slot.duration - 160) >>> 0;
    this.rtp.send(this.protect(packet), this.remote!.port, this.remote!.address);
  }
  /** The packet as SRTP when the call is (RFC 3711), else as it is. */
  private protect(packet: Uint8Array): Uint8Array {
    if (!this.srtpOut) return packet;
    const out = new Uint8Array(packet.length + 16);
    const length = this.srtpOut.protectRtp(packet, packet.length, out);
    return out.subarray(0, length);
  }

  /** What the phone heard after `since` (performance.now()), frames concatenated. */
  heardSince(since: number, frames?: number): Int16Array {
    const picked = this.heard.filter((f) => f.at >= since).slice(0, frames);
    const out = new Int16Array(picked.length * 160);
    picked.forEach((f, i) => out.set(f.pcm, i * 160));
    return out;
  }

  /**
   * Frames Conclave *sent* after `since`, by their RTP timestamps: a test process busy with
   * other work reads several queued frames at once, so arrival times run late; the least
   * delayed frame gives the offset between Conclave's RTP clock and ours (frames are never
   * early), which dates every frame when it left.
   */
  framesSentAfter(since: number): HeardFrame[] {
    if (this.heard.length === 0) return [];
    const base = this.heard[0]!.ts;
    const msOf = (f: HeardFrame): number => (((f.ts - base) >>> 0) / 8);
    const offset = Math.min(...this.heard.map((f) => f.at - msOf(f)));
    return this.heard.filter((f) => msOf(f) + offset >= since);
  }

  /** The amplitude of `hz` in each frame heard after `since`. */
  toneByFrame(since: number, hz: number): number[] {
    return this.heard.filter((f) => f.at >= since).map((f) => goertzel(f.pcm, hz));
  }

  /**
   * The loudest level of `hz` in a 400 ms window of what the phone hears next, polling windows
   * until one passes `level` or 3 s are gone: a change made through the API (a join, an unhold,
   * a coach, a bridge) reaches the mixer thread a moment after the REST answer or the event, and
   * a busy test process may read frames queued before it late, so one window can predate it.
   */
  async hearsTone(hz: number, level: number): Promise<number> {
    let heard = 0;
    for (const deadline = Date.now() + 3000; heard <= level && Date.now() < deadline; ) {
      const since = performance.now();
      await this.waitHeard(since, 20);
      heard = meanAmplitude(this.heardSince(since, 20), hz);
    }
    return heard;
  }

  /** Resolves once `frames` frames were heard after `since`. */
  async waitHeard(since: number, frames: number, timeoutMs = 5000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (this.heard.filter((f) => f.at >= since).length < frames) {
      if (Date.now() > end) throw new Error(`${this.name} heard only ${this.heard.filter((f) => f.at >= since).length}/${frames} frames`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Resolves when the call ends, with who ended it. */
  ended(): Promise<{ by: 'local' | 'remote'; reason: string }> {
    const call = this.call;
    if (!call) return Promise.reject(new Error('no call'));
    return call.next('ended');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.call && !this.call.ended) this.call.hangup();
    this.ua.close();
    await this.transport.close();
    await new Promise<void>((resolve) => this.rtp.close(() => resolve()));
  }
}
