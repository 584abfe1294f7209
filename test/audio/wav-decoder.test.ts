/**
 * decodeWav: real WAVs from sox in every encoding and common rate, hand-built layouts (chunk
 * order, odd padding, extensible, streaming sizes), anti-aliasing, and malformed input.
 */
import { describe, expect, it } from 'vitest';
import { AudioFormatError } from '../../src/audio/audio-error.js';
import { MAX_AUDIO_SECONDS } from '../../src/audio/audio-limits.js';
import { toInt16 } from '../../src/audio/pcm.js';
import { resample } from '../../src/audio/resampler.js';
import { SLICE_FRAMES, decodeWav, parseWav } from '../../src/audio/wav-decoder.js';
import { db, encodeWav, fmtBody, riff, riffChunk, rms, sine, soxWav, toneAmplitude } from './wav-helpers.js';

const HALF = 16384; // amplitude 0.5 of full scale, in int16
const RATES = [8000, 11025, 16000, 22050, 24000, 32000, 44100, 48000];

/** The int16 samples of a 16-bit mono WAV, as numbers. */
function parseWavSamples(bytes: Uint8Array): number[] {
  const { data } = parseWav(bytes);
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  return Array.from({ length: data.length / 2 }, (_, i) => dv.getInt16(i * 2, true));
}

/** Expects `pcm` to be 1 s at 8 kHz (±1 sample) carrying `freq` at `amp` within `tolDb`. */
function expectTone(pcm: Int16Array, freq: number, amp: number, tolDb = 0.2, seconds = 1): void {
  expect(Math.abs(pcm.length - 8000 * seconds)).toBeLessThanOrEqual(1);
  expect(Math.abs(db(toneAmplitude(pcm, freq), amp))).toBeLessThan(tolDb);
}

describe('decodeWav with sox-made files', () => {
  for (const rate of RATES) {
    it(`decodes 16-bit stereo at ${rate} Hz: 440 Hz and 3 kHz at the right level and length`, async () => {
      const low = await decodeWav(soxWav(['-r', String(rate), '-c', '2', '-b', '16', '-e', 'signed-integer'], ['1', 'sine', '440', 'vol', '0.5']));
      expectTone(low, 440, HALF);
      const high = await decodeWav(soxWav(['-r', String(rate), '-c', '2', '-b', '16', '-e', 'signed-integer'], ['1', 'sine', '3000', 'vol', '0.5']));
      expectTone(high, 3000, HALF);
    });
  }

  const encodings: [string, string[], number][] = [
    ['8-bit unsigned', ['-b', '8', '-e', 'unsigned-integer'], 0.3],
    ['24-bit', ['-b', '24', '-e', 'signed-integer'], 0.2],
    ['32-bit int', ['-b', '32', '-e', 'signed-integer'], 0.2],
    ['32-bit float', ['-b', '32', '-e', 'floating-point'], 0.2],
    ['64-bit float', ['-b', '64', '-e', 'floating-point'], 0.2],
    ['μ-law', ['-e', 'u-law'], 0.3],
    ['A-law', ['-e', 'a-law'], 0.3],
  ];
  for (const [name, args, tol] of encodings) {
    for (const rate of [8000, 44100]) {
      it(`decodes ${name} mono at ${rate} Hz`, async () => {
        expectTone(await decodeWav(soxWav(['-r', String(rate), '-c', '1', ...args], ['1', 'sine', '1000', 'vol', '0.5'])), 1000, HALF, tol);
      });
    }
  }

  it('decodes 6-channel 48 kHz (WAVE_FORMAT_EXTENSIBLE) to mono', async () => {
    const bytes = soxWav(['-r', '48000', '-c', '6', '-b', '16', '-e', 'signed-integer'], ['1', 'sine', '700', 'vol', '0.5']);
    expect(new DataView(bytes.buffer).getUint16(20, true)).toBe(0xfffe);
    expectTone(await decodeWav(bytes), 700, HALF);
  });

  it('decodes an odd rate (22,222 Hz, the interpolated-kernel path) and an upsampled 4 kHz file', async () => {
    expectTone(await decodeWav(soxWav(['-r', '22222', '-c', '1', '-b', '16'], ['1', 'sine', '440', 'vol', '0.5'])), 440, HALF);
    expectTone(await decodeWav(soxWav(['-r', '22222', '-c', '1', '-b', '16'], ['1', 'sine', '3000', 'vol', '0.5'])), 3000, HALF);
    const up = await decodeWav(soxWav(['-r', '4000', '-c', '1', '-b', '16'], ['1', 'sine', '1000', 'vol', '0.5']));
    expectTone(up, 1000, HALF);
    expect(db(toneAmplitude(up, 3000), HALF)).toBeLessThan(-60); // the image at 4000 − 1000 Hz
  });

  it('decodes a WAV sox streamed to a pipe (placeholder sizes) to its real length', async () => {
    const wav = soxWav(['-r', '16000', '-c', '1', '-b', '16', '-t', 'wav'], ['1', 'sine', '440', 'vol', '0.5']);
    // Rewrite the sizes as a pipe writer leaves them.
    const streamed = wav.slice();
    const dv = new DataView(streamed.buffer);
    dv.setUint32(4, 0x7ffff024, true);
    const dataAt = parseWav(wav).data.byteOffset - 8;
    dv.setUint32(dataAt + 4, 0x7ffff000, true);
    expectTone(await decodeWav(streamed), 440, HALF);
  });
});

