/**
 * SpeechSynthesizer with the real espeak-ng (installed by apt in CI; a missing binary fails here
 * with the command to install it), voice mapping, caching, and failure modes with stand-in
 * commands (missing, hanging, failing).
 */
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SpeechError, SpeechUnavailableError } from '../../src/audio/audio-error.js';
import { SpeechSynthesizer, resolveVoice } from '../../src/audio/speech.js';
import { rms, run } from './wav-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'conclave-speech-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** An executable shell script standing in for espeak-ng. */
function script(name: string, body: string): string {
  const file = join(dir, name);
  writeFileSync(file, `#!/bin/sh\n${body}\n`);
  chmodSync(file, 0o755);
  return file;
}

describe('resolveVoice', () => {
  const installed = new Set(['en-us', 'en-gb', 'fr-fr', 'de', 'es', 'es-419', 'pt-br', 'pt', 'it', 'cmn', 'ja', 'nb']);

  it('maps Twilio languages to espeak-ng voices', () => {
    expect(resolveVoice({})).toBe('en-us');
    expect(resolveVoice({ language: 'en-US' }, installed)).toBe('en-us');
    expect(resolveVoice({ language: 'en-GB' }, installed)).toBe('en-gb');
    expect(resolveVoice({ language: 'en-AU' }, installed)).toBe('en-gb');
    expect(resolveVoice({ language: 'fr-FR' }, installed)).toBe('fr-fr');
    expect(resolveVoice({ language: 'fr-CA' }, installed)).toBe('fr-fr');
    expect(resolveVoice({ language: 'de-DE' }, installed)).toBe('de');
    expect(resolveVoice({ language: 'es-ES' }, installed)).toBe('es');
    expect(resolveVoice({ language: 'es-MX' }, installed)).toBe('es-419');
    expect(resolveVoice({ language: 'pt-BR' }, installed)).toBe('pt-br');
    expect(resolveVoice({ language: 'it-IT' }, installed)).toBe('it');
    expect(resolveVoice({ language: 'zh-CN' }, installed)).toBe('cmn');
    expect(resolveVoice({ language: 'nb-NO' }, installed)).toBe('nb');
    expect(resolveVoice({ language: 'DE_de' }, installed)).toBe('de');
  });

  it('falls back to en-us for a language espeak-ng does not have', () => {
    expect(resolveVoice({ language: 'tlh-KL' }, installed)).toBe('en-us');
    expect(resolveVoice({ language: 'xx' }, installed)).toBe('en-us');
  });

  it('picks a female variant for woman, alice and female Polly voices', () => {
    expect(resolveVoice({ voice: 'man' }, installed)).toBe('en-us');
    expect(resolveVoice({ voice: 'woman' }, installed)).toBe('en-us+f3');
    expect(resolveVoice({ voice: 'alice', language: 'en-GB' }, installed)).toBe('en-gb+f3');
    expect(resolveVoice({ voice: 'Polly.Joanna' }, installed)).toBe('en-us+f3');
    expect(resolveVoice({ voice: 'Polly.Joanna-Neural' }, installed)).toBe('en-us+f3');
    expect(resolveVoice({ voice: 'Polly.Matthew' }, installed)).toBe('en-us');
  });

  it('takes the language from a Polly or Google voice unless one is given', () => {
    expect(resolveVoice({ voice: 'Polly.Celine' }, installed)).toBe('fr-fr+f3');
    expect(resolveVoice({ voice: 'Polly.Hans' }, installed)).toBe('de');
    expect(resolveVoice({ voice: 'Polly.Amy' }, installed)).toBe('en-gb+f3');
    expect(resolveVoice({ voice: 'Polly.Lucia', language: 'es-MX' }, installed)).toBe('es-419+f3');
    expect(resolveVoice({ voice: 'Google.de-DE-Standard-A' }, installed)).toBe('de');
    expect(resolveVoice({ voice: 'Polly.Unknownvoice' }, installed)).toBe('en-us');
  });
});

