/** The interop prerequisite check fails loudly and names the Debian package to install. */
import { afterEach, describe, expect, it } from 'vitest';
import { findTool, requireTools } from './helpers/tools.js';

const path = process.env.PATH;
afterEach(() => {
  process.env.PATH = path;
});

describe('interop prerequisites', () => {
  it('names the Debian package of each missing tool', () => {
    process.env.PATH = '/nonexistent';
    expect(() => requireTools('sipp')).toThrow(/apt-get install -y sip-tester/);
    expect(() => requireTools('baresip', 'sox', 'espeak-ng')).toThrow(/baresip-core sox espeak-ng/);
  });

  it('finds the tools installed on this machine (ip in sbin)', () => {
    for (const tool of ['baresip', 'sipp', 'sox', 'espeak-ng', 'ip'] as const) {
      expect(findTool(tool), `${tool}: run .ci/run or apt-get install the package`).toBeDefined();
    }
    expect(() => requireTools('baresip', 'sipp', 'sox', 'espeak-ng', 'ip')).not.toThrow();
  });
});
