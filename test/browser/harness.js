/* global window, AudioContext */
/**
 * The page side of test/browser/browser-client.test.ts: the shipped client
 * (/client/conclave-voice.js, imported from the Conclave under test as any page would) driven
 * through `window.harness`, each Device and Call event written to `harness.log`, and a WebAudio
 * analyser on the remote audio of the current call to tell which tones the page hears.
 */
import { Device } from '/client/conclave-voice.js';

/** Chrome's voice processing would take a steady test tone for noise and suppress it. */
const RAW_MICROPHONE = { echoCancellation: false, noiseSuppression: false, autoGainControl: false };

const log = [];
let device = null;
let call = null;
const offered = [];
let analyser = null;

function follow(one) {
  for (const event of ['accept', 'ringing', 'disconnect', 'cancel', 'reject']) one.on(event, () => log.push({ event: `call.${event}`, callSid: one.parameters.CallSid }));
  one.on('error', (error) => log.push({ event: 'call.error', code: error.code, message: error.message }));
}

function untilAccepted(one) {
  if (one.status() === 'open') return Promise.resolve();
  return new Promise((resolve, reject) => {
    one.on('accept', () => resolve());
    one.on('error', (error) => reject(new Error(`${error.message} (${error.code})`)));
    one.on('disconnect', () => reject(new Error('the call ended before it was accepted')));
  });
}

window.harness = {
  log,

  /** The token 'tokenWillExpire' hands to updateToken (the page cannot make one). */
  nextToken: null,

  /** Registers; `{ identity }`, or the refusal's `{ code, message }`. */
  async register(token, options = {}) {
    device = new Device(token, { audioConstraints: RAW_MICROPHONE, ...options });
    device.on('tokenWillExpire', () => {
      log.push({ event: 'tokenWillExpire' });
      if (window.harness.nextToken) device.updateToken(window.harness.nextToken);
    });
    device.on('error', (error) => log.push({ event: 'error', code: error.code, message: error.message }));
    device.on('registered', () => log.push({ event: 'registered', identity: device.identity }));
    device.on('incoming', (one) => {
      log.push({ event: 'incoming', callSid: one.parameters.CallSid, from: one.parameters.From, to: one.parameters.To, params: Object.fromEntries(one.customParameters) });
      follow(one);
      offered.push(one);
    });
    try {
      await device.register();
      return { identity: device.identity, state: device.state };
    } catch (error) {
      return { code: error.code, message: error.message, state: device.state };
    }
  },

  /** Places a call and waits until Conclave accepts it; its parameters. */
  async connect(params) {
    call = await device.connect({ params });
    follow(call);
    await untilAccepted(call);
    return { ...call.parameters };
  },

  /** Answers the oldest call offered. */
  async answer() {
    call = offered.shift();
    call.accept();
    await untilAccepted(call);
    return { ...call.parameters };
  },

  mute(muted) {
    call.mute(muted);
    return call.isMuted();
  },

  sendDigits(digits) {
    call.sendDigits(digits);
  },

  hangup() {
    call.disconnect();
    return call.status();
  },

  status() {
    return call ? call.status() : null;
  },

  /** The level (dBFS, of Chrome's analyser: a -100 floor) of the loudest bin near each of `tones` in the remote audio now, and the loudest frequency. */
  levels(tones) {
    const stream = call?.getRemoteStream();
    if (!stream) return null;
    if (analyser?.stream !== stream) {
      const context = new AudioContext();
      const node = context.createAnalyser();
      node.fftSize = 8192;
      node.smoothingTimeConstant = 0;
      context.createMediaStreamSource(stream).connect(node);
      analyser = { stream, context, node };
    }
    const { context, node } = analyser;
    const bins = new Float32Array(node.frequencyBinCount);
    node.getFloatFrequencyData(bins);
    const binHz = context.sampleRate / node.fftSize;
    const near = (hz) => {
      const at = Math.round(hz / binHz);
      return Math.max(...bins.subarray(Math.max(0, at - 3), at + 4));
    };
    let loudest = 0;
    for (let i = 1; i < bins.length; i++) if (bins[i] > bins[loudest]) loudest = i;
    return { tones: Object.fromEntries(tones.map((hz) => [hz, Math.max(-200, near(hz))])), loudestHz: Math.round(loudest * binHz), state: context.state };
  },
};
window.dispatchEvent(new window.Event('harness-ready'));
