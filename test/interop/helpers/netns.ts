/**
 * A throwaway network namespace joined to the host by a veth pair, for running third-party
 * SIP peers (baresip, sipp) isolated from the host's other sockets: libre's DNS client binds
 * UDP on 0.0.0.0/:: at random ports, and peers need fixed ports that cannot clash.
 *
 *   host  <veth cvh-XXXX> 10.X.Y.1/30  ────  10.X.Y.2/30 <veth cvn-XXXX>  namespace conclave-XXXX
 *
 * The namespace also has `lo` up, so peers inside can talk to each other on 127.0.0.1 or on
 * the namespace address. Teardown deletes the host end of the veth (which removes both ends
 * at once) and the namespace; it is registered on process exit too, so a crashed test run
 * leaves nothing behind.
 */
import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { networkInterfaces } from 'node:os';
import { requireTools, runOk } from './tools.js';

export interface Netns {
  /** `conclave-<hex>`. */
  readonly name: string;
  /** The host end's address (10.X.Y.1): bind host-side servers (the Conclave UA) here. */
  readonly hostAddress: string;
  /** The namespace end's address (10.X.Y.2): peers inside bind here. */
  readonly nsAddress: string;
  readonly hostInterface: string;
  readonly nsInterface: string;
  /** argv prefix that runs a command inside: `['ip', 'netns', 'exec', name]`. */
  readonly execPrefix: readonly string[];
  /** Spawns `command args…` inside the namespace. */
  spawn(command: string, args: readonly string[], options?: SpawnOptions): ChildProcess;
  /** Runs a command inside the namespace to completion; throws unless it exits 0. */
  exec(command: string, args: readonly string[], timeoutMs?: number): Promise<string>;
  /** Deletes the veth pair and the namespace; idempotent, never throws. */
  destroy(): Promise<void>;
}

function ipBinary(): string {
  return ['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip', '/bin/ip'].find((p) => {
    try {
      execFileSync(p, ['-V'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  }) ?? 'ip';
}

/** A /30 in 10.200.0.0–10.249.255.0 that no local interface uses yet. */
function freeSubnet(): { x: number; y: number } {
  const used = new Set(
    Object.values(networkInterfaces())
      .flatMap((list) => list ?? [])
      .filter((a) => a.family === 'IPv4')
      .map((a) => a.address.split('.').slice(0, 3).join('.')),
  );
  for (;;) {
    const [a, b] = randomBytes(2);
    const x = 200 + ((a as number) % 50);
    const y = b as number;
    if (!used.has(`10.${x}.${y}`)) return { x, y };
  }
}

/** Creates the namespace, the veth pair and the addresses; brings lo and both ends up. */
export async function createNetns(): Promise<Netns> {
  requireTools('ip');
  const ip = ipBinary();
  const id = randomBytes(3).toString('hex');
  const name = `conclave-${id}`;
  const hostInterface = `cvh-${id}`; // ≤ 15 characters (IFNAMSIZ)
  const nsInterface = `cvn-${id}`;
  const { x, y } = freeSubnet();
  const hostAddress = `10.${x}.${y}.1`;
  const nsAddress = `10.${x}.${y}.2`;

  let destroyed = false;
  const destroySync = (): void => {
    if (destroyed) return;
    destroyed = true;
    for (const args of [['link', 'del', hostInterface], ['netns', 'del', name]]) {
      try {
        execFileSync(ip, args, { stdio: 'ignore' });
      } catch {
        // already gone
      }
    }
  };
  process.once('exit', destroySync);

  try {
    await runOk(ip, ['netns', 'add', name]);
    await runOk(ip, ['link', 'add', hostInterface, 'type', 'veth', 'peer', 'name', nsInterface]);
    await runOk(ip, ['link', 'set', nsInterface, 'netns', name]);
    await runOk(ip, ['addr', 'add', `${hostAddress}/30`, 'dev', hostInterface]);
    await runOk(ip, ['link', 'set', hostInterface, 'up']);
    await runOk(ip, ['-n', name, 'addr', 'add', `${nsAddress}/30`, 'dev', nsInterface]);
    await runOk(ip, ['-n', name, 'link', 'set', nsInterface, 'up']);
    await runOk(ip, ['-n', name, 'link', 'set', 'lo', 'up']);
  } catch (error) {
    destroySync();
    process.off('exit', destroySync);
    throw error;
  }

  const execPrefix = [ip, 'netns', 'exec', name] as const;
  return {
    name,
    hostAddress,
    nsAddress,
    hostInterface,
    nsInterface,
    execPrefix,
    spawn: (command, args, options = {}) => spawn(ip, ['netns', 'exec', name, command, ...args], options),
    exec: (command, args, timeoutMs) => runOk(ip, ['netns', 'exec', name, command, ...args], { timeoutMs: timeoutMs ?? 30_000 }),
    destroy: async () => {
      destroySync();
      process.off('exit', destroySync);
    },
  };
}
