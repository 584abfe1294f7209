/**
 * A real DNS server for the tests of RFC 3263 resolution: Debian's dnsmasq (scripts/
 * test-packages.sh installs dnsmasq-base, the binary without its system service), started in
 * the foreground on a free UDP port of 127.0.0.1 and serving only the records a test gives —
 * NAPTR, SRV and A — for names under `.test`; anything else under `.test` is NXDOMAIN
 * (`--local`), and nothing is forwarded anywhere.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { Resolver } from 'node:dns/promises';
import { until } from './until.js';

export interface NaptrSpec {
  name: string;
  order: number;
  preference: number;
  /** `SIP+D2U`, `SIP+D2T`, `SIPS+D2T`. */
  service: string;
  replacement: string;
}

export interface SrvSpec {
  /** `_sip._udp.example.test`. */
  name: string;
  target: string;
  port: number;
  priority: number;
  weight: number;
}

export interface DnsRecords {
  naptr?: NaptrSpec[];
  srv?: SrvSpec[];
  /** Name → IPv4 addresses. */
  a?: Record<string, string[]>;
}

export interface DnsServer {
  /** `127.0.0.1:<port>`, as CONCLAVE_SIP_DNS_SERVERS takes it. */
  readonly address: string;
  /** Stops dnsmasq; idempotent. */
  close(): Promise<void>;
}

async function freeUdpPort(): Promise<number> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

/** dnsmasq serving `records`, answering once this resolves. */
export async function startDnsServer(records: DnsRecords): Promise<DnsServer> {
  const port = await freeUdpPort();
  const args = ['--no-daemon', `--port=${port}`, '--listen-address=127.0.0.1', '--bind-interfaces', '--no-resolv', '--no-hosts', '--local=/test/', '--log-facility=-', '--pid-file='];
  for (const r of records.naptr ?? []) args.push(`--naptr-record=${r.name},${r.order},${r.preference},s,${r.service},,${r.replacement}`);
  for (const r of records.srv ?? []) args.push(`--srv-host=${r.name},${r.target},${r.port},${r.priority},${r.weight}`);
  // One --host-record per address: a second IPv4 in one would be read as a name.
  for (const [name, addresses] of Object.entries(records.a ?? {})) for (const address of addresses) args.push(`--host-record=${name},${address}`);
  const child: ChildProcess = spawn('dnsmasq', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let output = '';
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let gone = false;
  void exited.then(() => (gone = true));
  const server: DnsServer = {
    address: `127.0.0.1:${port}`,
    async close() {
      if (!gone) child.kill('SIGTERM');
      await exited;
    },
  };
  // Ready once it answers: an NXDOMAIN for a name it does not have is an answer.
  const probe = new Resolver({ timeout: 200, tries: 1 });
  probe.setServers([server.address]);
  await until(
    async () => {
      if (gone) throw new Error(`dnsmasq exited: ${output.trim()}`);
      return probe.resolve4('ready.probe.test').then(
        () => true,
        (error: NodeJS.ErrnoException) => error.code === 'ENOTFOUND' || error.code === 'ENODATA',
      );
    },
    10_000,
    () => `dnsmasq on ${server.address} to answer (${output.trim()})`,
    50,
  );
  return server;
}
