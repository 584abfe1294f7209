/**
 * Which of this node's calls go on with TwiML once they are out of their conference — a
 * `<Dial><Conference>` followed by more verbs or an `action` — and which end there (a Create
 * Participant call, or a Dial that is the document's last word). The conference rules ask it
 * when a participant leaves, to tell Twilio's `ParticipantCallStatus` (`in-progress` or
 * `completed`). The call's session says so when it enters the conference and forgets it when
 * it leaves; a call it does not know (one `conclave join` put in) ends with its conference.
 */
import type { GoesOn } from '../domain/conference-rules.js';

export class AfterConference {
  private readonly continuing = new Set<string>();

  /** The call is entering a conference; `goesOn`: it has TwiML to run after it. */
  enter(callSid: string, goesOn: boolean): void {
    if (goesOn) this.continuing.add(callSid);
    else this.continuing.delete(callSid);
  }

  /** The call is out of its conference. */
  exit(callSid: string): void {
    this.continuing.delete(callSid);
  }

  readonly goesOn: GoesOn = (callSid) => this.continuing.has(callSid);
}
