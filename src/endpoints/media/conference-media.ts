/**
 * Keeps the media plane in step with the conference rules: on the bus's events, a participant's
 * leg enters its conference's room, gets the flags `mediaStateOf` derives (heard or not, hold
 * music, wait music, coaching), and leaves the room; the beep plays on enter and exit as the
 * participant's `beep` asks (Twilio `<Conference beep>`: true, false, onEnter, onExit).
 *
 * A phone that holds the call itself (re-INVITE with sendonly/inactive, RFC 3264 §8.4) is held
 * in the media plane meanwhile: not heard — it would otherwise play its own music into the
 * room — and not hung up for the RTP it stops sending; the participant's `Hold`, which is what
 * the API set, does not change.
 *
 * With several nodes every node hears every conference's events and acts on the calls it runs;
 * the rooms of one conference on different nodes are linked by trunks (conference-trunks.ts),
 * and only the conference's home node plays the beeps, which reach the others through them.
 */
import type { ConferenceEvent } from '../../domain/events.js';
import { isParticipantEvent } from '../../domain/events.js';
import { mediaStateOf } from '../../domain/media-state.js';
import type { Conference, Participant } from '../../domain/model.js';
import type { LegFlagsPatch } from '../../media/protocol.js';
import type { ConferenceTrunks } from './conference-trunks.js';
import type { MediaPlane } from './media-plane.js';

export function flagsOf(conference: Conference, participant: Participant, phoneHold: boolean): LegFlagsPatch {
  const state = mediaStateOf(conference, participant);
  return {
    muted: !state.heard || phoneHold,
    // The media plane's hold: not heard, and its silence is no RTP timeout (a held phone may send nothing).
    hold: state.hears === 'hold-music' || phoneHold,
    waiting: state.hears === 'wait-music',
    canHear: state.hears !== 'nothing',
    coachOf: state.heardOnlyBy,
  };
}

export class ConferenceMedia {
  /** The participants whose legs are in each conference's room, as last told. */
  private readonly members = new Map<string, Map<string, Participant>>();
  private readonly conferences = new Map<string, Conference>();
  private readonly phoneHolds = new Set<string>();
  /** Events heard per conference: a re-read that heard of a later one meanwhile is stale. */
  private readonly heard = new Map<string, number>();

  constructor(
    private readonly plane: MediaPlane,
    private readonly trunks?: ConferenceTrunks,
  ) {}

  /** A bus listener. */
  onEvent(event: ConferenceEvent): void {
    const { conference } = event;
    this.heard.set(conference.sid, (this.heard.get(conference.sid) ?? 0) + 1);
    this.trunks?.seen(conference);
    if (event.type === 'announcement') return;
    if (event.type === 'end') this.trunks?.ended(conference.sid);
    if (event.type === 'start' || event.type === 'end') {
      this.conferences.set(conference.sid, conference);
      for (const participant of this.members.get(conference.sid)?.values() ?? []) this.apply(conference, participant);
      if (event.type === 'end') {
        this.members.delete(conference.sid);
        this.conferences.delete(conference.sid);
        this.heard.delete(conference.sid);
      }
      return;
    }
    if (!isParticipantEvent(event)) return;
    const { participant } = event;
    if (event.type === 'speech-start' || event.type === 'speech-stop') return;
    if (event.type === 'leave') {
      if (event.leaveReason === 'add-failed') return; // never in the room: nothing to take out, no beep
      this.members.get(conference.sid)?.delete(participant.callSid);
      this.phoneHolds.delete(participant.callSid);
      this.trunks?.left(conference.sid, participant.callSid);
      // Queued after its way in, so a leg still entering is taken out again.
      const leg = this.plane.leg(participant.callSid);
      if (leg) this.quietly(leg.leave(), participant.callSid, 'leave the room');
      if (participant.beep === 'true' || participant.beep === 'onExit') this.beep(conference, 'beep-exit');
      return;
    }
    const known = this.conferences.get(conference.sid);
    // Events of one conference may carry a copy taken before a later start: keep the newest.
    const current = known && known.dateUpdated > conference.dateUpdated ? known : conference;
    this.conferences.set(conference.sid, current);
    let members = this.members.get(conference.sid);
    if (!members) this.members.set(conference.sid, (members = new Map()));
    const entering = !members.has(participant.callSid);
    if (participant.status !== 'connected') return;
    members.set(participant.callSid, participant);
    const leg = this.plane.leg(participant.callSid);
    if (!leg) return;
    this.quietly(leg.enter(this.plane.room(conference.sid), this.flags(current, participant)), participant.callSid, 'enter the room');
    if (entering) this.trunks?.entered(current, participant.callSid);
    if (entering && event.type === 'join' && (participant.beep === 'true' || participant.beep === 'onEnter')) this.beep(conference, 'beep');
  }

