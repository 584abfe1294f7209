/**
 * sipp (Debian package sip-tester, SIPp 3.6.1) runs: a built-in scenario (`uac`, `uas`…)
 * or a custom XML scenario file, once, optionally inside a network namespace, with the
 * outcome read from its exit code (0 = every call succeeded) and its final statistics screen.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Netns } from './netns.js';
import { findTool, requireTools, run } from './tools.js';

export interface SippOptions {
  /** Run inside this namespace (sipp binds `localAddress`); default on the host. */
  netns?: Netns;
  /** A built-in scenario name (`uac`, `uas`, `uac_pcap`…) or `{ file }` / `{ xml }` for a custom one. */
  scenario: string | { file: string } | { xml: string };
  /** `host:port` of the peer (the remote_host). */
  target: string;
  /** Local address for Via/Contact/From (`-i`); default the namespace address, else 127.0.0.1. */
  localAddress?: string;
  /** Local SIP port (`-p`); default 5090. */
  localPort?: number;
  /** Request-URI user part (`-s`); default `conclave`. */
  service?: string;
  /** Calls to make (`-m`); default 1. */
  calls?: number;
  /** Call duration (`-d`, the scenario's default pause) in ms; default 500. */
  durationMs?: number;
  /** `u1` (UDP, one socket) or `t1` (TCP, one connection); default `u1`. */
  transport?: 'u1' | 'un' | 't1' | 'tn';
  /** Global timeout; sipp fails if reached. Default 20 s. */
  timeoutMs?: number;
  /** `-set name value` pairs for the scenario's `[$name]` variables. */
  variables?: Record<string, string>;
  /** Anything else for the command line. */
  extraArgs?: readonly string[];
}

export interface SippResult {
  /** 0: all calls successful; 1: at least one failed; 97/99: internal/other errors. */
  exitCode: number | null;
  successful: number;
  failed: number;
  /** The last statistics screen. */
  screen: string;
  /** sipp's error log (unexpected messages and the like), if any. */
  errors: string;
  stdout: string;
  stderr: string;
  /** The command line, for failure messages. */
  command: string;
}

/** Runs sipp to completion; never throws for a failed call (look at `exitCode`). */
export async function runSipp(options: SippOptions): Promise<SippResult> {
  requireTools('sipp', ...(options.netns ? (['ip'] as const) : []));
  const dir = await mkdtemp(join(tmpdir(), 'conclave-sipp-'));
  try {
    const scenarioArgs: string[] = [];
    if (typeof options.scenario === 'string') {
      scenarioArgs.push('-sn', options.scenario);
    } else if ('file' in options.scenario) {
      scenarioArgs.push('-sf', options.scenario.file);
    } else {
      const file = join(dir, 'scenario.xml');
      await writeFile(file, options.scenario.xml);
      scenarioArgs.push('-sf', file);
    }
    const timeoutMs = options.timeoutMs ?? 20_000;
    const screenFile = join(dir, 'screen.log');
    const errorFile = join(dir, 'errors.log');
    const args = [
      ...scenarioArgs,
      options.target,
      '-i', options.localAddress ?? options.netns?.nsAddress ?? '127.0.0.1',
      '-p', String(options.localPort ?? 5090),
      '-s', options.service ?? 'conclave',
      '-m', String(options.calls ?? 1),
      '-d', String(options.durationMs ?? 500),
      '-t', options.transport ?? 'u1',
      '-timeout', `${Math.ceil(timeoutMs / 1000)}s`,
      '-timeout_error',
      '-nostdin',
      '-trace_screen', '-screen_file', screenFile,
      '-trace_err', '-error_file', errorFile,
      ...Object.entries(options.variables ?? {}).flatMap(([k, v]) => ['-set', k, v]),
      ...(options.extraArgs ?? []),
    ];
    const sipp = findTool('sipp') ?? 'sipp';
    const [file, argv] = options.netns ? [options.netns.execPrefix[0] as string, [...options.netns.execPrefix.slice(1), sipp, ...args]] : [sipp, args];
    const result = await run(file, argv, { timeoutMs: timeoutMs + 10_000, cwd: dir });
    const screen = await readFile(screenFile, 'utf8').catch(() => '');
    const errors = await readFile(errorFile, 'utf8').catch(() => '');
    const count = (label: string): number => {
      const matches = [...screen.matchAll(new RegExp(`${label}\\s*\\|\\s*(\\d+)\\s*\\|\\s*(\\d+)`, 'g'))];
      const last = matches.at(-1);
      return last ? Number(last[2]) : 0;
    };
    return {
      exitCode: result.code,
      successful: count('Successful call'),
      failed: count('Failed call'),
      screen,
      errors,
      stdout: result.stdout,
      stderr: result.stderr,
      command: `${file} ${argv.join(' ')}`,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A minimal custom scenario: one OPTIONS, expecting a 200 (usable as a SIP ping). */
export const OPTIONS_SCENARIO = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="conclave options ping">
  <send retrans="500">
    <![CDATA[
      OPTIONS sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
      From: <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 OPTIONS
      Max-Forwards: 70
      Accept: application/sdp
      Content-Length: 0

    ]]>
  </send>
  <recv response="200" />
</scenario>
`;
