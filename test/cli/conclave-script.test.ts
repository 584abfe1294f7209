/**
 * `npm run conclave` starts the CLI from the build `npm ci` made (its `prepare` script builds
 * dist/) instead of rebuilding first, which cost about 9 s a command. The real npm runs the
 * real script; npm's `script-shell` is a wrapper that logs each script it runs, so a build
 * (a nested `npm run build`, or tsc called directly) shows up as a second line.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MAIN = join(ROOT, 'dist', 'src', 'main.js');

describe('npm run conclave', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'conclave-script-'));
    // The precondition `npm ci` gives: a build in dist/. Made here only when absent (its
    // exit status is not the point: tsc emits even when some other file does not typecheck).
    if (!existsSync(MAIN)) spawnSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'ignore' });
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('npm ci builds dist/ (prepare), and npm start still builds first (it must run edited sources)', () => {
    const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    expect(scripts.prepare).toMatch(/\bnpm run build\b/);
    expect(scripts.start).toMatch(/^npm run build --silent && node dist\/src\/main\.js serve$/);
  });

  it('runs node dist/src/main.js without building when the build exists', async () => {
    expect(existsSync(MAIN)).toBe(true);
    const log = join(dir, 'scripts.log');
    const shell = join(dir, 'logging-sh');
    writeFileSync(shell, '#!/bin/sh\n# npm runs every script as: <script-shell> -c "<command>"\nprintf \'%s\\n\' "$2" >> "$SCRIPT_LOG"\nexec /bin/sh "$@"\n');
    chmodSync(shell, 0o755);

    const result = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      const child = spawn('npm', ['run', '--silent', 'conclave', '--', '--help'], {
        cwd: ROOT,
        // npm reads npm_config_* from the environment, and so does the nested npm a build would start.
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? dir, SCRIPT_LOG: log, npm_config_script_shell: shell },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let stdout = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.on('close', (code) => resolve({ code, stdout }));
    });

    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^usage: conclave serve /);
    const ran = readFileSync(log, 'utf8').trim().split('\n');
    expect(ran).toHaveLength(1);
    expect(ran[0]).toMatch(/node dist\/src\/main\.js --help$/);
  });
});
