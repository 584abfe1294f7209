/**
 * `<Say>`: text-to-speech with espeak-ng, run as a child process, decoded to 8 kHz mono PCM16.
 *
 * Why hand-written here: Twilio's voices are cloud services; a self-hosted bridge needs a local
 * synthesizer, and espeak-ng is the one Debian ships everywhere (apt-get install espeak-ng),
 * small, offline and fast. There is no maintained Node binding, and its CLI already writes a
 * WAV to stdout, so this file only maps Twilio's `voice`/`language` onto an espeak-ng voice,
 * spawns `espeak-ng --stdout -v <voice> -s <speed> -- <text>` (no shell; `--` so that text
 * starting with "-" is never read as an option), decodes the WAV and caches the result: the
 * same prompt ("You are the first participant…") is spoken to caller after caller.
 */
import { spawn } from 'node:child_process';
import { AudioFormatError, SpeechError, SpeechUnavailableError } from './audio-error.js';
import { SampleCache } from './sample-cache.js';
import { decodeWav } from './wav-decoder.js';

export interface SpeechOptions {
  /** Twilio `voice`: "man" (default), "woman", "alice", "Polly.Joanna", "Google.en-US-…". */
  voice?: string;
  /** Twilio `language`, a BCP 47 tag such as "en-US", "fr-FR"; default from the voice, else en-US. */
  language?: string;
}

export interface SynthesizerOptions {
  /** The espeak-ng executable (default "espeak-ng", looked up on PATH). */
  command?: string;
  /** Kill a synthesis that takes longer than this (default 10 s). */
  timeoutMs?: number;
  /** Words per minute (default 160; espeak-ng's own default of 175 is brisk on a phone). */
  speed?: number;
  /** Cache bound in samples (default 8000 × 600, ten minutes of speech, 9.6 MB). */
  cacheMaxSamples?: number;
  /** Syntheses run at once (default 4); more wait their turn. */
  maxConcurrent?: number;
}

/** Twilio's `<Say>` limit. */
export const MAX_SAY_CHARACTERS = 4096;
const MAX_OUTPUT_BYTES = 64 * 1024 * 1024;
const NOT_INSTALLED = 'espeak-ng is not installed (apt-get install espeak-ng)';

/** Amazon Polly voices Twilio offers → [language, female]. "-Neural"/"-Generative" suffixes are dropped. */
const POLLY: Record<string, [string, boolean]> = {
  joanna: ['en-US', true], salli: ['en-US', true], kimberly: ['en-US', true], kendra: ['en-US', true],
  ivy: ['en-US', true], ruth: ['en-US', true], danielle: ['en-US', true], matthew: ['en-US', false],
  joey: ['en-US', false], justin: ['en-US', false], kevin: ['en-US', false], stephen: ['en-US', false],
  gregory: ['en-US', false], amy: ['en-GB', true], emma: ['en-GB', true], brian: ['en-GB', false],
  arthur: ['en-GB', false], nicole: ['en-AU', true], olivia: ['en-AU', true], russell: ['en-AU', false],
  raveena: ['en-IN', true], aditi: ['en-IN', true], kajal: ['en-IN', true], geraint: ['en-GB', false],
  celine: ['fr-FR', true], céline: ['fr-FR', true], lea: ['fr-FR', true], léa: ['fr-FR', true],
  mathieu: ['fr-FR', false], remi: ['fr-FR', false], chantal: ['fr-CA', true], gabrielle: ['fr-CA', true],
  liam: ['fr-CA', false], marlene: ['de-DE', true], vicki: ['de-DE', true], hans: ['de-DE', false],
  daniel: ['de-DE', false], conchita: ['es-ES', true], lucia: ['es-ES', true], enrique: ['es-ES', false],
  sergio: ['es-ES', false], mia: ['es-MX', true], andres: ['es-MX', false], lupe: ['es-US', true],
  penelope: ['es-US', true], miguel: ['es-US', false], pedro: ['es-US', false], carla: ['it-IT', true],
  bianca: ['it-IT', true], giorgio: ['it-IT', false], adriano: ['it-IT', false], camila: ['pt-BR', true],
  vitoria: ['pt-BR', true], ricardo: ['pt-BR', false], thiago: ['pt-BR', false], ines: ['pt-PT', true],
  cristiano: ['pt-PT', false], lotte: ['nl-NL', true], ruben: ['nl-NL', false], mizuki: ['ja-JP', true],
  takumi: ['ja-JP', false], seoyeon: ['ko-KR', true], zhiyu: ['cmn-CN', true], tatyana: ['ru-RU', true],
  maxim: ['ru-RU', false], ewa: ['pl-PL', true], maja: ['pl-PL', true], jacek: ['pl-PL', false],
  jan: ['pl-PL', false], astrid: ['sv-SE', true], naja: ['da-DK', true], mads: ['da-DK', false],
  liv: ['nb-NO', true], filiz: ['tr-TR', true], carmen: ['ro-RO', true], dora: ['is-IS', true],
  karl: ['is-IS', false], gwyneth: ['cy-GB', true],
};

