/**
 * Interop prerequisites: the Debian package each external tool comes from, a check that fails
 * loudly (naming the package) instead of skipping, and small process helpers.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Binary → Debian package that provides it (see .ci/run). */
export const TOOL_PACKAGES = {
  baresip: 'baresip-core',
  sipp: 'sip-tester',
  sox: 'sox',
  'espeak-ng': 'espeak-ng',
  ip: 'iproute2',
} as const;

export type ToolName = keyof typeof TOOL_PACKAGES;

/** Absolute path of `tool` on PATH (plus the sbin directories, where `ip` lives), or undefined. */
export function findTool(tool: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/local/sbin', '/usr/sbin', '/sbin'];
  for (const dir of dirs) {
    if (dir.length === 0) continue;
    const candidate = join(dir, tool);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * Throws unless every tool is installed and (for namespaces) we are root. The message names
 * the Debian package to install; interop tests never skip silently.
 */
export function requireTools(...tools: ToolName[]): void {
  const missing = tools.filter((tool) => findTool(tool) === undefined);
  if (missing.length > 0) {
    const packages = [...new Set(missing.map((tool) => TOOL_PACKAGES[tool]))].join(' ');
    throw new Error(
      `interop prerequisites missing: ${missing.join(', ')} not found on PATH. ` +
        `Install the Debian package(s): apt-get install -y ${packages}`,
    );
  }
  if (tools.includes('ip') && typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new Error('interop tests create network namespaces (ip netns add) and must run as root');
  }
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion; rejects only if it cannot be started or times out. */
export function run(file: string, args: readonly string[], options: { timeoutMs?: number; cwd?: string } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      { timeout: options.timeoutMs ?? 30_000, cwd: options.cwd, maxBuffer: 16 * 1024 * 1024, encoding: 'utf8' },
      (error, stdout, stderr) => {
        const e = error as (NodeJS.ErrnoException & { killed?: boolean; code?: number | string }) | null;
        if (e && (typeof e.code === 'string' || e.killed)) {
          reject(new Error(`${file} ${args.join(' ')}: ${e.killed ? 'timed out' : e.message}\n${stderr}`));
          return;
        }
        resolve({ code: e ? (typeof e.code === 'number' ? e.code : 1) : 0, stdout, stderr });
      },
    );
  });
}

/** Runs a command and throws with its stderr unless it exits 0. */
export async function runOk(file: string, args: readonly string[], options: { timeoutMs?: number; cwd?: string } = {}): Promise<string> {
  const result = await run(file, args, options);
  if (result.code !== 0) throw new Error(`${file} ${args.join(' ')} exited ${result.code}: ${result.stderr.trim()}`);
  return result.stdout;
}
