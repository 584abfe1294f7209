/**
 * Keypad digits through the control plane's view of the media plane, on a real media worker:
 * `MediaPlane.onDigit` hears every digit a leg's far end sends, `MediaLeg.sendDigits` and
 * `pressKeys` resolve true when all went out and false — never rejecting — when the signal
 * aborts or the leg closes first, as `play` does.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MediaPlane } from '../../src/endpoints/media/media-plane.js';
import { until } from '../helpers/until.js';
import { digitsIn } from '../media/digits-in.js';

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

describe('MediaPlane and MediaLeg keypad', () => {
  const planes: MediaPlane[] = [];
  const open = (): MediaPlane => {
    const plane = new MediaPlane({ host: '127.0.0.1', portRange: { min: 42200, max: 42299 }, workers: 1, udp: 'dgram' }, quiet);
    planes.push(plane);
    return plane;
  };
  afterEach(async () => {
    for (const plane of planes.splice(0)) await plane.close();
  });

  it('tells onDigit listeners every key a sim leg presses, in order, until they unsubscribe; pressKeys resolves true', async () => {
    const plane = open();
    const heard: string[] = [];
    const other: string[] = [];
    const unsubscribe = plane.onDigit((callSid, digit) => heard.push(`${callSid}:${digit}`));
    plane.onDigit((callSid, digit) => other.push(`${callSid}:${digit}`));
    const leg = await plane.openSimLeg('CA1', {}, false);
    expect(await leg.pressKeys('12*#')).toBe(true);
    expect(heard).toEqual(['CA1:1', 'CA1:2', 'CA1:*', 'CA1:#']);
    unsubscribe();
    expect(await leg.pressKeys('9')).toBe(true);
    expect(heard).toHaveLength(4);
    expect(other.at(-1)).toBe('CA1:9');
  });

  it('sendDigits resolves true once the tones went out, and a recording leg heard them', async () => {
    const plane = open();
    const leg = await plane.openSimLeg('CA1', {}, true);
    expect(await leg.sendDigits('7w0D')).toBe(true);
    const wav = await plane.recording('CA1');
    expect(digitsIn(new Int16Array(wav!.buffer.slice(44)))).toBe('70D');
  });

  it('resolves false when the signal aborts or the leg closes, and rejects characters off the keypad', async () => {
    const plane = open();
    const leg = await plane.openSimLeg('CA1', {}, false);
    const heard: string[] = [];
    plane.onDigit((_, digit) => heard.push(digit));
    const stop = new AbortController();
    const pressing = leg.pressKeys('1W2');
    const sending = leg.sendDigits('1234567890', stop.signal);
    await until(() => heard.length === 1, 5000, 'the first key');
    stop.abort();
    // One leg's digits go out one request after the other: the sending, queued behind the
    // pressing, is stopped before its first tone.
    expect(await pressing).toBe(true);
    expect(await sending).toBe(false);
    expect(heard).toEqual(['1', '2']);
    expect(await leg.sendDigits('1', stop.signal)).toBe(false);

    const long = leg.pressKeys('1W1W1W1');
    await until(() => heard.length === 3, 5000, 'a key of the long press');
    await leg.close();
    expect(await long).toBe(false);
    expect(await leg.sendDigits('1')).toBe(false);

    const rtp = await plane.openRtpLeg('CA2', { codec: 'PCMU', telephoneEvent: 101 });
    await expect(rtp.leg.pressKeys('1')).rejects.toMatchObject({ code: 'invalid' });
    await expect(rtp.leg.sendDigits('1+2')).rejects.toMatchObject({ code: 'invalid' });
    expect(await rtp.leg.sendDigits('1')).toBe(true);
  });
});
