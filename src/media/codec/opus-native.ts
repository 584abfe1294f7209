/**
 * The native Opus decode (native/opus_decode.c, built by `npm install` through binding.gyp
 * beside the UDP batch): libopus's FEC decode and per-frame concealment, which @discordjs/opus
 * does not offer, reached in the libopus that @discordjs/opus loaded. Null where it did not build
 * or cannot open that libopus; opus.ts then decodes through the binding (no FEC, repeat for PLC).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { packageRoot } from '../rtp/native-udp.js';

/** A libopus decoder held by the native module. */
export type NativeOpusDecoder = { readonly __brand: 'OpusDecoder' };

export interface NativeOpus {
  /** Opens the libopus in @discordjs/opus's opus.node: 0, or < 0. */
  open(opusNodePath: string): number;
  /** A mono decoder at `rate`; throws if libopus refuses. */
  create(rate: number): NativeOpusDecoder;
  /**
   * `packet` into `out` (at most out.length samples); packet null = conceal out.length samples;
   * fec = 1: the frame before `packet`, from its in-band FEC. Samples written, or a libopus error (< 0).
   */
  decode(decoder: NativeOpusDecoder, packet: Uint8Array | null, out: Int16Array, fec: number): number;
  /** Frees the decoder now (again: nothing). */
  destroy(decoder: NativeOpusDecoder): void;
}

/** Where @discordjs/opus's compiled module is, found the way its own lib/index.js finds it. */
function opusNodePath(): string {
  const require = createRequire(import.meta.url);
  const packageJson = require.resolve('@discordjs/opus/package.json');
  const preGyp = createRequire(packageJson)('@discordjs/node-pre-gyp') as { find(packageJsonPath: string): string };
  return preGyp.find(packageJson);
}

function load(): { module: NativeOpus | null; error: string | null } {
  if (process.platform !== 'linux') return { module: null, error: 'not Linux' };
  const file = path.join(packageRoot(), 'build', 'Release', 'opus_decode.node');
  if (!existsSync(file)) return { module: null, error: `${file} is missing (npm install builds it)` };
  try {
    const module = createRequire(import.meta.url)(file) as NativeOpus;
    const opened = module.open(opusNodePath());
    if (opened !== 0) return { module: null, error: opened === -2 ? 'libopus symbols missing from opus.node' : 'opus.node did not open' };
    return { module, error: null };
  } catch (err) {
    return { module: null, error: err instanceof Error ? err.message : String(err) };
  }
}

const loaded = load();

/** The module, or null (then `nativeOpusError` says why). */
export const nativeOpus: NativeOpus | null = loaded.module;
export const nativeOpusError: string | null = loaded.error;
