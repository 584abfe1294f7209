/**
 * One baresip instance (Debian baresip-core 1.0.0) inside a network namespace, driven over
 * its ctrl_tcp socket (netstring-framed JSON: `<len>:<json>,` both ways).
 *
 * Audio (see reference/test-peers.md): the microphone is a WAV file (`aufile`; 8 kHz mono
 * for PCMU/PCMA, 48 kHz stereo for opus; baresip hangs up when the file ends), the speaker
 * is the silent `aubridge` player, and `sndfile` records what was received to
 * `<dir>/rec/dump-<time>-dec.wav` (and what was sent to `-enc.wav`).
 * The callee variant (`autoAnswer`) adds `;answermode=auto` to its account.
 */
import { type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Netns } from './netns.js';
import { requireTools } from './tools.js';

export interface BaresipOptions {
  netns: Netns;
  /** User part of the account and name of the instance (`a`, `bob`). */
  name: string;
  /** The microphone: a WAV file matching the codec's rate and channels. */
  audioSource: string;
  /** Address to bind SIP, RTP and ctrl_tcp on; default the namespace address. */
  address?: string;
  /** SIP port (UDP and TCP); default 5060. */
  sipPort?: number;
  /** ctrl_tcp port; default sipPort + 10000. */
  ctrlPort?: number;
  /** RTP port range; default 10000 + (sipPort % 100) * 40 … + 39. */
  rtpPorts?: readonly [number, number];
  /** Callee: answer every call at once (`;answermode=auto`). */
  autoAnswer?: boolean;
  /** Account `audio_codecs` (`pcmu`, `pcma`, `opus/48000/2`); default all loaded codecs. */
  audioCodecs?: string;
  /** Codec modules to load; default g711, opus, g722. */
  codecModules?: readonly string[];
  /** Extra account parameters, e.g. `;auth_pass=x`. */
  accountParams?: string;
  /**
   * The account's address of record when it is not the instance's own URI — a phone that
   * registers (`sip:bob@acme.example`, with `;regint=…;outbound=…;auth_pass=…` in
   * accountParams); `;regint=0` is then left out.
   */
  aor?: string;
  /** Scratch directory (config, accounts, rec/); default a new temp dir, removed on stop. */
  dir?: string;
  /**
   * SIP over TLS too, on sipPort + 1 (baresip's choice): a PEM file with its certificate and
   * key, and the CAs it verifies Conclave's certificate with.
   */
  tls?: { certificate: string; caFile: string };
  /**
   * SRTP (RFC 4568 SDES, baresip's `srtp` module): the account's `;mediaenc=` — `srtp-mand`
   * offers `RTP/SAVP` with `a=crypto` and takes nothing else; `srtp` is "best effort" (`RTP/AVP`
   * with `a=crypto`). Unset, the account has no media encryption.
   */
  mediaenc?: 'srtp' | 'srtp-mand';
  /** Pass `-s` (SIP trace to the log). */
  sipTrace?: boolean;
  /** How long to wait for ctrl_tcp to accept; default 10 s. */
  startTimeoutMs?: number;
}

/** Anything baresip sends on ctrl_tcp: an event or a command response. */
export interface BaresipMessage {
  event?: boolean;
  response?: boolean;
  type?: string;
  class?: string;
  accountaor?: string;
  direction?: 'incoming' | 'outgoing';
  peeruri?: string;
  id?: string;
  param?: string;
  ok?: boolean;
  data?: string;
  token?: string;
  [key: string]: unknown;
}

export type BaresipEvent = BaresipMessage & { event: true; type: string };

export interface WaitOptions {
  /** Only events this returns true for. */
  match?: (event: BaresipEvent) => boolean;
  timeoutMs?: number;
}

const MODULE_PATH = '/usr/lib/baresip/modules';

export class Baresip {
  /** Every event received, in order. */
  readonly events: BaresipEvent[] = [];
  private readonly consumed = new Set<number>();
  private readonly waiters = new Set<() => void>();
  private readonly pending = new Map<string, (message: BaresipMessage) => void>();
  private output = '';
  private ctrl: Socket | undefined;
  private buffer: Buffer = Buffer.alloc(0);
  private tokens = 0;
  private exitCode: number | null | undefined;
  private readonly exited: Promise<number | null>;
  private ownsDir: boolean;

