/**
 * The native batched UDP path (native/udp_batch.c through rtp/udp-batch.ts) on real loopback
 * sockets: queued sends leave on flush, every waiting datagram is read in one receive with its
 * kernel arrival time, bind errors carry their code, a closed socket's queued datagrams leave
 * from it as it closes (never later, from a descriptor reused), a terminated worker's sockets
 * are closed, and SCHED_FIFO applies to one thread.
 */
import dgram from 'node:dgram';
import { readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { MediaEngine } from '../../src/media/media-engine.js';
import { nativeUdp } from '../../src/media/rtp/native-udp.js';
import { wallNow } from '../../src/media/rtp/rtp-socket.js';
import type { RtpSocket } from '../../src/media/rtp/rtp-socket.js';
import { UdpBatch } from '../../src/media/rtp/udp-batch.js';
import { until } from '../helpers/until.js';

const cleanup: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

const ADDON = path.resolve('build/Release/udp_batch.node');

function batch(): UdpBatch {
  const b = new UdpBatch(nativeUdp!);
  cleanup.push(() => b.close());
  return b;
}

interface Got {
  bytes: number[];
  address: string;
  port: number;
  at: number;
}

function collect(socket: RtpSocket): Got[] {
  const got: Got[] = [];
  socket.onMessage((msg, address, port, at) => got.push({ bytes: [...msg], address, port, at }));
  return got;
}

describe('native UDP batch', () => {
  it('builds and loads on Linux, and the media engine uses it by default', async () => {
    expect(process.platform).toBe('linux');
    expect(nativeUdp).not.toBeNull();
    const engine = new MediaEngine(() => undefined);
    cleanup.push(() => engine.close());
    expect(engine.batchedUdp).toBe(true);
    expect(new MediaEngine(() => undefined, { udp: 'dgram' }).batchedUdp).toBe(false);
  });

  it('sends what was queued on flush and reads it with its source and kernel arrival time', async () => {
    const b = batch();
    const a = await b.open('127.0.0.1', 0);
    const c = await b.open('127.0.0.1', 0);
    const got = collect(c);
    const before = wallNow();
    a.send(Uint8Array.of(1, 2, 3), c.localPort, '127.0.0.1');
    a.send(Uint8Array.of(4, 5), c.localPort, '127.0.0.1');
    b.receive();
    expect(got).toEqual([]); // still queued
    b.flush();
    await until(() => {
      b.receive();
      return got.length === 2;
    }, 5000, 'two datagrams');
    const after = wallNow();
    expect(got.map((g) => g.bytes)).toEqual([
      [1, 2, 3],
      [4, 5],
    ]);
    for (const g of got) {
      expect(g.address).toBe('127.0.0.1');
      expect(g.port).toBe(a.localPort);
      expect(g.at).toBeGreaterThanOrEqual(before - 1);
      expect(g.at).toBeLessThanOrEqual(after + 1);
    }
  });

  it('reads thousands of waiting datagrams from many sockets in one receive, in order per socket', async () => {
    const b = batch();
    const receivers: RtpSocket[] = [];
    for (let i = 0; i < 30; i++) receivers.push(await b.open('127.0.0.1', 0));
    const sender = dgram.createSocket('udp4');
    cleanup.push(() => new Promise<void>((r) => sender.close(() => r())));
    await new Promise<void>((r) => sender.bind(0, '127.0.0.1', () => r()));
    const seen = receivers.map((s) => {
      const list: number[] = [];
      s.onMessage((msg) => list.push(msg[0]! * 256 + msg[1]!));
      return list;
    });
    const perSocket = 100; // 3,000 datagrams: more than one native call's 1,024
    let sent = 0;
    for (let k = 0; k < perSocket; k++) {
      for (const s of receivers) sender.send(Uint8Array.of(k >> 8, k & 255, ...new Array<number>(170).fill(7)), s.localPort, '127.0.0.1', () => sent++);
    }
    await until(() => sent === perSocket * receivers.length, 5000, 'all sent');
    b.receive();
    for (const list of seen) expect(list).toEqual(Array.from({ length: perSocket }, (_, k) => k));
  });

  it('rejects a taken port with EADDRINUSE and an address that is not IPv4', async () => {
    const b = batch();
    const a = await b.open('127.0.0.1', 0);
    await expect(b.open('127.0.0.1', a.localPort)).rejects.toMatchObject({ code: 'EADDRINUSE' });
    await expect(b.open('::1', 0)).rejects.toThrow(/IPv4 only/);
  });

  it('sends the queued datagrams of a socket closed before the flush as it closes, never from a reused descriptor', async () => {
    const b = batch();
    const closing = await b.open('127.0.0.1', 0);
    const marker = await b.open('127.0.0.1', 0);
    const peer = await b.open('127.0.0.1', 0);
    const got = collect(peer);
    closing.send(Uint8Array.of(66), peer.localPort, '127.0.0.1');
    const closingPort = closing.localPort;
    // What it queued is what its leg meant to send (a DTLS server's last flight, as a leg moves
    // to another worker): it leaves now, from this socket.
    await closing.close();
    // A socket opened now may get the closed one's descriptor number; nothing more leaves from it.
    const reused = await b.open('127.0.0.1', 0);
    marker.send(Uint8Array.of(77), peer.localPort, '127.0.0.1');
    b.flush();
    // Loopback delivers in send order: once the marker is there, the withdrawn one would be too.
    await until(() => {
      b.receive();
      return got.length > 1;
    }, 5000, 'the marker');
    expect(got.map((g) => [g.bytes[0], g.port])).toEqual([
      [66, closingPort],
      [77, marker.localPort],
    ]);
    expect(reused.localPort).not.toBe(closing.localPort);
  });

  it('closes the sockets of a worker thread that is terminated', async () => {
    const worker = new Worker(
      `const { parentPort } = require('node:worker_threads');
       const udp = require(${JSON.stringify(ADDON)});
       const fd = udp.open(0x7f000001, 0, 0);
       parentPort.postMessage(udp.localPort(fd));
       setInterval(() => {}, 1000);`,
      { eval: true },
    );
    const port = await new Promise<number>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    // While the worker lives, its port is taken.
    await expect(batch().open('127.0.0.1', port)).rejects.toMatchObject({ code: 'EADDRINUSE' });
    await worker.terminate();
    const again = await batch().open('127.0.0.1', port);
    expect(again.localPort).toBe(port);
  });

  it('puts only the calling thread under SCHED_FIFO', async () => {
    const worker = new Worker(
      `const { parentPort } = require('node:worker_threads');
       const fs = require('node:fs');
       const udp = require(${JSON.stringify(ADDON)});
       const result = udp.setRealtime(5);
       const stat = fs.readFileSync('/proc/thread-self/stat', 'utf8');
       parentPort.postMessage({ result, stat });`,
      { eval: true },
    );
    const { result, stat } = await new Promise<{ result: number; stat: string }>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    await worker.terminate();
    // proc(5) stat: fields after the ")" of comm; policy is field 41, rt_priority 40.
    const policyOf = (s: string): number => Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[41 - 3]);
    if (result === 0) {
      expect(policyOf(stat)).toBe(1); // SCHED_FIFO
    } else {
      expect(result).toBe(1); // EPERM: not allowed here; nothing changed
      expect(policyOf(stat)).toBe(0);
    }
    const self = readFileSync(`/proc/self/task/${readlinkSync('/proc/thread-self').split('/').pop()}/stat`, 'utf8');
    expect(policyOf(self)).toBe(0); // the main thread is untouched
  });
});