describe('anti-aliasing', () => {
  const cases: [number, number, number][] = [
    [48000, 6000, 2000],
    [44100, 4500, 3500],
    [22050, 7000, 1000],
    [11025, 5000, 3000],
    [16000, 4200, 3800],
    [22222, 6000, 2000],
  ];
  for (const [rate, tone, alias] of cases) {
    it(`removes a ${tone} Hz tone at ${rate} Hz instead of folding it to ${alias} Hz`, async () => {
      const pcm = await decodeWav(encodeWav({ rate, encoding: 's16', channels: [sine(tone, rate, 1)] }));
      expect(Math.abs(pcm.length - 8000)).toBeLessThanOrEqual(1);
      expect(db(toneAmplitude(pcm, alias), HALF)).toBeLessThan(-70);
      expect(db(rms(pcm, 400, 7600), HALF)).toBeLessThan(-60);
    });
  }

  it('passes the telephone band flat (300–3400 Hz within 0.1 dB at 44.1 kHz)', async () => {
    for (const f of [300, 1000, 2000, 3000, 3400]) {
      const pcm = await decodeWav(encodeWav({ rate: 44100, encoding: 'f32', channels: [sine(f, 44100, 1)] }));
      expect(Math.abs(db(toneAmplitude(pcm, f), HALF))).toBeLessThan(0.1);
    }
  });

  it('keeps DC', async () => {
    const dc = new Float64Array(44100).fill(0.25);
    const pcm = await decodeWav(encodeWav({ rate: 44100, encoding: 's16', channels: [dc] }));
    for (let i = 200; i < 7800; i++) expect(Math.abs(pcm[i]! - 8192)).toBeLessThanOrEqual(2);
  });
});

