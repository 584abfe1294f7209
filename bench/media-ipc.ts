/**
 * Messages between bench/media-capacity.ts (the media plane's process) and its load generator
 * child, bench/media-loadgen.ts. Every request gets exactly one reply of the matching type.
 */

/** Opens the generator's sockets for one step. */
export interface GenOpen {
  type: 'open';
  /** One entry per leg: a tone frequency for a talker, 0 for a near-silent participant. */
  voices: number[];
  /** Legs multiplexed on one generator socket (1 = one socket per participant). */
  legsPerSocket: number;
}

export interface GenOpened {
  type: 'opened';
  /** The generator's local port for each leg (shared by the legs of one socket). */
  ports: number[];
}

/** The media engine's local port for each leg; the generator starts sending at once. */
export interface GenStart {
  type: 'start';
  targets: number[];
}

export interface GenStarted {
  type: 'started';
}

/** Starts the measurement window (counters and CPU baseline reset). */
export interface GenMark {
  type: 'mark';
}

export interface GenMarked {
  type: 'marked';
}

/** Ends the window and stops sending; the reply carries the window's figures. */
export interface GenStop {
  type: 'stop';
}

export interface GenReport {
  type: 'report';
  windowMs: number;
  /** Mix packets received in the window. */
  received: number;
  /** Packets expected in the window: per leg, the 20 ms slots between its first and last packet, plus slots with nothing at all. */
  expected: number;
  /** Legs that received nothing in the window. */
  silentLegs: number;
  /** Inter-arrival gap percentiles over all legs, in ms. */
  gapP50Ms: number;
  gapP999Ms: number;
  gapMaxMs: number;
  /** Packets sent since `start` (warm-up included). */
  sentTotal: number;
  /** Packets sent in the window: the load really offered (a late generator catches up to 5 frames, then drops the rest). */
  sentWindow: number;
  /** Generator ticks in the window, and those that fired > 5 ms late. */
  genTicks: number;
  genLateTicks: number;
  /** Generator process CPU in the window, ms (user + system). */
  cpuUserMs: number;
  cpuSystemMs: number;
}

/** Closes the step's sockets. */
export interface GenClose {
  type: 'close';
}

export interface GenClosed {
  type: 'closed';
}

export type GenRequest = GenOpen | GenStart | GenMark | GenStop | GenClose;
export type GenReply = GenOpened | GenStarted | GenMarked | GenReport | GenClosed;
