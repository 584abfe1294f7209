/**
 * The media worker's entry point (worker_threads): one MediaEngine driven by its own 20 ms
 * clock, requests in on parentPort, replies and notifications out. The control plane starts it
 * through MediaClient.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { MediaEngine } from './media-engine.js';
import type { MediaEngineOptions, MediaReply, MediaRequest } from './protocol.js';

const port = parentPort;
if (port === null) throw new Error('media/worker.ts must run in a worker thread');

const engine = new MediaEngine((n) => port.postMessage(n), (workerData ?? {}) as MediaEngineOptions);
engine.start();

port.on('message', (req: MediaRequest) => {
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
