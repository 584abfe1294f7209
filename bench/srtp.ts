/**
 * What SRTP (issue 14, src/media/rtp/srtp-context.ts) costs per 20 ms packet, in this thread:
 *
 * 1. the crypto alone: SrtpContext.protectRtp then unprotectRtp of one 172-octet G.711 packet
 *    (12-octet header, 160 octets of audio), per suite, and each half on its own;
 * 2. beside a leg's own work: two RtpLegs joined by an in-memory socket (no kernel, so the
 *    figure is the leg's JavaScript and crypto, not UDP), one packet = A encodes and sends a
 *    frame, B receives it (SRTP: unprotects it), decodes it into its jitter buffer, and the
 *    frame is popped; plain RTP against each suite.
 *
 * Runs alternate between the scenarios; the figure is the median of the runs.
 *
 *   npx tsx bench/srtp.ts [--packets 200000] [--runs 7]
 */
import { performance } from 'node:perf_hooks';
import { RtpLeg } from '../src/media/rtp/rtp-leg.js';
import type { DatagramHandler, RtpSocket } from '../src/media/rtp/rtp-socket.js';
import { SrtpContext } from '../src/media/rtp/srtp-context.js';
import { newSrtpKey, SRTP_SUITES } from '../src/media/rtp/srtp-keys.js';
import type { SrtpSuite } from '../src/media/rtp/srtp-keys.js';
import { machine } from './report.js';

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
}

const PACKETS = option('packets', 200_000);
const RUNS = option('runs', 7);

/** Sockets that hand each datagram straight to the socket bound at its destination port. */
class MemorySocket implements RtpSocket {
  static readonly bound = new Map<number, MemorySocket>();
  private static nextPort = 20_000;
  readonly localAddress = '127.0.0.1';
  private handler: DatagramHandler = () => undefined;

  constructor(readonly localPort: number) {
    MemorySocket.bound.set(localPort, this);
  }

  static open(_host: string, port: number): Promise<RtpSocket> {
    return Promise.resolve(new MemorySocket(port === 0 ? (MemorySocket.nextPort += 2) : port));
  }

  send(buf: Uint8Array, port: number): void {
    MemorySocket.bound.get(port)?.handler(buf, this.localAddress, this.localPort, 0);
  }

  onMessage(handler: DatagramHandler): void {
    this.handler = handler;
  }

  onError(): void {}

  close(): Promise<void> {
    MemorySocket.bound.delete(this.localPort);
    return Promise.resolve();
  }
}

type Scenario = 'plain RTP' | SrtpSuite;

async function legPair(scenario: Scenario): Promise<{ a: RtpLeg; b: RtpLeg }> {
  const keyA = scenario === 'plain RTP' ? null : newSrtpKey(scenario);
  const keyB = scenario === 'plain RTP' ? null : newSrtpKey(scenario);
  const common = { rtcp: false, openSocket: MemorySocket.open };
  const a = await RtpLeg.open({ ...common, ...(keyA && keyB ? { srtp: { local: keyA, remote: keyB } } : {}) });
  const b = await RtpLeg.open({ ...common, remote: { address: '127.0.0.1', port: a.localPort }, ...(keyA && keyB ? { srtp: { local: keyB, remote: keyA } } : {}) });
  a.setRemote('127.0.0.1', b.localPort);
  return { a, b };
}

/** ns per packet: A sends a frame, B takes it in, B's mixer pops a frame. */
async function legRun(scenario: Scenario, frame: Int16Array): Promise<number> {
  const { a, b } = await legPair(scenario);
  for (let i = 0; i < 1000; i++) {
    a.send(frame);
    b.pop();
  }
  const start = performance.now();
  for (let i = 0; i < PACKETS; i++) {
    a.send(frame);
    b.pop();
  }
  const ns = ((performance.now() - start) * 1e6) / PACKETS;
  if (b.stats.packetsReceived !== PACKETS + 1000 || b.stats.srtpAuthFailures !== 0) throw new Error(`${scenario}: B took ${b.stats.packetsReceived} packets`);
  await a.close();
  await b.close();
  return ns;
}

