/**
 * The native batched-UDP module (native/udp_batch.c, built by `npm install` through
 * binding.gyp), or null where it did not build or cannot load (not Linux, no compiler). Callers
 * then use node:dgram, which does the same job with one JS round trip per datagram.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface NativeUdp {
  /** A non-blocking IPv4 UDP socket bound to `ip`:`port` (0 = any); throws with `code` (EADDRINUSE…). */
  open(ip: number, port: number, recvBufferBytes: number): number;
  localPort(fd: number): number;
  /** Closes a socket or poll set this thread opened; anything else is ignored. */
  close(fd: number): void;
  pollCreate(): number;
  pollAdd(pollFd: number, fd: number, token: number): void;
  /** Datagrams of every ready socket: RECV_STRIDE ints each in meta, kernel arrival ms in times. */
  receive(pollFd: number, data: Uint8Array, meta: Int32Array, times: Float64Array): number;
  /** Sends `count` datagrams described by SEND_STRIDE ints each; returns how many failed. */
  send(data: Uint8Array, meta: Int32Array, count: number): number;
  /** SCHED_FIFO at `priority` for the calling thread (0 = back to normal); 0 or an errno. */
  setRealtime(priority: number): number;
}

/** meta per received datagram: token, IPv4 as int32, port, offset in data, length. */
export const RECV_STRIDE = 5;
/** meta per datagram to send: fd, IPv4 as int32, port, offset in data, length, errno out. */
export const SEND_STRIDE = 6;
/** Every received datagram may take this many bytes of the data buffer (larger is dropped). */
export const MAX_DATAGRAM = 2048;

/** The package root: the nearest directory above this file with a package.json (src/ or dist/src/). */
export function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    const up = path.dirname(dir);
    if (up === dir) return dir;
    dir = up;
  }
}

function load(): { module: NativeUdp | null; error: string | null } {
  if (process.platform !== 'linux') return { module: null, error: 'not Linux' };
  const file = path.join(packageRoot(), 'build', 'Release', 'udp_batch.node');
  if (!existsSync(file)) return { module: null, error: `${file} is missing (npm install builds it)` };
  try {
    return { module: createRequire(import.meta.url)(file) as NativeUdp, error: null };
  } catch (err) {
    return { module: null, error: err instanceof Error ? err.message : String(err) };
  }
}

const loaded = load();

/** The module, or null (then `nativeUdpError` says why). */
export const nativeUdp: NativeUdp | null = loaded.module;
export const nativeUdpError: string | null = loaded.error;

/** "a.b.c.d" → the address as an int32 (network order read as a number), or null if not IPv4. */
export function ipv4ToInt(address: string): number | null {
  const parts = address.split('.');
  if (parts.length !== 4) return null;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return null;
    const v = Number(p);
    if (v > 255) return null;
    n = (n << 8) | v;
  }
  return n | 0;
}

export function intToIpv4(n: number): string {
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}
