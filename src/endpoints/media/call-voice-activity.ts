/**
 * The VoiceActivity port on the media plane: the mixer's talk detection of a call's leg reaches
 * the listeners of that call, e.g. `<Record timeout>` counting the caller's silence.
 */
import type { VoiceActivity } from '../../domain/call-ports.js';
import { CallListeners } from './call-listeners.js';
import type { MediaPlane } from './media-plane.js';

export class CallVoiceActivity implements VoiceActivity {
  private readonly listeners = new CallListeners<boolean>();

  constructor(plane: MediaPlane) {
    plane.onTalking((callSid, talking) => this.listeners.tell(callSid, talking));
  }

  listen(callSid: string, onChange: (talking: boolean) => void): () => void {
    return this.listeners.listen(callSid, onChange);
  }
}
