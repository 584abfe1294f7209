/**
 * A command line Conclave does not understand (an unknown command or flag, a missing value):
 * one line on stderr with a hint to `--help`, and exit status 2, as POSIX utilities do for
 * usage errors — apart from the 1 of a configuration that cannot run.
 */
import { ConfigError } from '../errors.js';

export class UsageError extends ConfigError {
  constructor(problem: string, command?: string) {
    super(`${problem}; see "conclave ${command ? `${command} ` : ''}--help"`);
  }
}