  private constructor(
    readonly options: BaresipOptions,
    /** The account AOR, also the URI to call this instance on: `sip:name@address:port`. */
    readonly uri: string,
    readonly dir: string,
    readonly ctrlPort: number,
    private readonly child: ChildProcess,
    ownsDir: boolean,
  ) {
    this.ownsDir = ownsDir;
    child.stdout?.on('data', (d: Buffer) => this.appendOutput(d));
    child.stderr?.on('data', (d: Buffer) => this.appendOutput(d));
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitCode = code ?? (signal ? -1 : null);
        this.wake();
        resolve(code);
      });
      child.once('error', (error) => {
        this.appendOutput(Buffer.from(`spawn error: ${error.message}\n`));
        this.exitCode = -1;
        this.wake();
        resolve(-1);
      });
    });
  }

  /** Writes config and accounts, starts `ip netns exec <ns> baresip -4 -f <dir>`, connects ctrl_tcp. */
  static async start(options: BaresipOptions): Promise<Baresip> {
    requireTools('baresip', 'ip');
    const address = options.address ?? options.netns.nsAddress;
    const sipPort = options.sipPort ?? 5060;
    const ctrlPort = options.ctrlPort ?? sipPort + 10000;
    const rtpBase = 10000 + (sipPort % 100) * 40;
    const [rtpLow, rtpHigh] = options.rtpPorts ?? [rtpBase, rtpBase + 39];
    const ownsDir = options.dir === undefined;
    const dir = options.dir ?? (await mkdtemp(join(tmpdir(), `conclave-baresip-${options.name}-`)));
    await mkdir(join(dir, 'rec'), { recursive: true });
    const modules = options.codecModules ?? ['g711.so', 'opus.so', 'g722.so'];
    const config = [
      ['poll_method', 'epoll'],
      ['sip_listen', `${address}:${sipPort}`],
      ['net_interface', address],
      ['rtp_ports', `${rtpLow}-${rtpHigh}`],
      ['audio_player', 'aubridge,nullplay'],
      ['audio_alert', 'aubridge,nullalert'],
      ['audio_source', `aufile,${options.audioSource}`],
      ['module_path', MODULE_PATH],
      ...modules.map((m) => ['module', m]),
      ...(options.mediaenc ? [['module', 'srtp.so']] : []),
      ['module', 'aufile.so'],
      ['module', 'aubridge.so'],
      ['module', 'sndfile.so'],
      ['snd_path', join(dir, 'rec')],
      ['module_tmp', 'uuid.so'],
      ['module_tmp', 'account.so'],
      ['module_app', 'menu.so'],
      ['module_app', 'ctrl_tcp.so'],
      ['ctrl_tcp_listen', `${address}:${ctrlPort}`],
      ...(options.tls ? [['sip_certificate', options.tls.certificate], ['sip_cafile', options.tls.caFile]] : []),
    ];
    await writeFile(join(dir, 'config'), `${config.map(([k, v]) => `${k}\t\t${v}`).join('\n')}\n`);
    const uri = `sip:${options.name}@${address}:${sipPort}`;
    const params = [
      options.aor ? '' : ';regint=0',
      options.autoAnswer ? ';answermode=auto' : '',
      options.audioCodecs ? `;audio_codecs=${options.audioCodecs}` : '',
      options.mediaenc ? `;mediaenc=${options.mediaenc}` : '',
      options.accountParams ?? '',
    ].join('');
    await writeFile(join(dir, 'accounts'), `<${options.aor ?? uri}>${params}\n`);

    const args = ['-4', '-f', dir, ...(options.sipTrace ? ['-s'] : [])];
    const child = options.netns.spawn('baresip', args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, HOME: dir } });
    const instance = new Baresip(options, uri, dir, ctrlPort, child, ownsDir);
    try {
      await instance.connectCtrl(address, options.startTimeoutMs ?? 10_000);
    } catch (error) {
      await instance.stop();
      throw error;
    }
    return instance;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** stdout and stderr so far (useful in assertion messages). */
  get log(): string {
    return this.output;
  }

  get running(): boolean {
    return this.exitCode === undefined;
  }

  /** Where sndfile writes its recordings. */
  get recordingDir(): string {
    return join(this.dir, 'rec');
  }

  /** Sends a ctrl_tcp command and resolves with its response. */
  command(command: string, params = '', timeoutMs = 10_000): Promise<BaresipMessage> {
    const socket = this.ctrl;
    if (!socket || socket.destroyed) return Promise.reject(new Error(`baresip ${this.options.name}: ctrl_tcp is not connected`));
    const token = `t${++this.tokens}`;
    const json = JSON.stringify({ command, params, token });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(token);
        reject(new Error(`baresip ${this.options.name}: no response to ${command} within ${timeoutMs} ms\n${this.output}`));
      }, timeoutMs);
      this.pending.set(token, (message) => {
        clearTimeout(timer);
        resolve(message);
      });
      socket.write(`${Buffer.byteLength(json)}:${json},`);
    });
  }

  /** Places a call (`dial`); progress arrives as events (CALL_RINGING, CALL_ESTABLISHED…). */
  async dial(uri: string): Promise<void> {
    const response = await this.command('dial', uri);
    if (response.ok === false) throw new Error(`baresip ${this.options.name}: dial ${uri} failed: ${response.data ?? ''}`);
  }

  /** Answers the ringing incoming call (`accept`). */
  async answer(): Promise<void> {
    await this.command('accept');
  }

  /** Hangs up the current call (`hangup`). */
  async hangup(): Promise<void> {
    await this.command('hangup');
  }

  /**
   * The first event of `type` (and `match`) not returned by an earlier waitEvent — already
   * received or still to come. Rejects on timeout (default 20 s) or if baresip exits first.
   */
  waitEvent(type: string, options: WaitOptions = {}): Promise<BaresipEvent> {
    const timeoutMs = options.timeoutMs ?? 20_000;
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const index = this.events.findIndex((e, i) => !this.consumed.has(i) && e.type === type && (options.match?.(e) ?? true));
        if (index >= 0) {
          this.consumed.add(index);
          finish();
          resolve(this.events[index] as BaresipEvent);
          return true;
        }
        if (!this.running) {
          finish();
          reject(new Error(`baresip ${this.options.name} exited (${String(this.exitCode)}) before ${type}\n${this.output}`));
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        finish();
        const seen = this.events.map((e) => e.type).join(', ');
        reject(new Error(`baresip ${this.options.name}: no ${type} within ${timeoutMs} ms (events: ${seen})\n${this.output}`));
      }, timeoutMs);
      const waiter = (): void => void check();
      const finish = (): void => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
      };
      if (!check()) this.waiters.add(waiter);
    });
  }

  /** The received-audio recordings (`*-dec.wav`), oldest first. */
  async recordings(): Promise<string[]> {
    const files = await readdir(this.recordingDir).catch(() => [] as string[]);
    return files.filter((f) => f.endsWith('-dec.wav')).sort().map((f) => join(this.recordingDir, f));
  }

  /** Quits baresip (see `stop`). */
  quit(keepDir = false): Promise<void> {
    return this.stop(keepDir);
  }

  /** `quit` over ctrl_tcp, then SIGTERM/SIGKILL if it does not exit; removes an owned temp dir. */
  async stop(keepDir = false): Promise<void> {
    if (this.running && this.ctrl && !this.ctrl.destroyed) {
      this.command('quit', '', 2000).catch(() => undefined);
    }
    await this.waitExit(2000);
    if (this.running) this.child.kill('SIGTERM');
    await this.waitExit(2000);
    if (this.running) this.child.kill('SIGKILL');
    await this.exited;
    this.ctrl?.destroy();
    if (this.ownsDir && !keepDir) {
      await rm(this.dir, { recursive: true, force: true });
      this.ownsDir = false;
    }
  }

  /** Resolves with the exit code once the process has exited. */
  waitForExit(): Promise<number | null> {
    return this.exited;
  }

  private waitExit(ms: number): Promise<void> {
    if (!this.running) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      void this.exited.then(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private appendOutput(data: Buffer): void {
    this.output += data.toString('utf8');
    if (this.output.length > 1_000_000) this.output = this.output.slice(-500_000);
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }

  /** ctrl_tcp comes up shortly after the process starts: retry refused connects until then. */
  private async connectCtrl(host: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let delay = 10;
    for (;;) {
      if (!this.running) throw new Error(`baresip ${this.options.name} exited (${String(this.exitCode)}) during start\n${this.output}`);
      try {
        this.ctrl = await this.tryConnect(host);
        break;
      } catch (error) {
        if (Date.now() > deadline) throw new Error(`baresip ${this.options.name}: ctrl_tcp ${host}:${this.ctrlPort} not up: ${String(error)}\n${this.output}`);
        await Promise.race([new Promise((resolve) => setTimeout(resolve, delay)), this.exited]);
        delay = Math.min(delay * 2, 200);
      }
    }
    this.ctrl.on('data', (chunk: Buffer) => this.receive(chunk));
    this.ctrl.on('error', () => undefined);
  }

  private tryConnect(host: string): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const socket = connect(this.ctrlPort, host);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(socket);
      });
      socket.once('error', (error) => {
        socket.destroy();
        reject(error);
      });
    });
  }

  private receive(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    for (;;) {
      const colon = this.buffer.indexOf(0x3a);
      if (colon < 0) return;
      const length = Number.parseInt(this.buffer.toString('latin1', 0, colon), 10);
      if (!Number.isFinite(length) || length < 0) {
        this.buffer = Buffer.alloc(0);
        return;
      }
      if (this.buffer.length < colon + 1 + length + 1) return;
      const text = this.buffer.toString('utf8', colon + 1, colon + 1 + length);
      this.buffer = this.buffer.subarray(colon + 1 + length + 1);
      let message: BaresipMessage;
      try {
        message = JSON.parse(text) as BaresipMessage;
      } catch {
        continue;
      }
      if (message.response && message.token !== undefined) {
        this.pending.get(message.token)?.(message);
        this.pending.delete(message.token);
      }
      if (message.event && typeof message.type === 'string') {
        this.events.push(message as BaresipEvent);
        this.wake();
      }
    }
  }
}

/** Starts a baresip instance (see BaresipOptions); `autoAnswer` makes it a callee. */
export function startBaresip(options: BaresipOptions): Promise<Baresip> {
  return Baresip.start(options);
}