/** Language tags whose espeak-ng voice is not simply the tag or its primary subtag. */
const LANGUAGES: Record<string, string> = {
  'en-us': 'en-us', 'en-ca': 'en-us', 'en-gb': 'en-gb', 'en-au': 'en-gb', 'en-nz': 'en-gb', 'en-ie': 'en-gb',
  'en-za': 'en-gb', 'en-in': 'en-gb', 'en-gb-wls': 'en-gb', en: 'en-us', 'fr-fr': 'fr-fr', 'fr-ca': 'fr-fr',
  fr: 'fr-fr', 'es-es': 'es', 'es-mx': 'es-419', 'es-us': 'es-419', 'es-419': 'es-419', 'pt-br': 'pt-br',
  'pt-pt': 'pt', 'zh-cn': 'cmn', 'zh-tw': 'cmn', 'cmn-cn': 'cmn', 'cmn-tw': 'cmn', zh: 'cmn', 'zh-hk': 'yue',
  'yue-hk': 'yue', 'nb-no': 'nb', 'no-no': 'nb', no: 'nb', 'arb': 'ar',
};

/**
 * The espeak-ng voice for Twilio's `voice`/`language`, e.g. "en-us", "fr-fr+f3". With
 * `installed` (the languages `espeak-ng --voices` lists) an unknown language falls back to its
 * primary subtag, then to en-us.
 */
export function resolveVoice(options: SpeechOptions, installed?: ReadonlySet<string>): string {
  const voice = (options.voice ?? 'man').trim();
  let female = /^(woman|alice)$/i.test(voice);
  let language = options.language?.trim();
  const polly = /^polly\.([^.-]+)/i.exec(voice);
  const google = /^google\.([a-z]{2,3}-[a-z]{2})-/i.exec(voice);
  if (polly !== null) {
    const known = POLLY[polly[1]!.toLowerCase()];
    if (known !== undefined) {
      female = known[1];
      language ||= known[0];
    }
  } else if (google !== null) {
    language ||= google[1];
  }
  const tag = (language || 'en-US').toLowerCase().replace(/_/g, '-');
  const primary = tag.split('-')[0]!;
  const candidates = [LANGUAGES[tag], tag, LANGUAGES[primary], primary].filter((c): c is string => c !== undefined);
  const chosen = installed === undefined ? candidates[0]! : (candidates.find((c) => installed.has(c)) ?? 'en-us');
  return female ? `${chosen}+f3` : chosen;
}

/** Turns espeak-ng (or an equivalent command) into 8 kHz PCM16 sounds, cached. */
export class SpeechSynthesizer {
  private readonly command: string;
  private readonly timeoutMs: number;
  private readonly speed: number;
  private readonly maxConcurrent: number;
  private readonly cache: SampleCache;
  private readonly inflight = new Map<string, Promise<Int16Array>>();
  private readonly queue: (() => void)[] = [];
  private running = 0;
  private availability: Promise<boolean> | undefined;
  private voices: Promise<ReadonlySet<string> | undefined> | undefined;

  constructor(options: SynthesizerOptions = {}) {
    this.command = options.command ?? 'espeak-ng';
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.speed = Math.round(options.speed ?? 160);
    this.maxConcurrent = Math.max(1, options.maxConcurrent ?? 4);
    this.cache = new SampleCache(options.cacheMaxSamples ?? 8000 * 600);
  }

  /** Whether the command runs (`--version` exits 0). Checked once. */
  available(): Promise<boolean> {
    this.availability ??= this.run(['--version']).then(
      () => true,
      () => false,
    );
    return this.availability;
  }

