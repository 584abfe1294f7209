/**
 * Test helper: the keypad digits in a stretch of 8 kHz PCM (a recording, what a peer heard), as
 * the media engine's in-band detector finds them frame by frame, keys still down at the end
 * counted as released.
 */
import { DtmfDetector } from '../../src/media/dtmf-detector.js';

export function digitsIn(pcm: Int16Array): string {
  const d = new DtmfDetector();
  let found = '';
  for (let i = 0; i + 160 <= pcm.length; i += 160) found += d.process(pcm.subarray(i, i + 160)) ?? '';
  for (let k = 0; k < 5; k++) found += d.process(null) ?? '';
  return found;
}