  /**
   * The conference as the store has it now, after some of its events could not be heard (the
   * listening connection dropped, an event too large to carry): every participant's flags are
   * applied again. The caller reads them when no event of the conference arrived between the
   * read and this call (`eventsHeard`), or a newer change would be undone. Returns the participants this node knew that are no longer there, whose
   * `leave` (and the conference's `end`, if it ended) the caller tells on this node's bus, so
   * that the media and the calls waiting for them both learn it.
   */
  reconcile(conference: Conference, participants: readonly Participant[]): Participant[] {
    const present = new Set(participants.map((p) => p.callSid));
    const vanished = [...(this.members.get(conference.sid)?.values() ?? [])].filter((p) => !present.has(p.callSid));
    if (conference.status !== 'completed') {
      for (const participant of participants) this.onEvent({ type: 'modify', at: Date.now(), conference, participant });
    }
    return vanished;
  }

  /** How many events of the conference this node has heard (taken before a re-read, compared after). */
  eventsHeard(conferenceSid: string): number {
    return this.heard.get(conferenceSid) ?? 0;
  }

  /** Conferences with participants connected, and those participants, as this node was told (the metrics). */
  census(): { conferences: number; participants: number } {
    let conferences = 0;
    let participants = 0;
    for (const members of this.members.values()) {
      if (members.size === 0) continue;
      conferences++;
      participants += members.size;
    }
    return { conferences, participants };
  }

  /** The conferences this node has calls in (to reconcile after the listener reconnected). */
  known(): Conference[] {
    return [...this.members.keys()].flatMap((sid) => this.conferences.get(sid) ?? []);
  }

  /** The phone put the call on hold, or took it off (a re-INVITE). */
  phoneHold(callSid: string, held: boolean): void {
    if (held) this.phoneHolds.add(callSid);
    else this.phoneHolds.delete(callSid);
    for (const [conferenceSid, members] of this.members) {
      const participant = members.get(callSid);
      const conference = this.conferences.get(conferenceSid);
      if (participant && conference) this.apply(conference, participant);
    }
  }

  private flags(conference: Conference, participant: Participant): LegFlagsPatch {
    return flagsOf(conference, participant, this.phoneHolds.has(participant.callSid));
  }

  private apply(conference: Conference, participant: Participant): void {
    // Queued after the leg's way into the room, if it is still on its way.
    const leg = this.plane.leg(participant.callSid);
    if (!leg) return;
    this.quietly(leg.setFlags(this.flags(conference, participant)), participant.callSid, 'set its flags');
  }

  private beep(conference: Conference, sound: 'beep' | 'beep-exit'): void {
    // The home's room plays it; the other nodes' rooms hear it through their trunks.
    if (this.trunks && !this.trunks.isHome(conference)) return;
    const roomId = conference.sid;
    this.plane
      .findRoom(roomId)
      ?.play(sound)
      .catch((error: unknown) => this.plane.unlessGone(error, roomId, 'play the beep'));
  }

  /** A leg that is gone (the call ended meanwhile) has nothing left to change; anything else is logged. */
  private quietly(done: Promise<unknown>, callSid: string, what: string): void {
    done.catch((error: unknown) => this.plane.unlessGone(error, callSid, what));
  }
}
