/* global sessionStorage, crypto */
/**
 * The console's own browser phone (issue 16): a Device of the shipped client
 * (/client/conclave-voice.js) registered as `client:console-<random>`, with a token from
 * `POST /console/voice-token`. "Join from this browser" and "Listen" are Twilio's Create
 * Participant with `To=client:<that identity>` (Muted=true to listen), whose call this page
 * then accepts by itself; any other call to the identity (a `<Dial><Client>`, Calls.create) is
 * offered to the user to answer or decline. One call at a time.
 *
 * The page sees it through `onChange(state)`: `{ status, identity, note, incoming, call }` where
 * `call` is `{ conference, listen, status, from }` (status: calling, connecting, connected) and
 * `incoming` `{ from }`; errors go to `onError`, plainly worded for the microphone's.
 */
import { Device } from '/client/conclave-voice.js';

const IDENTITY_KEY = 'conclave.console.identity';

/** The identity of this tab: kept across reloads of the tab, a new one in another tab. */
function tabIdentity() {
  let identity = sessionStorage.getItem(IDENTITY_KEY);
  if (!identity) {
    identity = `console-${crypto.randomUUID().slice(0, 8)}`;
    sessionStorage.setItem(IDENTITY_KEY, identity);
  }
  return identity;
}

export function forgetIdentity() {
  sessionStorage.removeItem(IDENTITY_KEY);
}

/** A TwilioError of the client as a sentence a user can act on. */
function plainly(error) {
  if (error.code === 31401) return new Error('this browser did not allow the microphone; allow it for this site (the icon beside the address) and try again');
  if (error.code === 31402) return new Error(`no microphone could be opened (${error.message})`);
  return new Error(error.code ? `${error.message} (${error.code})` : error.message);
}

export class BrowserPhone {
  /** @param {import('./api.js').Api} api */
  constructor(api, { onChange, onError }) {
    this.api = api;
    this.onChange = onChange;
    this.onError = onError;
    this.identity = tabIdentity();
    this.status = 'off';
    this.note = '';
    this.device = null;
    this.starting = null;
    /** The call shown: { conference, listen, status, call, callSid }. */
    this.current = null;
    /** A call offered to the user: the client's Call. */
    this.incoming = null;
    this.closed = false;
  }

  state() {
    return {
      status: this.status,
      identity: this.identity,
      note: this.note,
      incoming: this.incoming ? { from: this.incoming.parameters.From } : null,
      call: this.current ? { conference: this.current.conference, listen: this.current.listen, status: this.current.status, from: this.current.from ?? null } : null,
    };
  }

  changed() {
    if (!this.closed) this.onChange(this.state());
  }

  /** Registers the Device (once); resolves when it can take calls, rejects with why not. */
  start() {
    this.starting ??= this.register().catch((error) => {
      this.starting = null;
      this.status = 'unavailable';
      this.note = error.status === 404 ? 'this server does not offer them' : error.message;
      this.changed();
      throw error;
    });
    return this.starting;
  }

  async register() {
    this.status = 'starting';
    this.changed();
    const device = new Device(await this.token(), { tokenRefreshMs: 60_000 });
    this.device = device;
    device.on('incoming', (call) => this.offered(call));
    device.on('tokenWillExpire', () => {
      this.token().then(
        (token) => device.updateToken(token),
        (error) => this.onError(error),
      );
    });
    device.on('error', (error) => this.onError(plainly(error)));
    device.on('registered', () => {
      this.status = 'ready';
      this.note = '';
      this.changed();
    });
    device.on('unregistered', () => {
      this.status = 'reconnecting';
      this.changed();
    });
    await device.register();
  }

  async token() {
    const answer = await this.api.voiceToken(this.identity);
    return answer.token;
  }

  /** Joins (or listens to) a live conference from this browser. */
  async join(conference, listen) {
    if (this.current) throw new Error('this browser is in a call already; leave it first');
    await this.start();
    const mine = { conference, listen, status: 'calling', call: null, callSid: null };
    this.current = mine;
    this.changed();
    let participant;
    try {
      participant = await this.api.createParticipant(conference.sid, { From: 'client:console', To: `client:${this.identity}`, Muted: String(listen) });
    } catch (error) {
      if (this.current === mine) this.current = null;
      this.changed();
      throw error;
    }
    mine.callSid = participant.call_sid;
    // Left before the call reached this page: it leaves the conference too.
    if (this.current !== mine && !mine.call) void this.api.removeParticipant(conference.sid, participant.call_sid).catch(() => undefined);
  }

  /** A call to this identity: the one a join placed is taken at once; another is offered to the user. */
  offered(call) {
    const joining = this.current && !this.current.call && (!this.current.callSid || this.current.callSid === call.parameters.CallSid);
    if (joining) {
      this.take(call, { rtcConstraints: this.current.listen ? { audio: false } : undefined });
      return;
    }
    if (this.current || this.incoming) {
      call.reject();
      return;
    }
    this.incoming = call;
    const gone = () => {
      if (this.incoming !== call) return;
      this.incoming = null;
      this.changed();
    };
    call.on('cancel', gone);
    call.on('disconnect', gone);
    this.changed();
  }

  answer() {
    const call = this.incoming;
    if (!call) return;
    this.incoming = null;
    this.current = { conference: null, listen: false, status: 'connecting', call: null, callSid: call.parameters.CallSid, from: call.parameters.From };
    this.take(call, {});
  }

  decline() {
    const call = this.incoming;
    if (!call) return;
    this.incoming = null;
    call.reject();
    this.changed();
  }

  /** Accepts `call` as the one shown, following it to its end. */
  take(call, options) {
    const current = this.current;
    current.call = call;
    current.callSid = call.parameters.CallSid;
    current.status = 'connecting';
    const ended = () => {
      if (this.current !== current) return;
      this.current = null;
      this.changed();
    };
    call.on('accept', () => {
      if (this.current !== current) return;
      current.status = 'connected';
      this.changed();
    });
    call.on('disconnect', ended);
    call.on('cancel', ended);
    call.accept(options);
    this.changed();
  }

  /** Hangs up the call shown (before it arrived: removes the participant the join made). */
  leave() {
    const current = this.current;
    if (!current) return;
    this.current = null;
    if (current.call) current.call.disconnect();
    else if (current.callSid && current.conference) void this.api.removeParticipant(current.conference.sid, current.callSid).catch(() => undefined);
    this.changed();
  }

  close() {
    this.closed = true;
    this.incoming?.reject();
    this.leave();
    this.device?.destroy();
  }
}