describe('decodeWav layouts', () => {
  it('returns 8 kHz 16-bit mono samples exactly', async () => {
    const x = sine(440, 8000, 0.1, 0.7);
    const pcm = await decodeWav(encodeWav({ rate: 8000, encoding: 's16', channels: [x] }));
    expect(pcm.length).toBe(800);
    for (let i = 0; i < 800; i++) expect(pcm[i]).toBe(Math.round(x[i]! * 32768) | 0);
  });

  it('averages channels: opposite channels cancel, different tones each come at half level', async () => {
    const a = sine(440, 16000, 1);
    const silent = await decodeWav(encodeWav({ rate: 16000, encoding: 's16', channels: [a, a.map((v) => -v)] }));
    expect(rms(silent)).toBeLessThan(1);
    const mixed = await decodeWav(encodeWav({ rate: 16000, encoding: 's16', channels: [a, sine(1000, 16000, 1)] }));
    expectTone(mixed, 440, HALF / 2);
    expectTone(mixed, 1000, HALF / 2);
  });

  it('walks unknown chunks with odd sizes before fmt, between fmt and data, and after data', async () => {
    const odd = { id: 'LIST', body: new Uint8Array([1, 2, 3]) };
    const x = new Float64Array([0, 0.5, -0.5, 0.25, -0.25]); // 5 bytes of u8 data: an odd data chunk
    const bytes = encodeWav({
      rate: 8000,
      encoding: 'u8',
      channels: [x],
      before: [odd, { id: 'JUNK', body: new Uint8Array(0) }],
      between: [{ id: 'fact', body: new Uint8Array([5, 0, 0, 0]) }, odd],
      after: [odd, { id: 'id3 ', body: new Uint8Array(7) }],
    });
    expect(Array.from(await decodeWav(bytes))).toEqual([0, 16384, -16384, 8192, -8192]);
  });

  it('accepts data before fmt', async () => {
    const data = riffChunk('data', new Uint8Array([0xff, 0x7f, 0x00, 0x80]));
    const bytes = riff([data, riffChunk('fmt ', fmtBody(1, 1, 8000, 16, 2))]);
    expect(Array.from(await decodeWav(bytes))).toEqual([32767, -32768]);
  });

  it('decodes WAVE_FORMAT_EXTENSIBLE with PCM, float, μ-law and A-law subformats', async () => {
    for (const encoding of ['s16', 's24', 'f32', 'mulaw', 'alaw'] as const) {
      const bytes = encodeWav({ rate: 32000, encoding, channels: [sine(1000, 32000, 1)], extensible: true });
      expectTone(await decodeWav(bytes), 1000, HALF, 0.3);
    }
  });

  it('decodes 24-bit samples in 32-bit containers (extensible, validBits 24)', async () => {
    // Samples left-justified in 4 bytes: decoding the container as 32-bit is exact.
    const bytes = encodeWav({ rate: 8000, encoding: 's32', channels: [new Float64Array([0.5, -0.25])], extensible: true });
    new DataView(bytes.buffer).setUint16(20 + 18, 24, true);
    expect(Array.from(await decodeWav(bytes))).toEqual([16384, -8192]);
  });

  it('clamps float samples beyond ±1 and maps NaN to silence', async () => {
    const data = new Uint8Array(12);
    const dv = new DataView(data.buffer);
    dv.setFloat32(0, 3, true);
    dv.setFloat32(4, -3, true);
    dv.setFloat32(8, NaN, true);
    const bytes = riff([riffChunk('fmt ', fmtBody(3, 1, 8000, 32, 4)), riffChunk('data', data)]);
    expect(Array.from(await decodeWav(bytes))).toEqual([32767, -32768, 0]);
  });

  it('gives an empty array for an empty data chunk and drops a partial last frame', async () => {
    expect((await decodeWav(riff([riffChunk('fmt ', fmtBody(1, 1, 8000, 16, 2)), riffChunk('data', new Uint8Array(0))]))).length).toBe(0);
    expect((await decodeWav(riff([riffChunk('fmt ', fmtBody(1, 2, 8000, 16, 4)), riffChunk('data', new Uint8Array(7))]))).length).toBe(1);
  });

});

