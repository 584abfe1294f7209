/**
 * decodeAudio and its parts on bytes made at test time: MP3 from lame (tones at 44.1 kHz stereo,
 * 22.05 kHz mono and 8 kHz, with and without an ID3v2 tag), raw μ-law from the G.711 table, and
 * the rules that pick the decoder from the bytes, the Content-Type and the URL; the length bound
 * (MAX_AUDIO_SECONDS, the same for every format), aborts, and the errors for what Conclave does
 * not play.
 */
import { describe, expect, it } from 'vitest';
import { AudioFormatError } from '../../src/audio/audio-error.js';
import { describeContent, looksLikeMpegAudio, mpegFrameHeader } from '../../src/audio/audio-sniff.js';
import { decodeAudio, detectAudioFormat } from '../../src/audio/decode-audio.js';
import { MAX_AUDIO_SECONDS } from '../../src/audio/audio-limits.js';
import { decodeMp3 } from '../../src/audio/mp3-decoder.js';
import { decodeMulaw } from '../../src/audio/mulaw-decoder.js';
import { MULAW_ENCODE } from '../../src/media/codec/g711.js';
import { db, encodeWav, lameMp3, sine, toneAmplitude } from './wav-helpers.js';

const HALF_SCALE = 16384;
const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const failure = (p: Promise<unknown>): Promise<unknown> => p.then(() => new Error('expected a rejection'), (e: unknown) => e);

/** A 2 s 1 kHz tone at half scale, as lame encodes it from a WAV of `channels` at `rate`. */
function toneMp3(rate: number, channels: 1 | 2, args: string[] = []): Uint8Array {
  const tone = sine(1000, rate, 2);
  const wav = encodeWav({ rate, encoding: 's16', channels: channels === 1 ? [tone] : [tone, tone] });
  return lameMp3(wav, ['--resample', String(rate / 1000), ...args]);
}

/** Raw μ-law of `seconds` of a `freq` tone at half scale. */
function mulawTone(freq: number, seconds: number): Uint8Array {
  return Uint8Array.from(sine(freq, 8000, seconds), (x) => MULAW_ENCODE[Math.round(x * 32768) & 0xffff]!);
}

const STEREO_44 = toneMp3(44100, 2, ['-b', '128']);
const MONO_22 = toneMp3(22050, 1);
const MONO_8 = toneMp3(8000, 1, ['-b', '32']);

