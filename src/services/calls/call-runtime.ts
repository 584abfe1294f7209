/**
 * What a live call needs at hand: the services' context, the ports to the outside, the
 * status keeper and a logger. Built once by the call engine.
 */
import type { Call } from '../../domain/call.js';
import type { AudioPlayer, CallBridge, CallNotifier, EndpointDialer, Keypad, TwimlSource, VoiceActivity } from '../../domain/call-ports.js';
import type { ServiceContext } from '../context.js';
import type { LiveRecordings } from '../recordings/live-recordings.js';
import type { CallApplicationSource } from './call-application.js';
import type { CallStatusKeeper } from './call-status.js';
import type { ConferenceAudioScheduler } from './conference-audio-scheduler.js';

export interface CallLogger {
  /** Details only a debugging operator wants (stacks); optional for loggers that have no debug level. */
  debug?(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface CallRuntime {
  ctx: ServiceContext;
  dialer: EndpointDialer;
  twiml: TwimlSource;
  audio: AudioPlayer;
  keypad: Keypad;
  voice: VoiceActivity;
  bridge: CallBridge;
  notifier: CallNotifier;
  status: CallStatusKeeper;
  logger: CallLogger;
  conferenceAudio: ConferenceAudioScheduler;
  /** This node's live recordings (`record` on calls, dials and conferences). */
  recordings: LiveRecordings;
  /** A dialled call rang (Create Participant moves its participant to `ringing`). */
  onRinging?: (call: Call, source: CallApplicationSource) => Promise<void>;
  /** A dialled call was not answered (Create Participant removes its participant). */
  onUnanswered?: (call: Call, source: CallApplicationSource) => Promise<void>;
}
