/**
 * Messages between bench/webrtc-capacity.ts and its WebRTC load generator children
 * (bench/webrtc-loadgen.ts). Every request gets exactly one reply of the matching type, or an
 * `error` reply saying why it failed.
 */

export type WebRtcBenchCodec = 'opus' | 'pcmu';

/** One simulated browser. */
export interface PeerSpec {
  /** The tone it talks in (Hz, with a syllable envelope and pauses); 0 = near-silent noise. */
  voice: number;
  /** Tones it should hear (the room's other talkers): its audio is decoded and listened to for them; null = counted, not decoded. */
  hear: number[] | null;
}

/** Makes one RTCPeerConnection per spec (added to those made before) and returns each one's offer (gathering complete). */
export interface WGenOffer {
  type: 'offer';
  codec: WebRtcBenchCodec;
  peers: PeerSpec[];
}

export interface WGenOffers {
  type: 'offers';
  sdps: string[];
}

/** The self-test's other side: answers each offer with a peer of its own (same codec). */
export interface WGenAnswer {
  type: 'answer';
  codec: WebRtcBenchCodec;
  peers: PeerSpec[];
  offers: string[];
}

export interface WGenAnswers {
  type: 'answers';
  sdps: string[];
}

/** The answers to the last `offer`'s peers, in the same order; ICE and DTLS start at once. */
export interface WGenAccept {
  type: 'accept';
  answers: string[];
}

export interface WGenAccepted {
  type: 'accepted';
}

/** Waits until every peer is connected (ICE + DTLS) or failed, or `timeoutMs` passed. */
export interface WGenAwait {
  type: 'await';
  timeoutMs: number;
}

export interface WGenConnected {
  type: 'connected';
  connected: number;
  failed: number;
  /** Time from the first peer's offer or answer being applied to the last one connected, ms. */
  ms: number;
}

/** Starts sending (every peer, one packet per 20 ms). */
export interface WGenStart {
  type: 'start';
}

export interface WGenStarted {
  type: 'started';
}

/** Starts the measurement window (counters and CPU baseline reset). */
export interface WGenMark {
  type: 'mark';
}

export interface WGenMarked {
  type: 'marked';
}

/** Ends the window (sending goes on until `close`); the reply carries the window's figures. */
export interface WGenStop {
  type: 'stop';
}

export interface WGenReport {
  type: 'report';
  peers: number;
  windowMs: number;
  /** Packets received in the window, over all peers. */
  received: number;
  /** Per peer, the 20 ms slots between its first and last packet in the window (plus a whole window for a silent peer), summed. */
  expected: number;
  /** Missing sequence numbers between each peer's first and last packet in the window, summed. */
  seqLost: number;
  /** Peers that received nothing in the window. */
  silentPeers: number;
  /** Inter-arrival gaps (as this process saw them: JS time, not kernel time), ms. */
  gapP50Ms: number;
  gapP999Ms: number;
  gapMaxMs: number;
  /** Share of inter-arrival gaps > 40 ms (two frame times). */
  lateGapShare: number;
  /** Packets written to the tracks in the window, and since start. */
  sentWindow: number;
  sentTotal: number;
  /** Listening peers (hear ≠ null), those whose frames carried one of their tones in ≥ 20 % of the window, and the mean share of such frames. */
  listeners: number;
  heard: number;
  toneShare: number;
  /** Frames a listener could not decode. */
  undecodable: number;
  /** Generator ticks in the window, and those that fired > 5 ms late. */
  genTicks: number;
  genLateTicks: number;
  cpuUserMs: number;
  cpuSystemMs: number;
  rssMb: number;
}

/** Closes every peer. */
export interface WGenClose {
  type: 'close';
}

export interface WGenClosed {
  type: 'closed';
}

export interface WGenError {
  type: 'error';
  request: string;
  message: string;
}

export type WGenRequest = WGenOffer | WGenAnswer | WGenAccept | WGenAwait | WGenStart | WGenMark | WGenStop | WGenClose;
export type WGenReply = WGenOffers | WGenAnswers | WGenAccepted | WGenConnected | WGenStarted | WGenMarked | WGenReport | WGenClosed | WGenError;