describe('decodeWav in bounded time and memory', () => {
  it('decodes a long file in slices, letting other work run between them (60 s of 44.1 kHz stereo)', async () => {
    const x = sine(440, 44100, 60);
    const bytes = encodeWav({ rate: 44100, encoding: 's16', channels: [x, x] });
    // Count the turns of the event loop other work gets while the file decodes.
    let turns = 0;
    let decoding = true;
    const tick = (): void => {
      turns++;
      if (decoding) setImmediate(tick);
    };
    setImmediate(tick);
    const pcm = await decodeWav(bytes);
    decoding = false;
    expect(pcm.length).toBe(480000);
    expect(turns).toBeGreaterThanOrEqual(Math.floor((44100 * 60) / SLICE_FRAMES) - 1);
    expectTone(pcm.subarray(0, 8000), 440, HALF);
    expectTone(pcm.subarray(472000), 440, HALF);
  });

  it('gives, slice by slice, exactly what one conversion of the whole signal gives', async () => {
    const frames = SLICE_FRAMES * 3 + 1234;
    const x = Float64Array.from({ length: frames }, (_, i) => 0.4 * Math.sin(i / 7) + 0.3 * Math.sin(i / 3.1));
    const bytes = encodeWav({ rate: 44100, encoding: 's16', channels: [x] });
    const whole = Float32Array.from(parseWavSamples(bytes));
    expect(Array.from(await decodeWav(bytes))).toEqual(Array.from(toInt16(resample(whole, 44100, 8000))));
  });

  it('refuses a file longer than MAX_AUDIO_SECONDS from its header, before decoding, saying the limit', async () => {
    expect(MAX_AUDIO_SECONDS).toBe(600);
    const long = encodeWav({ rate: 4000, encoding: 'u8', channels: [new Float64Array(4000 * 601)] });
    const err = await decodeWav(long).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(AudioFormatError);
    expect((err as Error).message).toBe('WAV too long: it lasts 601 s, more than the 600 s of audio Conclave plays from one file');
    const two = encodeWav({ rate: 16000, encoding: 's16', channels: [sine(440, 16000, 2)] });
    expect((await decodeWav(two, { maxSeconds: 2 })).length).toBe(16000);
    await expect(decodeWav(two, { maxSeconds: 1.9 })).rejects.toThrow('WAV too long: it lasts 2 s, more than the 1.9 s of audio');
  });

  it('stops between slices when its signal aborts', async () => {
    const bytes = encodeWav({ rate: 48000, encoding: 's16', channels: [sine(440, 48000, 10)] });
    await expect(decodeWav(bytes, { signal: AbortSignal.abort(new Error('gone')) })).rejects.toThrow('gone');
    const controller = new AbortController();
    const pending = decodeWav(bytes, { signal: controller.signal });
    setImmediate(() => controller.abort(new Error('caller hung up')));
    await expect(pending).rejects.toThrow('caller hung up');
  });
});

