/**
 * Starting and stopping the bench's server processes: each script is forked with tsx as its
 * loader and an IPC channel, and is "up" when it sends its `ready` message. A child that exits
 * before that fails the bench with its exit code (its stderr is inherited, so the cause shows).
 */
import { execFileSync, fork, spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { isMessage, type Stop } from './protocol.js';

const STARTUP_TIMEOUT_MS = 120_000;
const STOP_TIMEOUT_MS = 15_000;

export interface Child<R> {
  process: ChildProcess;
  ready: R;
}

export interface ForkOptions {
  args?: string[];
  /** Extra flags for node, e.g. `--cpu-prof`. */
  nodeFlags?: string[];
  /** Sent right after the fork, before waiting for `ready`. */
  firstMessage?: object;
  /** Runs the child on these CPUs only (Linux `taskset -c`), e.g. `1`. */
  cpus?: string;
}

/** Forks `bench/<script>` under tsx and resolves with its `ready` message. */
export function forkServer<R extends { type: 'ready' }>(script: string, options: ForkOptions = {}): Promise<Child<R>> {
  const file = fileURLToPath(new URL(script, import.meta.url));
  const execArgv = ['--import', import.meta.resolve('tsx'), ...(options.nodeFlags ?? [])];
  const stdio = ['ignore', 'inherit', 'inherit', 'ipc'] as const;
  const child =
    options.cpus === undefined
      ? fork(file, options.args ?? [], { execArgv, stdio: [...stdio] })
      : spawn('taskset', ['-c', options.cpus, process.execPath, ...execArgv, file, ...(options.args ?? [])], { stdio: [...stdio] });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`${script} did not start within ${STARTUP_TIMEOUT_MS / 1000}s`));
    }, STARTUP_TIMEOUT_MS);
    const onExit = (code: number | null, signal: string | null): void => {
      clearTimeout(timer);
      reject(new Error(`${script} exited before it was ready (code ${code ?? 'none'}, signal ${signal ?? 'none'})`));
    };
    child.once('exit', onExit);
    child.on('message', (message) => {
      if (!isMessage<R>(message, 'ready')) return;
      clearTimeout(timer);
      child.off('exit', onExit);
      resolve({ process: child, ready: message });
    });
    if (options.firstMessage) child.send(options.firstMessage);
  });
}

/** Asks a child to stop (it cleans up and exits normally); kills it if it takes too long. */
export function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    const stop: Stop = { type: 'stop' };
    if (child.connected) child.send(stop);
    else child.kill();
  });
}

/** Pins this process (all its threads) to `cpus` with `taskset`; the load generator then never shares a core with a server. */
export function pinSelf(cpus: string): void {
  execFileSync('taskset', ['-a', '-cp', cpus, String(process.pid)], { stdio: 'ignore' });
}
