/**
 * The media worker's entry point (worker_threads): one MediaEngine driven by its own 20 ms
 * clock, requests in on parentPort, replies and notifications out. The control plane starts it
 * through MediaClient, which runs several and shards rooms over them.
 */
import { readlinkSync } from 'node:fs';
import os from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { MediaEngine } from './media-engine.js';
import { nativeUdp } from './rtp/native-udp.js';
import type { MediaEngineOptions, MediaReply, WorkerRequest } from './protocol.js';

const port = parentPort;
if (port === null) throw new Error('media/worker.ts must run in a worker thread');

const options = (workerData ?? {}) as MediaEngineOptions;

/**
 * Optionally raise this thread's scheduling priority, as Asterisk (`-p`) and FreeSWITCH (`-rp`)
 * do for their media threads: on a busy machine a 20 ms tick should not wait behind other work.
 * Linux nice values are per thread; /proc/thread-self names this thread's id. Best effort: an
 * unprivileged process may not lower its nice value, and then the thread runs as it is.
 */
if (options.threadNice !== undefined) {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(tid) && tid > 0) os.setPriority(tid, options.threadNice);
  } catch {
    // not Linux, or not allowed
  }
}

const engine = new MediaEngine((n) => port.postMessage(n), options);

/** Real-time scheduling (see MediaEngineOptions.realtimePriority); reported in the worker's stats. */
if (options.realtimePriority !== undefined && options.realtimePriority > 0 && nativeUdp !== null) {
  engine.realtime = nativeUdp.setRealtime(options.realtimePriority) === 0;
}
engine.start();

port.on('message', (req: WorkerRequest) => {
  void engine.handle(req).then((reply: MediaReply) => {
    // A recording can be large: hand its buffer over instead of copying it.
    if (reply.ok && req.type === 'takeRecording') {
      const wav = (reply.result as { wav: Uint8Array }).wav;
      port.postMessage(reply, [wav.buffer as ArrayBuffer]);
    } else {
      port.postMessage(reply);
    }
  });
});
