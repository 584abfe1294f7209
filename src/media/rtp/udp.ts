/**
 * UDP sockets for RTP legs: an RTP/RTCP port pair (RFC 3550 §11: RTP on an even port, RTCP on
 * the next, odd, one), from a range, from the OS, or at an exact pair (a leg that moved to
 * another media worker binds the pair it had, so the peer notices nothing). The sockets come
 * from a factory: node:dgram by default, the media worker's batched UDP (udp-batch.ts) when it
 * has one.
 */
import { openDgramSocket } from './rtp-socket.js';
import type { RtpSocket, RtpSocketFactory } from './rtp-socket.js';
import { MediaError } from '../media-error.js';

function closeQuietly(socket: RtpSocket): void {
  void socket.close();
}

/** Binds one socket at `port` (0 = any); rejects with the bind error (EADDRINUSE…). */
export function bindUdp(host: string, port: number, open: RtpSocketFactory = openDgramSocket): Promise<RtpSocket> {
  return open(host, port);
}

export interface PortPair {
  rtp: RtpSocket;
  /** null when the leg was opened without RTCP. */
  rtcp: RtpSocket | null;
}

const inUse = (err: unknown): boolean => (err as NodeJS.ErrnoException).code === 'EADDRINUSE';

/** Binds RTP at `port` and, if wanted, RTCP at `port + 1`; both or neither. */
export async function bindPairAt(host: string, port: number, withRtcp: boolean, open: RtpSocketFactory = openDgramSocket): Promise<PortPair> {
  const rtp = await open(host, port);
  if (!withRtcp) return { rtp, rtcp: null };
  try {
    return { rtp, rtcp: await open(host, rtp.localPort + 1) };
  } catch (err) {
    closeQuietly(rtp);
    throw err;
  }
}

/** Per range: where the next search starts (each worker thread has its own). */
const cursors = new Map<string, number>();

/**
 * A free even/odd pair in [min, max] (both ends inclusive; the odd RTCP port must fit too when
 * wanted), or, without a range, an even OS-chosen port whose successor is free.
 *
 * The search starts after the last pair taken (first at a random pair), as Asterisk's RTP
 * allocation starts at a random port of its range and walks up: a port just freed is not taken
 * again until the range wraps. That matters here because a leg moving to another worker closes
 * its pair and re-binds it there an instant later; a search from `min` would hand that pair to
 * whichever leg was being added meanwhile. Other workers search the same range concurrently: a
 * pair taken meanwhile is EADDRINUSE, and the search moves on.
 */
export async function bindPair(
  host: string,
  range: { min: number; max: number } | undefined,
  withRtcp: boolean,
  open: RtpSocketFactory = openDgramSocket,
): Promise<PortPair> {
  if (!range) {
    if (!withRtcp) return { rtp: await open(host, 0), rtcp: null };
    for (let attempt = 0; attempt < 64; attempt++) {
      const probe = await open(host, 0);
      const port = probe.localPort;
      if (port % 2 === 0 && port < 65535) {
        try {
          return { rtp: probe, rtcp: await open(host, port + 1) };
        } catch (err) {
          closeQuietly(probe);
          if (!inUse(err)) throw err;
          continue;
        }
      }
      closeQuietly(probe);
    }
    throw new MediaError('ports-exhausted', `no free even/odd UDP port pair on ${host}`);
  }
  const { min, max } = range;
  const first = min + (min & 1);
  const last = withRtcp ? max - 1 : max;
  const pairs = last >= first ? Math.floor((last - first) / 2) + 1 : 0;
  const key = `${host} ${first} ${last}`;
  const start = cursors.get(key) ?? Math.floor(Math.random() * pairs);
  for (let i = 0; i < pairs; i++) {
    const k = (start + i) % pairs;
    try {
      const pair = await bindPairAt(host, first + 2 * k, withRtcp, open);
      cursors.set(key, (k + 1) % pairs);
      return pair;
    } catch (err) {
      if (!inUse(err)) throw err;
    }
  }
  throw new MediaError('ports-exhausted', `no free even UDP port${withRtcp ? ' pair' : ''} in ${min}-${max} on ${host}`);
}
