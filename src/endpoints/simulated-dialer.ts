/**
 * Simulated endpoints (`sim:`) behave as their address says — answer at once or after ringing,
 * busy, no answer, failure, hang up after a while — and, once answered, have a real media leg
 * in the mixer: a voice (a tone or a WAV), an ear that can record, and a keypad (`dtmf=`, pressed
 * `dtmfAt=` seconds after the answer). Anyone can try the whole API, and hear it, with no phone.
 */
import type { DialOptions, DialResult, InboundLeg, RemoteLeg } from '../domain/call-ports.js';
import type { SimEndpoint } from '../domain/endpoint.js';
import type { MediaPlane, SimVoice } from './media/media-plane.js';

export interface DialerLogger {
  warn(obj: object, msg: string): void;
}

/** Resolves after `ms`, or at once with `false` when `signal` aborts first. */
function wait(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    const timer = setTimeout(() => finish(true), ms);
    const onAbort = (): void => finish(false);
    function finish(elapsed: boolean): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      resolve(elapsed);
    }
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

const TONE_AMPLITUDE = 8000;

/** A simulated endpoint's answered leg, which can start pressing its `dtmf=` keys. */
interface SimulatedLeg extends RemoteLeg {
  pressKeys(): void;
}

export class SimulatedDialer {
  constructor(
    private readonly logger: DialerLogger,
    private readonly plane: MediaPlane,
    private readonly loadVoice: (url: string) => Promise<Int16Array>,
  ) {}

  async dial(endpoint: SimEndpoint, options: DialOptions): Promise<DialResult> {
    const { signal } = options;
    if (endpoint.outcome === 'fail') return { outcome: 'failed' };
    if (endpoint.outcome === 'busy') return { outcome: 'busy' };
    options.onRinging();
    const timeout = options.timeoutSeconds * 1000;
    if (endpoint.outcome === 'no-answer' || endpoint.ringSeconds * 1000 >= timeout) {
      return (await wait(timeout, signal)) ? { outcome: 'no-answer' } : { outcome: 'canceled' };
    }
    if (endpoint.ringSeconds > 0 && !(await wait(endpoint.ringSeconds * 1000, signal))) return { outcome: 'canceled' };
    if (signal.aborted) return { outcome: 'canceled' };
    try {
      const answered = await this.answeredLeg(options.callSid, endpoint);
      answered.pressKeys();
      return { outcome: 'answered', leg: answered };
    } catch {
      // Its media leg could not be opened (logged by the plane): the call fails, as a phone
      // whose line broke would.
      return { outcome: 'failed' };
    }
  }

  /** A simulated phone calling in: it waits for Conclave to answer and never gives up first. */
  inbound(from: SimEndpoint): InboundLeg {
    // Early media opens the leg the answer then keeps (the simulated phone hears ringback);
    // its keys are pressed from the answer on.
    let leg: Promise<SimulatedLeg> | undefined;
    return {
      ring: () => {},
      earlyMedia: async (callSid) => {
        leg ??= this.answeredLeg(callSid, from);
        await leg;
      },
      answer: async (callSid) => {
        const answered = await (leg ??= this.answeredLeg(callSid, from));
        answered.pressKeys();
        return answered;
      },
      refuse: () => {
        void leg?.then((l) => l.hangup());
        return undefined;
      },
      abandoned: new Promise<void>(() => {}),
    };
  }

  /**
   * The answered endpoint: its media leg speaks and listens; it hangs up after `hangup=N`;
   * `pressKeys()` (once it is answered) starts the clock of its `dtmf=` keys.
   */
  private async answeredLeg(callSid: string, endpoint: SimEndpoint): Promise<SimulatedLeg> {
    const local = new AbortController();
    const voice = await this.voice(endpoint);
    const leg = await this.plane.openSimLeg(callSid, voice, endpoint.record);
    void leg.ended.then(() => local.abort());
    const after = endpoint.hangupAfterSeconds;
    const timedOut = after === null ? new Promise<void>(() => {}) : wait(after * 1000, local.signal).then(() => undefined);
    let pressing = false;
    return {
      pressKeys: () => {
        const keys = endpoint.keys;
        if (keys === null || pressing) return;
        pressing = true;
        void wait(keys.afterSeconds * 1000, local.signal).then((due) => (due ? leg.pressKeys(keys.digits, local.signal) : false));
      },
      // When Conclave hangs up first, this promise never settles: the far end did not hang up.
      hungUp: Promise.race([timedOut, leg.ended]).then(() => (local.signal.aborted ? new Promise<void>(() => {}) : undefined)),
      hangup: () => {
        local.abort();
        void leg.close();
      },
    };
  }

  private async voice(endpoint: SimEndpoint): Promise<SimVoice> {
    const v = endpoint.voice;
    if (v === null) return {};
    if ('toneHz' in v) return { tone: { frequencyHz: v.toneHz, amplitude: TONE_AMPLITUDE } };
    try {
      return { pcm: await this.loadVoice(v.playUrl) };
    } catch (error) {
      this.logger.warn({ err: error, url: v.playUrl }, `sim:${endpoint.name} is silent: its play= file could not be loaded`);
      return {};
    }
  }
}