describe('MP3', () => {
  it.each([
    ['44.1 kHz stereo', STEREO_44],
    ['22.05 kHz mono', MONO_22],
    ['8 kHz mono', MONO_8],
  ])('decodes a lame MP3 at %s to 8 kHz: about 2 s, its energy at 1 kHz', async (_name, mp3) => {
    expect(looksLikeMpegAudio(mp3)).toBe(true);
    const pcm = await decodeAudio(mp3, { contentType: 'audio/mpeg', url: 'http://example.test/tone.mp3' });
    // Gapless decoding trims the encoder's delay and padding; MPEG-2/2.5 files may keep a frame.
    expect(pcm.length).toBeGreaterThanOrEqual(2 * 8000 - 80);
    expect(pcm.length).toBeLessThan(2 * 8000 + 800);
    expect(Math.abs(db(toneAmplitude(pcm, 1000), HALF_SCALE))).toBeLessThan(1);
    for (const other of [500, 2000, 3000]) expect(db(toneAmplitude(pcm, other), HALF_SCALE)).toBeLessThan(-40);
  });

  it('averages the two channels of a stereo file', async () => {
    const wav = encodeWav({ rate: 44100, encoding: 's16', channels: [sine(1000, 44100, 2), sine(500, 44100, 2)] });
    const pcm = await decodeMp3(lameMp3(wav, ['-m', 's', '-b', '192']));
    expect(Math.abs(db(toneAmplitude(pcm, 1000), HALF_SCALE / 2))).toBeLessThan(1);
    expect(Math.abs(db(toneAmplitude(pcm, 500), HALF_SCALE / 2))).toBeLessThan(1);
  });

  it('plays an MP3 with an ID3v2 tag, whatever it is served as', async () => {
    const tagged = toneMp3(44100, 2, ['--id3v2-only', '--tt', 'Hold music', '--ta', 'Conclave']);
    expect(String.fromCharCode(...tagged.subarray(0, 3))).toBe('ID3');
    for (const contentType of ['audio/mpeg', 'application/octet-stream', 'audio/wav', null]) {
      expect(detectAudioFormat(tagged, { contentType, url: 'http://example.test/download' })).toBe('mp3');
    }
    const pcm = await decodeAudio(tagged, { contentType: 'application/octet-stream' });
    expect(Math.abs(db(toneAmplitude(pcm, 1000), HALF_SCALE))).toBeLessThan(1);
  });

  it('recognises MP3 by its frames when the Content-Type says nothing or something else', () => {
    for (const mp3 of [STEREO_44, MONO_22, MONO_8]) {
      expect(detectAudioFormat(mp3, { contentType: 'application/octet-stream' })).toBe('mp3');
      expect(detectAudioFormat(mp3, { contentType: 'audio/x-wav', url: 'http://example.test/tone.wav' })).toBe('mp3');
      expect(detectAudioFormat(mp3, { url: 'http://example.test/prompt.ul' })).toBe('mp3');
    }
    for (const contentType of ['audio/mpeg', 'audio/mp3', 'audio/mpeg3', 'audio/x-mpeg-3', 'Audio/MPEG; charset=binary']) {
      expect(detectAudioFormat(STEREO_44, { contentType })).toBe('mp3');
    }
  });

  it('reads MPEG frame headers field by field', () => {
    // MPEG-1 layer III, 128 kbit/s, 44.1 kHz, no padding: 144 · 128000 / 44100 = 417 bytes.
    expect(mpegFrameHeader(new Uint8Array([0xff, 0xfb, 0x90, 0x64]))).toEqual({ version: 3, layer: 3, sampleRate: 44100, length: 417 });
    // MPEG-2.5 layer III, 32 kbit/s, 8 kHz, padded: 72 · 32000 / 8000 + 1 = 289 bytes.
    expect(mpegFrameHeader(new Uint8Array([0xff, 0xe3, 0x4a, 0xc4]))).toEqual({ version: 0, layer: 3, sampleRate: 8000, length: 289 });
    expect(mpegFrameHeader(new Uint8Array([0xff, 0xfb, 0xf0, 0x64]))).toBeUndefined(); // bitrate index 15
    expect(mpegFrameHeader(new Uint8Array([0xff, 0xfb, 0x9c, 0x64]))).toBeUndefined(); // rate index 3
    expect(mpegFrameHeader(new Uint8Array([0xff, 0xf1, 0x50, 0x80]))).toBeUndefined(); // layer 00: AAC
    // One valid header followed by nothing that lines up is not enough to call bytes MP3.
    expect(looksLikeMpegAudio(new Uint8Array([0xff, 0xfb, 0x90, 0x64, ...new Uint8Array(1000)]))).toBe(false);
    expect(describeContent(new Uint8Array([0xff, 0xf1, 0x50, 0x80, 0, 0]))).toBe('this is AAC (ADTS)');
  });

  it('stops past MAX_AUDIO_SECONDS of audio with AudioFormatError', async () => {
    expect(MAX_AUDIO_SECONDS).toBe(600);
    // Ten seconds of lame output (no LAME tag, so copies join into one stream) repeated 61 times.
    const ten = lameMp3(encodeWav({ rate: 8000, encoding: 's16', channels: [sine(1000, 8000, 10)] }), ['-t', '-b', '8', '--resample', '8']);
    const long = new Uint8Array(ten.length * 61);
    for (let i = 0; i < 61; i++) long.set(ten, i * ten.length);
    const err = await failure(decodeAudio(long, { contentType: 'audio/mpeg' }));
    expect(err).toBeInstanceOf(AudioFormatError);
    expect((err as Error).message).toBe('MP3 too long: it decodes to more than 600 s of audio, the most Conclave plays from one file');
    expect((await decodeMp3(long.subarray(0, ten.length * 59))).length).toBeGreaterThan(589 * 8000);
    await expect(decodeMp3(MONO_22, { maxSeconds: 1 })).rejects.toThrow(/more than 1 s of audio/);
  });

  it('stops decoding when its signal aborts', async () => {
    await expect(decodeMp3(STEREO_44, { signal: AbortSignal.abort(new Error('gone')) })).rejects.toThrow('gone');
    const controller = new AbortController();
    const pending = decodeMp3(STEREO_44, { signal: controller.signal });
    controller.abort(new Error('caller hung up'));
    await expect(pending).rejects.toThrow('caller hung up');
  });

  it('refuses a file served as MP3 that is not, saying what it is', async () => {
    const page = await failure(decodeAudio(text('<!DOCTYPE html><html><body>Not found</body></html>'), { contentType: 'audio/mpeg' }));
    expect(page).toBeInstanceOf(AudioFormatError);
    expect((page as Error).message).toBe('cannot play this file (served as audio/mpeg; this looks like HTML or XML): Conclave plays WAV, MP3 and raw μ-law (.ul)');
    const noise = Uint8Array.from({ length: 4000 }, (_, i) => (i * 7919 + 13) & 0xff);
    const err = await failure(decodeAudio(noise, { contentType: 'audio/mpeg' }));
    expect(err).toBeInstanceOf(AudioFormatError);
    expect((err as Error).message).toBe('not an MP3 file: no MPEG audio frame could be decoded: Conclave plays WAV, MP3 and raw μ-law (.ul)');
  });
});

