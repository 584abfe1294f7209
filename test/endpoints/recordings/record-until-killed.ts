/**
 * A process that records until it is killed: `node --import tsx record-until-killed.ts <dir>
 * <sid> <channels>` appends 20 ms of a 400 Hz tone (1000 Hz on a second channel) every 20 ms,
 * as the media thread hands a call's audio over, and never finishes. The crash test kills it
 * with SIGKILL and recovers what it left.
 */
import { FileRecordingStorage } from '../../../src/endpoints/recordings/file-recording-storage.js';
import { batches, interleave, tone } from './audio-files.js';

const [dir, sid, channelsArg] = process.argv.slice(2);
const channels = channelsArg === '2' ? 2 : 1;
const storage = new FileRecordingStorage(dir!);
const sink = await storage.create(sid!, channels);
const minute = channels === 2 ? interleave(tone(400, 60), tone(1000, 60)) : tone(400, 60);
const frames = batches(minute, channels);
setInterval(() => {
  const next = frames.next();
  if (!next.done) sink.append(next.value);
}, 20);
process.stdout.write('recording\n');