describe('SpeechSynthesizer with espeak-ng', () => {
  const speech = new SpeechSynthesizer({});

  beforeAll(() => {
    // Fails (not skips) when espeak-ng is missing, naming the package to install.
    run('espeak-ng', ['--version']);
  });

  it('is available', async () => {
    expect(await speech.available()).toBe(true);
  });

  it('speaks "hello world" as 0.5–3 s of 8 kHz audio with energy', async () => {
    const pcm = await speech.speak('hello world', {});
    expect(pcm).toBeInstanceOf(Int16Array);
    expect(pcm.length).toBeGreaterThan(0.5 * 8000);
    expect(pcm.length).toBeLessThan(3 * 8000);
    expect(rms(pcm)).toBeGreaterThan(500);
    expect(pcm.some((s) => Math.abs(s) > 4000)).toBe(true);
  });

  it('speaks other languages and voices', async () => {
    for (const options of [{ language: 'fr-FR' }, { language: 'de-DE', voice: 'woman' }, { language: 'es-ES' }, { voice: 'Polly.Amy' }]) {
      const pcm = await speech.speak('un, dos, tres, vier, five', options);
      expect(pcm.length).toBeGreaterThan(0.5 * 8000);
      expect(rms(pcm)).toBeGreaterThan(300);
    }
  });

  it('serves a repeated prompt from the cache, and shares a synthesis in flight', async () => {
    const a = await speech.speak('You are the first participant.', { voice: 'alice' });
    const t0 = performance.now();
    const b = await speech.speak('You are the first participant.', { voice: 'alice' });
    expect(b).toBe(a);
    expect(performance.now() - t0).toBeLessThan(20);
    const [c, d] = await Promise.all([speech.speak('Please hold.', {}), speech.speak('Please hold.', {})]);
    expect(c).toBe(d);
    // A different voice is a different entry.
    expect(await speech.speak('You are the first participant.', { voice: 'man' })).not.toBe(a);
  });

  it('passes text as one argument: leading dashes and shell syntax are spoken, not obeyed', async () => {
    const target = join(dir, 'injected.wav');
    const pcm = await speech.speak(`-w ${target} hello; touch ${target}.sh $(touch ${target}.sub)`, {});
    expect(pcm.length).toBeGreaterThan(8000);
    expect(existsSync(target)).toBe(false);
    expect(existsSync(`${target}.sh`)).toBe(false);
    expect(existsSync(`${target}.sub`)).toBe(false);
  });

  it('returns silence for blank text and refuses text over 4,096 characters', async () => {
    expect((await speech.speak('  \n ', {})).length).toBe(0);
    await expect(speech.speak('a '.repeat(2100), {})).rejects.toBeInstanceOf(SpeechError);
  });

  it('evicts by total samples', async () => {
    const small = new SpeechSynthesizer({ cacheMaxSamples: 8000 * 2 });
    const one = await small.speak('one two three', {});
    await small.speak('four five six', {});
    await small.speak('seven eight nine', {});
    expect(await small.speak('one two three', {})).not.toBe(one);
  });
});

describe('SpeechSynthesizer failures', () => {
  it('reports a missing espeak-ng: available() false, speak throws SpeechUnavailableError', async () => {
    const speech = new SpeechSynthesizer({ command: join(dir, 'no-such-espeak-ng') });
    expect(await speech.available()).toBe(false);
    const err = await speech.speak('hello', {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SpeechUnavailableError);
    expect((err as Error).message).toContain('espeak-ng is not installed (apt-get install espeak-ng)');
  });

  it('says exactly "espeak-ng is not installed (apt-get install espeak-ng)" for the default command', () => {
    expect(new SpeechUnavailableError().message).toBe('espeak-ng is not installed (apt-get install espeak-ng)');
  });

  it('kills a synthesis that outlives timeoutMs', async () => {
    const hang = script('hang', 'case "$1" in --version|--voices) exit 0;; esac\nexec sleep 10');
    const speech = new SpeechSynthesizer({ command: hang, timeoutMs: 300 });
    const t0 = performance.now();
    await expect(speech.speak('hello', {})).rejects.toThrow(/timed out after 300 ms/);
    expect(performance.now() - t0).toBeLessThan(3000);
  });

  it('reports a failing command with its stderr, and output that is not WAV', async () => {
    const failing = script('fail', 'case "$1" in --version|--voices) exit 0;; esac\necho "voice does not exist" >&2\nexit 1');
    await expect(new SpeechSynthesizer({ command: failing }).speak('hello', {})).rejects.toThrow(/exited with code 1: voice does not exist/);
    const garbage = script('garbage', 'case "$1" in --version|--voices) exit 0;; esac\necho "not audio at all"');
    const err = await new SpeechSynthesizer({ command: garbage }).speak('hello', {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SpeechError);
    expect((err as Error).message).toMatch(/produced no usable audio: not a WAV file/);
  });

  it('passes voice, speed and text as separate arguments after --', async () => {
    const argsFile = join(dir, 'args.txt');
    const echo = script('echo-args', `case "$1" in --version|--voices) exit 0;; esac\nprintf '%s\\n' "$@" > ${argsFile}\nexec espeak-ng --stdout -- hi`);
    const speech = new SpeechSynthesizer({ command: echo, speed: 150 });
    await speech.speak('it\'s "quoted" & $HOME', { language: 'fr-FR', voice: 'woman' });
    expect(readFileSync(argsFile, 'utf8').split('\n').slice(0, 7)).toEqual(['--stdout', '-v', 'fr-fr+f3', '-s', '150', '--', 'it\'s "quoted" & $HOME']);
  });
});