describe('raw μ-law', () => {
  const tone = mulawTone(1000, 1);

  it('decodes audio/basic, audio/ulaw, audio/x-mulaw and audio/pcmu, one sample a byte', async () => {
    for (const contentType of ['audio/basic', 'audio/ulaw', 'audio/x-mulaw', 'audio/PCMU; rate=8000']) {
      const pcm = await decodeAudio(tone, { contentType, url: 'http://example.test/prompt' });
      expect(pcm.length).toBe(8000);
      expect(Math.abs(db(toneAmplitude(pcm, 1000), HALF_SCALE))).toBeLessThan(0.2);
    }
    expect(decodeMulaw(new Uint8Array([0xff, 0x7f, 0x80, 0x00]))).toEqual(new Int16Array([0, 0, 32124, -32124]));
  });

  it('takes a .ul or .ulaw URL as raw μ-law when the Content-Type says nothing more', async () => {
    for (const url of ['http://example.test/prompt.ul', 'http://example.test/a/PROMPT.ULAW?sig=abc', 'http://example.test/x.ul#t=1']) {
      for (const contentType of ['application/octet-stream', 'binary/octet-stream', '', null, undefined]) {
        expect(detectAudioFormat(tone, { contentType, url })).toBe('mulaw');
      }
    }
    expect((await decodeAudio(tone, { contentType: 'application/octet-stream', url: 'http://example.test/prompt.ul' })).length).toBe(8000);
    // μ-law silence (0xFF) is not an MPEG sync word that lines up.
    expect(detectAudioFormat(new Uint8Array(4000).fill(0xff), { url: 'http://example.test/silence.ul' })).toBe('mulaw');
    // A more specific Content-Type is believed over the extension.
    expect(() => detectAudioFormat(tone, { contentType: 'text/plain', url: 'http://example.test/prompt.ul' })).toThrow(AudioFormatError);
    expect(() => detectAudioFormat(tone, { contentType: 'application/octet-stream', url: 'http://example.test/prompt.ul.txt' })).toThrow(AudioFormatError);
  });

  it('refuses a file longer than MAX_AUDIO_SECONDS by its length, before decoding it', async () => {
    const long = new Uint8Array(MAX_AUDIO_SECONDS * 8000 + 1).fill(0xff);
    const err = await failure(decodeAudio(long, { contentType: 'audio/basic' }));
    expect(err).toBeInstanceOf(AudioFormatError);
    expect((err as Error).message).toBe('raw μ-law too long: it lasts 600.1 s, more than the 600 s of audio Conclave plays from one file');
    expect(decodeMulaw(long.subarray(0, 16000), 2).length).toBe(16000);
    expect(() => decodeMulaw(long.subarray(0, 16001), 2)).toThrow('raw μ-law too long: it lasts 2.1 s, more than the 2 s of audio Conclave plays from one file');
  });

  it('refuses bytes that are recognisably something else', () => {
    expect(() => detectAudioFormat(text('<html><body>Forbidden</body></html>'), { contentType: 'audio/basic' })).toThrow(
      'cannot play this file (served as audio/basic; this looks like HTML or XML): Conclave plays WAV, MP3 and raw μ-law (.ul)',
    );
    expect(() => detectAudioFormat(text('OggS\u0000\u0002 and the rest'), { url: 'http://example.test/a.ul' })).toThrow(/no Content-Type; this is Ogg/);
    expect(() => detectAudioFormat(text('.snd\u0000\u0000\u0000\u0018'), { contentType: 'audio/basic' })).toThrow(/Sun\/NeXT \.au/);
  });
});