/** ns per packet for protect, unprotect, and both, of one suite. */
function cryptoRun(suite: SrtpSuite): { protect: number; unprotect: number } {
  const key = newSrtpKey(suite);
  const sender = new SrtpContext(key);
  const receiver = new SrtpContext(key);
  const plain = new Uint8Array(172).fill(0xd5);
  plain[0] = 0x80;
  const wires = Array.from({ length: 64 }, () => new Uint8Array(182));
  const out = new Uint8Array(182);
  const lengths = new Int32Array(64);
  let protect = 0;
  let unprotect = 0;
  let seq = 0;
  for (let done = 0; done < PACKETS; done += 64) {
    let t = performance.now();
    for (let k = 0; k < 64; k++) {
      plain[2] = (seq >>> 8) & 0xff;
      plain[3] = seq & 0xff;
      seq = (seq + 1) & 0xffff;
      lengths[k] = sender.protectRtp(plain, 172, wires[k]!);
    }
    protect += performance.now() - t;
    t = performance.now();
    for (let k = 0; k < 64; k++) if (receiver.unprotectRtp(wires[k]!, lengths[k]!, out) !== 172) throw new Error('unprotect failed');
    unprotect += performance.now() - t;
  }
  const n = Math.ceil(PACKETS / 64) * 64;
  return { protect: (protect * 1e6) / n, unprotect: (unprotect * 1e6) / n };
}

const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  console.log(`${machine()}; ${new Date().toISOString()}; ${PACKETS} packets × ${RUNS} runs`);
  const frame = Int16Array.from({ length: 160 }, (_, i) => Math.round(8000 * Math.sin((2 * Math.PI * 1000 * i) / 8000)));
  const scenarios: Scenario[] = ['plain RTP', ...SRTP_SUITES];
  const legNs = new Map<Scenario, number[]>(scenarios.map((s) => [s, []]));
  const crypto = new Map<SrtpSuite, Array<{ protect: number; unprotect: number }>>(SRTP_SUITES.map((s) => [s, []]));
  for (let run = 0; run < RUNS; run++) {
    const order = run % 2 === 0 ? scenarios : [...scenarios].reverse();
    for (const s of order) legNs.get(s)!.push(await legRun(s, frame));
    for (const s of run % 2 === 0 ? SRTP_SUITES : [...SRTP_SUITES].reverse()) crypto.get(s)!.push(cryptoRun(s));
  }
  console.log('\n| Suite | protect | unprotect | protect + unprotect | per leg per 20 ms both ways, % of a core |');
  console.log('|---|---:|---:|---:|---:|');
  for (const s of SRTP_SUITES) {
    const runs = crypto.get(s)!;
    const p = median(runs.map((r) => r.protect));
    const u = median(runs.map((r) => r.unprotect));
    const both = median(runs.map((r) => r.protect + r.unprotect));
    console.log(`| ${s} | ${p.toFixed(0)} ns | ${u.toFixed(0)} ns | ${both.toFixed(0)} ns | ${((both / 20e6) * 100).toFixed(4)} % |`);
  }
  const plain = median(legNs.get('plain RTP')!);
  console.log('\n| Leg pair, one packet (send, receive, pop) | ns per packet | Added by SRTP | Ratio |');
  console.log('|---|---:|---:|---:|');
  for (const s of scenarios) {
    const ns = median(legNs.get(s)!);
    console.log(`| ${s} | ${ns.toFixed(0)} ns | ${s === 'plain RTP' ? '' : `${(ns - plain).toFixed(0)} ns`} | ${(ns / plain).toFixed(2)} |`);
  }
  console.log('\nruns (leg ns):', JSON.stringify(Object.fromEntries([...legNs].map(([k, v]) => [k, v.map((x) => Math.round(x))]))));
}

await main();
