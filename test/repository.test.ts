/**
 * The repository stands alone: a clone with nothing beside it runs `npm ci && npm test`. No
 * tracked file may reach outside it for the seed or Twilio's reference documents (they live in
 * `test/fixtures/`); this check keeps it so.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** The sibling folder the project's reference documents came from, spelled so this file does not match itself. */
const OUTSIDE = ['..', 'shared'].join('/');

function trackedFiles(): string[] {
  return execFileSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8' }).split('\0').filter(Boolean);
}

describe('the repository', () => {
  it('names nothing outside itself', () => {
    const offenders = trackedFiles().filter((file) => {
      const body = readFileSync(`${ROOT}/${file}`);
      return body.includes(OUTSIDE);
    });
    expect(offenders).toEqual([]);
  });

  it('keeps the reference documents the tests read', () => {
    const files = trackedFiles();
    expect(files).toContain('test/fixtures/participants-2010.txt');
    expect(files).toContain('test/fixtures/twilio-api-v2010-excerpt.json');
  });
});