describe('detectAudioFormat', () => {
  const wav = encodeWav({ rate: 8000, encoding: 's16', channels: [sine(1000, 8000, 0.1)] });

  it('takes a RIFF/WAVE header for WAV before anything else', async () => {
    for (const contentType of ['audio/wav', 'audio/mpeg', 'audio/basic', 'application/octet-stream', null]) {
      expect(detectAudioFormat(wav, { contentType, url: 'http://example.test/a.ul' })).toBe('wav');
    }
    expect((await decodeAudio(wav, { contentType: 'audio/mpeg' })).length).toBe(800);
  });

  it('names what it cannot play and says what Conclave plays', () => {
    const cases: [Uint8Array, string | null, string][] = [
      [text('OggS\u0000\u0002\u0000\u0000 vorbis'), 'audio/ogg', 'served as audio/ogg; this is Ogg'],
      [text('fLaC\u0000\u0000\u0000\u0022'), 'audio/flac', 'served as audio/flac; this is FLAC'],
      [text('\u0000\u0000\u0000\u0020ftypM4A \u0000\u0000'), 'audio/mp4', 'served as audio/mp4; this is MP4/M4A'],
      [text('FORM\u0000\u0000\u0001\u0000AIFFCOMM'), 'audio/aiff', 'served as audio/aiff; this is AIFF'],
      [new Uint8Array([0xff, 0xf1, 0x50, 0x80, 0x01, 0x7f, 0xfc]), 'audio/aac', 'served as audio/aac; this is AAC (ADTS)'],
      [text('RIFX\u0000\u0000\u0000\u0000WAVEfmt '), 'audio/wav', 'served as audio/wav; big-endian RIFX WAV is not supported'],
      [text('RIFF\u0000\u0000\u0000\u0000AVI LIST'), 'video/avi', 'served as video/avi; RIFF file of type "AVI ", not WAVE'],
      [text('{"error":"not found"}'), 'application/json', 'served as application/json; this looks like JSON'],
      [text('Not Found'), 'text/plain', 'served as text/plain; this looks like text'],
      [new Uint8Array(0), 'audio/wav', 'served as audio/wav; the body is empty'],
      [new Uint8Array([0x00, 0x9a, 0x13, 0xe7, 0x80, 0x01]), null, 'no Content-Type; unrecognised content starting with bytes 00 9a 13 e7'],
    ];
    for (const [bytes, contentType, what] of cases) {
      let caught: unknown;
      try {
        detectAudioFormat(bytes, { contentType, url: 'http://example.test/file' });
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(AudioFormatError);
      expect((caught as Error).message).toBe(`cannot play this file (${what}): Conclave plays WAV, MP3 and raw μ-law (.ul)`);
    }
  });

  it('keeps the WAV decoder\'s own errors for a broken WAV', async () => {
    const err = await failure(decodeAudio(wav.subarray(0, 30), { contentType: 'audio/wav' }));
    expect(err).toBeInstanceOf(AudioFormatError);
    expect((err as Error).message).toMatch(/^truncated WAV/);
  });
});