  /**
   * Speaks `text` as 8 kHz mono PCM16 (shared, read-only: it may come from the cache). Blank
   * text gives an empty array. Throws SpeechUnavailableError when espeak-ng is missing and
   * SpeechError when it fails, times out or the text exceeds 4,096 characters.
   */
  async speak(text: string, options: SpeechOptions = {}): Promise<Int16Array> {
    // Control characters cannot go into an argv (NUL) and mean nothing to a listener.
    // eslint-disable-next-line no-control-regex -- matching control characters is the point
    const clean = text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
    if (clean === '') return new Int16Array(0);
    if (clean.length > MAX_SAY_CHARACTERS) throw new SpeechError(`<Say> text is ${clean.length} characters; the limit is ${MAX_SAY_CHARACTERS}`);
    if (!(await this.available())) throw this.unavailable();
    const voice = resolveVoice(options, await this.installedVoices());
    const key = `${voice}\u0000${this.speed}\u0000${clean}`;
    const cached = this.cache.get(key);
    if (cached !== undefined) return cached;
    let pending = this.inflight.get(key);
    if (pending === undefined) {
      pending = this.synthesize(clean, voice)
        .then((pcm) => {
          this.cache.set(key, pcm);
          return pcm;
        })
        .finally(() => this.inflight.delete(key));
      this.inflight.set(key, pending);
    }
    return pending;
  }

  /** Drops every cached utterance. */
  clearCache(): void {
    this.cache.clear();
  }

  private unavailable(cause?: unknown): SpeechUnavailableError {
    const detail = this.command === 'espeak-ng' ? '' : ` (command "${this.command}" not found)`;
    return new SpeechUnavailableError(NOT_INSTALLED + detail, { cause });
  }

  private installedVoices(): Promise<ReadonlySet<string> | undefined> {
    this.voices ??= this.run(['--voices']).then(
      (out) => {
        const names = out
          .toString('utf8')
          .split('\n')
          .slice(1)
          .map((line) => line.trim().split(/\s+/)[1])
          .filter((n): n is string => n !== undefined && n !== '');
        return names.length > 0 ? new Set(names) : undefined;
      },
      () => undefined,
    );
    return this.voices;
  }

  private async synthesize(text: string, voice: string): Promise<Int16Array> {
    await this.acquire();
    let wav: Buffer;
    try {
      wav = await this.run(['--stdout', '-v', voice, '-s', String(this.speed), '--', text]);
    } finally {
      this.release();
    }
    try {
      return await decodeWav(wav);
    } catch (err) {
      if (err instanceof AudioFormatError) throw new SpeechError(`${this.command} produced no usable audio: ${err.message}`, { cause: err });
      throw err;
    }
  }

  private acquire(): Promise<void> {
    if (this.running < this.maxConcurrent) {
      this.running++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.queue.push(resolve));
  }

  private release(): void {
    const next = this.queue.shift();
    if (next !== undefined) next();
    else this.running--;
  }

  /** Runs the command with `args` (no shell) and resolves with its stdout. */
  private run(args: string[]): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const child = spawn(this.command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      const chunks: Buffer[] = [];
      let size = 0;
      let stderr = '';
      let failure: Error | undefined;
      const fail = (err: Error): void => {
        failure ??= err;
        child.kill('SIGKILL');
      };
      const timer = setTimeout(() => fail(new SpeechError(`${this.command} timed out after ${this.timeoutMs} ms`)), this.timeoutMs);
      child.stdout.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_OUTPUT_BYTES) fail(new SpeechError(`${this.command} output exceeds ${MAX_OUTPUT_BYTES} bytes`));
        else chunks.push(chunk);
      });
      child.stderr.on('data', (chunk: Buffer) => {
        if (stderr.length < 2000) stderr += chunk.toString('utf8');
      });
      child.on('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(err.code === 'ENOENT' || err.code === 'EACCES' ? this.unavailable(err) : new SpeechError(`${this.command} failed to start: ${err.message}`, { cause: err }));
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        if (failure !== undefined) reject(failure);
        else if (code === 0) resolve(Buffer.concat(chunks));
        else {
          const why = stderr.trim() || Buffer.concat(chunks).toString('utf8').trim().slice(0, 200);
          reject(new SpeechError(`${this.command} exited with ${signal ?? `code ${code}`}${why ? `: ${why}` : ''}`));
        }
      });
    });
  }
}