describe('decodeWav rejects what it cannot play', () => {
  const good = encodeWav({ rate: 8000, encoding: 's16', channels: [sine(440, 8000, 1)] });
  const fmtWith = (tag: number, channels: number, rate: number, bits: number, align: number): Uint8Array =>
    riff([riffChunk('fmt ', fmtBody(tag, channels, rate, bits, align)), riffChunk('data', new Uint8Array(64))]);
  const rejects = async (bytes: Uint8Array, message: RegExp | string): Promise<void> => {
    let caught: unknown;
    try {
      await decodeWav(bytes);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(AudioFormatError);
    if (typeof message === 'string') expect((caught as Error).message).toBe(message);
    else expect((caught as Error).message).toMatch(message);
  };
  const text = (s: string): Uint8Array => new TextEncoder().encode(s);

  it('names MP3 and other compressed WAV formats', async () => {
    await rejects(fmtWith(85, 2, 44100, 0, 1), 'unsupported WAV format 85 (MP3): Conclave plays PCM, μ-law and A-law WAV');
    await rejects(fmtWith(2, 1, 8000, 4, 256), /format 2 \(Microsoft ADPCM\)/);
    await rejects(fmtWith(0x31, 1, 8000, 0, 65), /GSM 6\.10/);
    await rejects(fmtWith(0x1234, 1, 8000, 16, 2), /^unsupported WAV format 4660: Conclave plays/);
  });

  it('recognises files that are not WAV at all', async () => {
    await rejects(new Uint8Array(0), /not a WAV file \(only 0 bytes\)/);
    await rejects(text('ID3\u0004\u0000\u0000\u0000\u0000\u0000\u0000 mp3 frames follow'), /MP3/);
    await rejects(new Uint8Array([0xff, 0xfb, 0x90, 0x64, ...new Uint8Array(40)]), /MP3/);
    await rejects(text('OggS\u0000\u0002\u0000\u0000 and more bytes'), /Ogg/);
    await rejects(text('fLaC\u0000\u0000\u0000\u0022 and more bytes'), /FLAC/);
    await rejects(text('<!DOCTYPE html><html><body>Not found</body></html>'), /HTML/);
    await rejects(riff([], 'RIFX'), /big-endian/);
    await rejects(riff([riffChunk('avih', new Uint8Array(8))], 'RIFF', 'AVI '), /RIFF file of type "AVI ", not WAVE/);
    await rejects(text('just some text, long enough'), /not a WAV file \(this looks like text\)/);
    await rejects(new Uint8Array([0x00, 0x01, 0x02, 0x03, 0x80, 0x81, 0x82, 0x83, 0x90, 0x91, 0x92, 0x93]), /no RIFF\/WAVE header/);
  });

  it('rejects every truncation of a valid file that cuts the header or the data', async () => {
    for (const cut of [1, 4, 11, 12, 16, 20, 30, 35, 36, 40, 43]) await rejects(good.subarray(0, cut), /WAV/);
    await rejects(good.subarray(0, 44 + 100), 'truncated WAV: data chunk declares 16000 bytes, 100 present');
    await rejects(good.subarray(0, 30), /truncated WAV: fmt chunk declares 16 bytes/);
  });

  it('rejects missing chunks and impossible headers', async () => {
    await rejects(riff([riffChunk('fmt ', fmtBody(1, 1, 8000, 16, 2))]), 'invalid WAV: no data chunk');
    await rejects(riff([riffChunk('data', new Uint8Array(8))]), /no fmt chunk/);
    await rejects(riff([riffChunk('fmt ', new Uint8Array(14)), riffChunk('data', new Uint8Array(8))]), /fmt chunk too short/);
    await rejects(fmtWith(1, 0, 8000, 16, 2), /channel count 0/);
    await rejects(fmtWith(1, 1, 0, 16, 2), /sample rate 0 Hz/);
    await rejects(fmtWith(1, 1, 2000, 16, 2), /sample rate 2000 Hz/);
    await rejects(fmtWith(1, 1, 8000, 0, 2), /bits per sample 0/);
    await rejects(fmtWith(1, 2, 8000, 16, 3), /block align 3/);
    await rejects(fmtWith(1, 1, 8000, 48, 6), /48-bit PCM/);
    await rejects(fmtWith(3, 1, 8000, 16, 2), /16-bit float/);
    await rejects(fmtWith(7, 1, 8000, 16, 2), /16-bit μ-law/);
    await rejects(fmtWith(6, 1, 8000, 4, 1), /4-bit A-law/);
  });

  it('rejects extensible files with a non-PCM subformat GUID or a short fmt chunk', async () => {
    const ext = fmtBody(1, 1, 8000, 16, 2, true, 0x55);
    await rejects(riff([riffChunk('fmt ', ext), riffChunk('data', new Uint8Array(8))]), /format 85 \(MP3\)/);
    const ambisonic = fmtBody(1, 1, 8000, 16, 2, true);
    ambisonic.set([0x21, 0x07, 0xd3, 0x11, 0x86, 0x44, 0xc8, 0xc1, 0xca, 0x00, 0x00, 0x00], 28); // Ambisonic B-format PCM
    await rejects(riff([riffChunk('fmt ', ambisonic), riffChunk('data', new Uint8Array(8))]), /subformat GUID \{00000001-0721-11d3-8644-c8c1ca000000\}/);
    await rejects(riff([riffChunk('fmt ', fmtBody(1, 1, 8000, 16, 2, true).subarray(0, 18)), riffChunk('data', new Uint8Array(8))]), /need 40/);
  });

  it('never throws anything but AudioFormatError on corrupted headers (fuzz)', async () => {
    let seed = 12345;
    const rand = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    const base = encodeWav({ rate: 11025, encoding: 's16', channels: [sine(440, 11025, 0.05)] });
    for (let round = 0; round < 2000; round++) {
      const bytes = base.slice(0, rand() < 0.2 ? Math.floor(rand() * base.length) : base.length);
      for (let k = 0; k < 1 + Math.floor(rand() * 4); k++) bytes[Math.floor(rand() * Math.min(60, bytes.length))] = Math.floor(rand() * 256);
      try {
        expect(await decodeWav(bytes)).toBeInstanceOf(Int16Array);
      } catch (err) {
        if (!(err instanceof AudioFormatError)) throw err;
      }
    }
  });
});
