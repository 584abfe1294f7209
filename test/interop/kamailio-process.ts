/**
 * Kamailio (Debian's `kamailio` package) running the repository's front proxy,
 * deploy/kamailio/kamailio.cfg, as the README runs it: in the foreground, logging to stderr,
 * listening where `-l` says, with the node list `-A DISPATCHER_LIST` names — here on
 * 127.0.0.1, a free port, and a list written for the test's nodes.
 *
 * It is ready when it answers an OPTIONS sent to itself (the config answers those with 200);
 * its log lines (`node down: sip:…`, `dispatch INVITE … to sip:…`) can be waited on.
 */
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freeSipPort } from '../helpers/node-process.js';

export const KAMAILIO_CONFIG = fileURLToPath(new URL('../../deploy/kamailio/kamailio.cfg', import.meta.url));

export interface KamailioProcess {
  readonly port: number;
  /** `sip:<user>@127.0.0.1:<port>`: what a phone calls to reach a node through the proxy. */
  uriFor(user: string): string;
  /** Every line Kamailio wrote so far. */
  readonly lines: string[];
  /**
   * Resolves with the first line that has every one of `parts`, among the lines from index
   * `from` on (default: every line, past or future), and the time (Date.now()) it was read.
   */
  logLine(parts: readonly string[], timeoutMs?: number, from?: number): Promise<{ line: string; at: number }>;
  close(): Promise<void>;
}

/** Starts Kamailio in front of the nodes at these SIP ports of 127.0.0.1 (dispatcher set 1). */
export async function startKamailio(nodeSipPorts: readonly number[]): Promise<KamailioProcess> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'conclave-kamailio-'));
  const list = path.join(dir, 'nodes.list');
  fs.writeFileSync(list, nodeSipPorts.map((port) => `1 sip:127.0.0.1:${port}\n`).join(''));
  const port = await freeSipPort();
  const child = spawn(
    'kamailio',
    ['-DD', '-E', '-f', KAMAILIO_CONFIG, '-l', `udp:127.0.0.1:${port}`, '-l', `tcp:127.0.0.1:${port}`, '-A', `DISPATCHER_LIST="${list}"`, '-w', dir],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const lines: { line: string; at: number }[] = [];
  const waiters = new Set<() => void>();
  let hasExited = false;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => {
    hasExited = true;
    for (const wake of [...waiters]) wake();
  });
  const reader = (): ((chunk: Buffer) => void) => {
    let buffered = '';
    return (chunk) => {
      buffered += chunk.toString('utf8');
      const parts = buffered.split('\n');
      buffered = parts.pop() ?? '';
      const at = Date.now();
      lines.push(...parts.map((line) => ({ line, at })));
      for (const wake of [...waiters]) wake();
    };
  };
  child.stdout.on('data', reader());
  child.stderr.on('data', reader());
  const tail = (): string => lines.slice(-40).map((l) => l.line).join('\n');

  const logLine = (parts: readonly string[], timeoutMs = 10_000, from = 0): Promise<{ line: string; at: number }> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const found = lines.slice(from).find((l) => parts.every((p) => l.line.includes(p)));
        if (found !== undefined) {
          finish();
          resolve(found);
        } else if (hasExited) {
          finish();
          reject(new Error(`kamailio exited without a log line with ${JSON.stringify(parts)}; its log:\n${tail()}`));
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`no kamailio log line with ${JSON.stringify(parts)} within ${timeoutMs} ms; its log:\n${tail()}`));
      }, timeoutMs);
      const finish = (): void => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });

  const close = async (): Promise<void> => {
    if (!hasExited) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(killer);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };

  try {
    await answersOptions(port, () => hasExited, tail);
  } catch (error) {
    await close();
    throw error;
  }
  return {
    port,
    uriFor: (user) => `sip:${user}@127.0.0.1:${port}`,
    get lines() {
      return lines.map((l) => l.line);
    },
    logLine,
    close,
  };
}

/** Sends an OPTIONS to the proxy itself every 200 ms until one is answered 200 (10 s at most). */
async function answersOptions(port: number, exited: () => boolean, tail: () => string): Promise<void> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const local = socket.address().port;
  try {
    await new Promise<void>((resolve, reject) => {
      socket.on('message', (message) => {
        if (message.toString('utf8').startsWith('SIP/2.0 200')) resolve();
      });
      let sent = 0;
      const send = (): void => {
        if (exited()) {
          reject(new Error(`kamailio exited at start; its log:\n${tail()}`));
          return;
        }
        if (sent++ === 50) {
          reject(new Error(`kamailio did not answer OPTIONS on 127.0.0.1:${port} within 10 s; its log:\n${tail()}`));
          return;
        }
        const options = [
          `OPTIONS sip:127.0.0.1:${port} SIP/2.0`,
          `Via: SIP/2.0/UDP 127.0.0.1:${local};branch=z9hG4bK-ready-${sent};rport`,
          'Max-Forwards: 70',
          `From: <sip:test@127.0.0.1:${local}>;tag=ready`,
          `To: <sip:127.0.0.1:${port}>`,
          `Call-ID: ready-${local}@127.0.0.1`,
          `CSeq: ${sent} OPTIONS`,
          'Content-Length: 0',
          '',
          '',
        ].join('\r\n');
        socket.send(options, port, '127.0.0.1');
        timer = setTimeout(send, 200);
      };
      let timer = setTimeout(send, 0);
      socket.once('close', () => clearTimeout(timer));
    });
  } finally {
    socket.close();
  }
}
