/**
 * Waiting until a recording call hears what it should: the last half second of what it heard
 * (a `sim:…;record` endpoint's SimulatedAudio.wav, read through any node) has every tone of
 * `heard` above a level and every tone of `silent` below one. Polled, since a change reaches the
 * call's node through the database and its mixer a tick later.
 */
import { meanAmplitude } from '../media/goertzel.js';
import { until } from './until.js';

/** Half a second at 8 kHz. */
export const LAST_HALF_SECOND = 4000;

export interface HearingLevels {
  /** A tone counts as heard above this mean amplitude (a tone at full level gives ~8000). */
  heard: number;
  /** And as not heard below this one. */
  silent: number;
}

/** The amplitude of each tone in the last half second of `pcm` (0 while it is shorter). */
export function tonesAtTheEnd(pcm: Int16Array, tones: readonly number[]): Map<number, number> {
  const tail = pcm.subarray(Math.max(0, pcm.length - LAST_HALF_SECOND));
  return new Map(tones.map((hz) => [hz, tail.length < LAST_HALF_SECOND ? 0 : meanAmplitude(tail, hz)]));
}

export async function untilHearing(
  read: () => Promise<Int16Array>,
  who: string,
  heard: readonly number[],
  silent: readonly number[],
  levels: HearingLevels,
): Promise<void> {
  let last = new Map<number, number>();
  await until(
    async () => {
      last = tonesAtTheEnd(await read(), [...heard, ...silent]);
      return heard.every((hz) => last.get(hz)! > levels.heard) && silent.every((hz) => last.get(hz)! < levels.silent);
    },
    15_000,
    () => `${who} to hear ${heard.join(', ') || 'nothing'} Hz and not ${silent.join(', ') || '-'} Hz (last: ${JSON.stringify([...last])})`,
    100,
  );
}

/** What a `sim:…;record` call heard so far: its SimulatedAudio.wav as fetched by a user, as 8 kHz samples. */
export async function simulatedAudio(baseUrl: string, accountSid: string, authToken: string, callSid: string): Promise<Int16Array> {
  const res = await fetch(`${baseUrl}/2010-04-01/Accounts/${accountSid}/Calls/${callSid}/SimulatedAudio.wav`, {
    headers: { authorization: `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}` },
  });
  if (res.status !== 200) throw new Error(`SimulatedAudio.wav of ${callSid} answered ${res.status}`);
  const data = new Uint8Array(await res.arrayBuffer()).slice(44);
  return new Int16Array(data.buffer, 0, Math.floor(data.length / 2));
}
