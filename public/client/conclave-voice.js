/* global WebSocket, RTCPeerConnection, MediaStream, Audio, AudioContext, navigator, atob */
/**
 * conclave-voice.js — Conclave's browser client (issue 16): one ES module, no dependencies,
 * served by Conclave at `/client/conclave-voice.js` (and used by its console). Its names are
 * those of Twilio's Voice JavaScript SDK 2.x (`@twilio/voice-sdk`), so an app written for
 * Twilio reads the same here:
 *
 *   import { Device } from 'https://conclave.example.com/client/conclave-voice.js';
 *   const device = new Device(token);   // a Twilio Access Token with a VoiceGrant (twilio's jwt.AccessToken)
 *   device.on('registered', () => …);
 *   device.on('incoming', (call) => call.accept());   // <Dial><Client>alice</Client>, Calls.create To=client:alice
 *   device.on('error', (error, call) => show(`${error.message} (${error.code})`));
 *   device.on('tokenWillExpire', async () => device.updateToken(await fetchToken()));
 *   await device.register();
 *   const call = await device.connect({ params: { To: 'room-1' } });   // runs the grant's outgoingApplicationSid
 *   call.on('accept', …); call.on('disconnect', …);
 *   call.mute(true); call.sendDigits('1234#'); call.disconnect();
 *
 * Device: `new Device(token, { url, tokenRefreshMs, audioConstraints, rtcConfiguration })`,
 *   `register()` (to be rung too), `unregister()`, `updateToken(token)`,
 *   `connect({ params, rtcConstraints })` → Promise<Call>,
 *   `destroy()`; `state`, `identity`, `token`, `calls`, `isBusy`; events 'registering',
 *   'registered', 'unregistered', 'incoming' (call), 'error' (TwilioError, call?),
 *   'tokenWillExpire' (device), 'destroyed'.
 * Call: `accept({ rtcConstraints })`, `reject()`, `ignore()`, `disconnect()`, `mute(bool)`, `isMuted()`,
 *   `sendDigits(digits)` ('w' waits half a second), `status()`, `getLocalStream()`,
 *   `getRemoteStream()`; `parameters` (CallSid, From, To, AccountSid), `customParameters` (a
 *   Map: the `<Parameter>`s of a `<Dial><Client>`, or the params given to connect), `direction`
 *   ('INCOMING' | 'OUTGOING'); events 'accept', 'ringing', 'disconnect', 'cancel', 'reject',
 *   'mute' (muted, call), 'error' (TwilioError). 'accept' comes once the call is answered and its
 *   media is up (ICE and DTLS connected), as in Twilio's SDK.
 * `rtcConstraints` (of accept and connect) are getUserMedia's; `{ audio: false }` is Conclave's
 *   own: no microphone is asked for and the call sends silence (the console's "Listen").
 * Errors carry Twilio's codes where Twilio has one: 20101 invalid token, 20104 expired token,
 *   31005 the signalling connection ended, 31401 microphone permission denied, 31402 no
 *   microphone could be opened, 53405 the media connection (ICE/DTLS) failed, 31000 otherwise.
 *
 * Not Twilio's SDK: no device selection (`device.audio`), no preflight, call quality events or
 * ICE restarts; `unregister()` closes the signalling connection, so calls in progress end (a
 * registered Device whose connection drops reconnects by itself, 1 s to 30 s apart). The
 * signalling is Conclave's own (JSON over the WebSocket `/client/v1`; src/endpoints/client/client-protocol.ts):
 * `register` with the token first, then `connect`/`incoming`/`accept`/`hangup`… carrying
 * complete SDP. Nothing is trickled: Conclave's side is ICE-lite (RFC 8445 §2.5), so the
 * browser, as the controlling agent, sends the checks to the one candidate in Conclave's SDP.
 * The default `url` is the `/client/v1` of the server this module was loaded from; an app that
 * bundles the module passes `url` (ws:// or wss://).
 */

/** How long to wait for the browser's own candidates before sending an SDP anyway (they are not needed by ICE-lite). */
const GATHERING_MS = 1000;
/** Reconnection of the signalling after it dropped: the first wait, doubled up to the last. */
const RECONNECT_MS = { first: 1000, last: 30_000 };
/** How long an answered call's media (ICE, DTLS) may take to come up. */
const MEDIA_MS = 15_000;
/** What `sendDigits` waits for each 'w', as Twilio's does. */
const DIGIT_PAUSE_MS = 500;

/** An error as Twilio's SDK gives it: `code` (Twilio's error code) and a plain `message`. */
export class TwilioError extends Error {
  constructor(code, message, originalError) {
    super(message);
    this.name = 'TwilioError';
    this.code = code;
    if (originalError !== undefined) this.originalError = originalError;
  }
}

/** A minimal event emitter (on/once/off); a listener that throws is logged, not allowed to break the client. */
class Emitter {
  #listeners = new Map();

  on(event, listener) {
    const list = this.#listeners.get(event) ?? [];
    this.#listeners.set(event, [...list, listener]);
    return this;
  }

  addListener(event, listener) {
    return this.on(event, listener);
  }

  once(event, listener) {
    const once = (...args) => {
      this.off(event, once);
      listener(...args);
    };
    once.listener = listener;
    return this.on(event, once);
  }

  off(event, listener) {
    const list = this.#listeners.get(event) ?? [];
    this.#listeners.set(event, list.filter((one) => one !== listener && one.listener !== listener));
    return this;
  }

  removeListener(event, listener) {
    return this.off(event, listener);
  }

  removeAllListeners(event) {
    if (event === undefined) this.#listeners.clear();
    else this.#listeners.delete(event);
    return this;
  }

  listenerCount(event) {
    return (this.#listeners.get(event) ?? []).length;
  }

  emit(event, ...args) {
    const list = this.#listeners.get(event) ?? [];
    for (const listener of list) {
      try {
        listener(...args);
      } catch (error) {
        console.error(`conclave-voice: a '${event}' listener threw`, error);
      }
    }
    return list.length > 0;
  }
}

/** The `/client/v1` of the server this module came from, as ws:// or wss://. */
function defaultUrl() {
  const url = new URL('/client/v1', import.meta.url);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.href;
}

/** The `exp` of a JWT (seconds since the epoch), or null; only to time 'tokenWillExpire' before the server says. */
function tokenExpiry(token) {
  try {
    const payload = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const exp = JSON.parse(atob(payload)).exp;
    return typeof exp === 'number' ? exp * 1000 : null;
  } catch {
    return null;
  }
}

/** getUserMedia's failure as Twilio's SDK reports it. */
function microphoneError(error) {
  if (error && (error.name === 'NotAllowedError' || error.name === 'SecurityError')) {
    return new TwilioError(31401, 'The browser or the user denied access to the microphone', error);
  }
  const why = error && error.message ? `: ${error.message}` : '';
  return new TwilioError(31402, `No microphone could be opened (${error && error.name ? error.name : 'getUserMedia failed'})${why}`, error);
}

/** Resolves once the browser has gathered its candidates, or after GATHERING_MS. */
function gathered(pc) {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      pc.removeEventListener('icegatheringstatechange', check);
      resolve();
    };
    const check = () => {
      if (pc.iceGatheringState === 'complete') done();
    };
    const timer = setTimeout(done, GATHERING_MS);
    pc.addEventListener('icegatheringstatechange', check);
  });
}

/**
 * A track of silence from WebAudio, for a call without a microphone: packets still flow, so the
 * call is not taken for dead media by Conclave's inactivity timeout.
 */
function silence() {
  const context = new AudioContext();
  const destination = context.createMediaStreamDestination();
  context.resume().catch(() => undefined);
  return { stream: destination.stream, release: () => context.close().catch(() => undefined) };
}

/**
 * Our answer to Conclave's offer takes the DTLS server's part (a=setup:passive; RFC 5763 §5
 * lets the answerer of an actpass offer choose). Conclave, the DTLS client, then counts its
 * handshake done on receiving the last flight rather than on sending it, so nothing of its own
 * is left in flight when it may move the leg between its media workers (a call answered into a
 * room elsewhere). With Chrome's own choice (active), a call to client: now and then stayed in
 * dtlsState 'connecting' while Conclave already sent SRTP; answering passive, none did.
 */
function passive(offerSdp, answerSdp) {
  if (!/^a=setup:actpass\r?$/m.test(offerSdp)) return answerSdp;
  return answerSdp.replace(/^a=setup:active(\r?)$/gm, 'a=setup:passive$1');
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// What a Device tells its calls, and they it, without making it public API.
const RECEIVE = Symbol('receive');
const START = Symbol('start');
const END = Symbol('end');

/**
 * One call of a Device, placed (`device.connect`) or received (`device.on('incoming')`): an
 * RTCPeerConnection with the microphone's track and the remote audio played by an <audio>
 * element (Chrome gives WebAudio no sound of a remote track that no media element plays).
 */
export class Call extends Emitter {
  static State = Object.freeze({ Closed: 'closed', Connecting: 'connecting', Open: 'open', Pending: 'pending', Reconnecting: 'reconnecting', Ringing: 'ringing' });
  static CallDirection = Object.freeze({ Incoming: 'INCOMING', Outgoing: 'OUTGOING' });

  #link;
  #status;
  #offer = null;
  #pc = null;
  #localStream = null;
  #remoteStream = null;
  #audio = null;
  /** getUserMedia's constraints for this call, and what frees a track of silence. */
  #constraints = null;
  #release = null;
  #muted = false;
  /** The id this client gave a call it places, until Conclave names it with a CallSid. */
  #id = null;
  /** Answered (by Conclave, or here); 'accept' waits for the media too. */
  #answered = false;
  #mediaTimer = null;

  /** @internal Made by Device. */
  constructor(link, { direction, parameters, customParameters, offer, status }) {
    super();
    this.#link = link;
    this.direction = direction;
    this.parameters = parameters;
    this.customParameters = new Map(Object.entries(customParameters ?? {}));
    this.#offer = offer ?? null;
    this.#status = status;
  }

  status() {
    return this.#status;
  }

  isMuted() {
    return this.#muted;
  }

  getLocalStream() {
    return this.#localStream;
  }

  getRemoteStream() {
    return this.#remoteStream;
  }

  /** Answers an incoming call: opens the microphone, answers Conclave's offer. */
  accept(options = {}) {
    if (this.direction !== Call.CallDirection.Incoming || this.#status !== Call.State.Pending) return;
    this.#status = Call.State.Connecting;
    this.#constraints = options.rtcConstraints ?? null;
    this.#answer().catch((error) => this.#fail(error));
  }

  /** Declines an incoming call: the caller hears it refused (a `<Dial>` to this identity goes on ringing the others). */
  reject() {
    if (this.direction !== Call.CallDirection.Incoming || this.#status !== Call.State.Pending) return;
    this.#link.send({ type: 'reject', callSid: this.parameters.CallSid });
    this.#close();
    this.emit('reject');
  }

  /** Stops offering an incoming call here without telling Conclave: it goes on ringing elsewhere. */
  ignore() {
    if (this.direction !== Call.CallDirection.Incoming || this.#status !== Call.State.Pending) return;
    this.#close();
  }

  /** Hangs up. */
  disconnect() {
    if (this.#status === Call.State.Closed) return;
    if (this.direction === Call.CallDirection.Incoming && this.#status === Call.State.Pending) {
      this.reject();
      return;
    }
    this.#hangUp();
    this.#close();
    this.emit('disconnect', this);
  }

  /** Stops (or resumes) sending the microphone; Conclave's own mute (Participants Muted=true) is separate. */
  mute(shouldMute = true) {
    const muted = Boolean(shouldMute);
    if (muted === this.#muted) return;
    this.#muted = muted;
    for (const track of this.#localStream?.getAudioTracks() ?? []) track.enabled = !muted;
    this.emit('mute', muted, this);
  }

  /** Presses keys: 0-9, *, #, A-D; 'w' waits half a second. Conclave hears them as RFC 4733 events from this call. */
  sendDigits(digits) {
    if (typeof digits !== 'string' || !/^[0-9*#A-Dw]*$/i.test(digits)) throw new TypeError('sendDigits takes 0-9, *, #, A-D and w');
    void (async () => {
      for (const [index, chunk] of digits.split(/w/i).entries()) {
        if (index > 0) await sleep(DIGIT_PAUSE_MS);
        if (this.#status === Call.State.Closed) return;
        if (chunk && this.parameters.CallSid) this.#link.send({ type: 'digits', callSid: this.parameters.CallSid, digits: chunk.toUpperCase() });
      }
    })();
  }

  /** @internal Places the call: microphone, offer, `connect`. */
  async [START](id, params, rtcConstraints) {
    this.#id = id;
    this.#constraints = rtcConstraints ?? null;
    await this.#openMedia();
    this.#attachMicrophone();
    await this.#pc.setLocalDescription(await this.#pc.createOffer());
    await gathered(this.#pc);
    if (this.#status === Call.State.Closed) return;
    this.#link.send({ type: 'connect', id, sdp: this.#pc.localDescription.sdp, params });
  }

  /** @internal A message of the signalling about this call. */
  [RECEIVE](message) {
    switch (message.type) {
      case 'ringing':
      case 'accepted':
        this.#progress(message);
        break;
      case 'cancel':
        if (this.#status === Call.State.Closed) return;
        this.#close();
        this.emit('cancel');
        break;
      case 'hangup':
        if (this.#status === Call.State.Closed) return;
        this.#close();
        this.emit('disconnect', this);
        break;
      case 'error':
        this.#fail(new TwilioError(message.code ?? 31000, message.message ?? 'The call failed'), { tellServer: false });
        break;
    }
  }

  /** @internal The signalling is gone: the call cannot go on. */
  [END](error) {
    if (this.#status === Call.State.Closed) return;
    this.#fail(error, { tellServer: false });
  }

  /** `ringing` or `accepted` of a call placed: the answer's SDP, when it is the first to carry it. */
  #progress(message) {
    if (this.#status === Call.State.Closed) return;
    if (!this.parameters.CallSid && message.callSid) {
      this.parameters.CallSid = message.callSid;
      this.#link.known(this, this.#id);
    }
    const answered = message.sdp && !this.#pc.remoteDescription ? this.#pc.setRemoteDescription({ type: 'answer', sdp: message.sdp }) : Promise.resolve();
    answered.then(
      () => {
        if (this.#status === Call.State.Closed) return;
        if (message.type === 'ringing' && this.#status === Call.State.Connecting) {
          this.#status = Call.State.Ringing;
          this.emit('ringing', Boolean(message.sdp));
        } else if (message.type === 'accepted') {
          this.#answered = true;
          this.#opened();
        }
      },
      (error) => this.#fail(new TwilioError(31000, `Conclave's answer was refused by the browser: ${error.message}`, error)),
    );
  }

  async #answer() {
    await this.#openMedia();
    await this.#pc.setRemoteDescription({ type: 'offer', sdp: this.#offer });
    // After the offer, so the track goes on the transceiver the offer made rather than a new one.
    this.#attachMicrophone();
    const answer = { type: 'answer', sdp: passive(this.#offer, (await this.#pc.createAnswer()).sdp) };
    if (this.#status === Call.State.Closed) return;
    // Sent before it is applied: Conclave learns the browser's ICE credentials, fingerprint and
    // DTLS role before the browser's checks and ClientHello can reach it (candidates are not
    // needed: Conclave is ICE-lite and learns the address from the checks).
    this.#link.send({ type: 'accept', callSid: this.parameters.CallSid, sdp: answer.sdp });
    await this.#pc.setLocalDescription(answer);
    this.#answered = true;
    this.#opened();
  }

  /**
   * 'accept' once the call is answered and its media is up (ICE and DTLS connected), as Twilio's
   * SDK tells it; media that does not come up in MEDIA_MS fails the call (53405).
   */
  #opened() {
    if (this.#status === Call.State.Closed || this.#status === Call.State.Open || !this.#answered) return;
    if (this.#pc.connectionState === 'connected') {
      clearTimeout(this.#mediaTimer);
      this.#status = Call.State.Open;
      this.emit('accept', this);
      return;
    }
    this.#mediaTimer ??= setTimeout(() => this.#fail(new TwilioError(53405, `The media connection did not come up in ${MEDIA_MS / 1000} s (ICE or DTLS)`)), MEDIA_MS);
  }

  async #openMedia() {
    const constraints = { audio: this.#link.options.audioConstraints, ...this.#constraints, video: false };
    let stream;
    if (constraints.audio === false) {
      const quiet = silence();
      stream = quiet.stream;
      this.#release = quiet.release;
    } else {
      try {
        stream = await navigator.mediaDevices.getUserMedia(constraints);
      } catch (error) {
        throw microphoneError(error);
      }
    }
    if (this.#status === Call.State.Closed) {
      for (const track of stream.getTracks()) track.stop();
      this.#release?.();
      throw new TwilioError(31000, 'The call ended while the microphone was opening');
    }
    this.#localStream = stream;
    const pc = new RTCPeerConnection({ ...this.#link.options.rtcConfiguration, bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require' });
    pc.addEventListener('track', (event) => this.#play(event.streams[0] ?? new MediaStream([event.track])));
    pc.addEventListener('connectionstatechange', () => {
      if (pc.connectionState === 'failed') this.#fail(new TwilioError(53405, 'The media connection failed (ICE or DTLS)'));
      else if (pc.connectionState === 'connected') this.#opened();
    });
    this.#pc = pc;
  }

  #attachMicrophone() {
    for (const track of this.#localStream.getAudioTracks()) {
      track.enabled = !this.#muted;
      this.#pc.addTrack(track, this.#localStream);
    }
  }

  #play(stream) {
    if (this.#remoteStream === stream) return;
    this.#remoteStream = stream;
    this.#audio ??= new Audio();
    this.#audio.autoplay = true;
    this.#audio.srcObject = stream;
    this.#audio.play().catch((error) => console.warn('conclave-voice: the browser did not play the call audio yet (autoplay policy)', error));
  }

  /** An error of this call: told to its listeners and the Device's, then the call ends. */
  #fail(error, { tellServer = true } = {}) {
    if (this.#status === Call.State.Closed) return;
    const twilioError = error instanceof TwilioError ? error : new TwilioError(31000, error?.message ?? String(error), error);
    if (tellServer) this.#hangUp();
    this.#close();
    this.emit('error', twilioError);
    this.#link.report(twilioError, this);
    this.emit('disconnect', this);
  }

  /** Tells Conclave to hang up; a call placed that has no CallSid yet is hung up once Conclave names it. */
  #hangUp() {
    if (this.parameters.CallSid) this.#link.send({ type: 'hangup', callSid: this.parameters.CallSid });
    else if (this.#id) this.#link.abandon(this.#id);
  }

  #close() {
    this.#status = Call.State.Closed;
    clearTimeout(this.#mediaTimer);
    for (const track of this.#localStream?.getTracks() ?? []) track.stop();
    this.#release?.();
    this.#release = null;
    this.#pc?.close();
    if (this.#audio) this.#audio.srcObject = null;
    this.#link.forget(this, this.#id);
  }
}

/** A browser's registration with Conclave as a `client:` identity, and the calls it places and receives. */
export class Device extends Emitter {
  static State = Object.freeze({ Unregistered: 'unregistered', Registering: 'registering', Registered: 'registered', Destroyed: 'destroyed' });

  #token;
  #options;
  #state = Device.State.Unregistered;
  #identity = null;
  #socket = null;
  /** The registration under way: { promise, resolve, reject }. */
  #opening = null;
  /** Whether to reconnect when the signalling drops, and to be rung (register() called, not unregister()). */
  #stayRegistered = false;
  /** What the connection's `register` asked: to be rung too (`incoming`), or only to place calls. */
  #ringable = false;
  #reconnectMs = RECONNECT_MS.first;
  #reconnectTimer = null;
  #expiryTimer = null;
  /** Calls by CallSid, and those placed that have no CallSid yet, by the id this client gave them. */
  #calls = new Map();
  #placing = new Map();
  /** Ids of calls hung up here before Conclave named them: hung up there when it does. */
  #abandoned = new Set();
  #nextId = 1;
  #link;

  constructor(token, options = {}) {
    super();
    if (typeof token !== 'string' || token === '') throw new TypeError('new Device(token): the token is a Twilio Access Token (a JWT string)');
    this.#token = token;
    this.#options = {
      url: options.url ?? defaultUrl(),
      tokenRefreshMs: options.tokenRefreshMs ?? 10_000,
      audioConstraints: options.audioConstraints ?? true,
      rtcConfiguration: options.rtcConfiguration ?? {},
    };
    this.#link = {
      options: this.#options,
      send: (message) => this.#send(message),
      known: (call, id) => {
        this.#placing.delete(id);
        this.#calls.set(call.parameters.CallSid, call);
      },
      forget: (call, id) => {
        if (id) this.#placing.delete(id);
        if (this.#calls.get(call.parameters.CallSid) === call) this.#calls.delete(call.parameters.CallSid);
      },
      abandon: (id) => this.#abandoned.add(id),
      report: (error, call) => this.emit('error', error, call),
    };
  }

  get state() {
    return this.#state;
  }

  get identity() {
    return this.#identity;
  }

  get token() {
    return this.#token;
  }

  get calls() {
    return [...this.#calls.values(), ...this.#placing.values()];
  }

  get isBusy() {
    return this.calls.some((call) => call.status() !== Call.State.Pending);
  }

  /** Signs in: resolves once Conclave accepted the token; rejects with its TwilioError (20101, 20104…). */
  register() {
    this.#assertAlive();
    this.#stayRegistered = true;
    // Connected by connect() alone, it was not to be rung: asked again, now to be.
    if (this.#state === Device.State.Registered && !this.#ringable) {
      this.#ringable = true;
      this.#send({ type: 'register', token: this.#token, incoming: true });
    }
    return this.#open();
  }

  /** Signs out: the signalling connection closes, and calls in progress end. */
  async unregister() {
    this.#stayRegistered = false;
    clearTimeout(this.#reconnectTimer);
    this.#socket?.close(1000, 'unregister');
  }

  /** A fresh token (on 'tokenWillExpire'): sent at once when connected, used for the next connection otherwise. */
  updateToken(token) {
    if (typeof token !== 'string' || token === '') throw new TypeError('updateToken(token): the token is a JWT string');
    this.#token = token;
    if (this.#state === Device.State.Registered) this.#send({ type: 'updateToken', token });
  }

  /** Places a call: `params.To` and the rest reach the grant's application as its request parameters; `rtcConstraints` as accept's. */
  async connect(options = {}) {
    this.#assertAlive();
    const params = Object.fromEntries(Object.entries(options.params ?? {}).map(([name, value]) => [name, String(value)]));
    await this.#open();
    const id = `c${this.#nextId++}`;
    const call = new Call(this.#link, {
      direction: Call.CallDirection.Outgoing,
      parameters: { CallSid: null, From: `client:${this.#identity}`, To: params.To ?? '' },
      customParameters: params,
      status: Call.State.Connecting,
    });
    this.#placing.set(id, call);
    try {
      await call[START](id, params, options.rtcConstraints);
    } catch (error) {
      this.#placing.delete(id);
      const twilioError = error instanceof TwilioError ? error : new TwilioError(31000, error.message, error);
      this.emit('error', twilioError, call);
      throw twilioError;
    }
    return call;
  }

  /** Ends every call and the connection for good. */
  destroy() {
    if (this.#state === Device.State.Destroyed) return;
    for (const call of this.calls) call.disconnect();
    this.#stayRegistered = false;
    clearTimeout(this.#reconnectTimer);
    clearTimeout(this.#expiryTimer);
    this.#socket?.close(1000, 'destroy');
    this.#socket = null;
    this.#state = Device.State.Destroyed;
    this.emit('destroyed');
  }

  #assertAlive() {
    if (this.#state === Device.State.Destroyed) throw new TwilioError(31000, 'This Device was destroyed');
  }

  /** The signalling connection, registered; one attempt at a time. */
  #open() {
    if (this.#state === Device.State.Registered) return Promise.resolve();
    if (this.#opening) return this.#opening.promise;
    let resolve;
    let reject;
    const promise = new Promise((res, rej) => {
      resolve = res;
      reject = rej;
    });
    this.#opening = { promise, resolve, reject };
    this.#state = Device.State.Registering;
    this.emit('registering');
    const socket = new WebSocket(this.#options.url);
    this.#socket = socket;
    this.#ringable = this.#stayRegistered;
    socket.addEventListener('open', () => socket.send(JSON.stringify({ type: 'register', token: this.#token, incoming: this.#ringable })));
    socket.addEventListener('message', (event) => this.#receive(event.data));
    socket.addEventListener('close', (event) => this.#closed(socket, event));
    return promise;
  }

  #send(message) {
    if (this.#socket?.readyState === WebSocket.OPEN) this.#socket.send(JSON.stringify(message));
  }

  #receive(data) {
    let message;
    try {
      message = JSON.parse(data);
    } catch {
      return;
    }
    if (message.type === 'registered') return this.#registered(message);
    if (message.type === 'incoming') return this.#incoming(message);
    const call = (message.callSid && this.#calls.get(message.callSid)) || (message.id && this.#placing.get(message.id));
    if (call) return call[RECEIVE](message);
    if (message.id && this.#abandoned.has(message.id)) {
      this.#abandoned.delete(message.id);
      if (message.callSid && message.type !== 'hangup') this.#send({ type: 'hangup', callSid: message.callSid });
      return;
    }
    if (message.type === 'error') {
      const error = new TwilioError(message.code ?? 31000, message.message ?? 'Conclave refused the request');
      if (this.#opening) {
        // A refused token: Conclave closes the connection next (4401).
        this.#state = Device.State.Unregistered;
        this.#opening.reject(error);
        this.#opening = null;
      }
      this.emit('error', error);
    }
  }

  #registered(message) {
    this.#identity = message.identity;
    this.#reconnectMs = RECONNECT_MS.first;
    this.#scheduleExpiry(Date.parse(message.expiresAt) || tokenExpiry(this.#token));
    if (this.#state === Device.State.Registered) return; // an updateToken answered
    this.#state = Device.State.Registered;
    this.#opening?.resolve();
    this.#opening = null;
    this.emit('registered');
  }

  #incoming(message) {
    // A Device only placing calls (never registered) is not rung: Conclave was told so.
    if (!this.#stayRegistered) return;
    const call = new Call(this.#link, {
      direction: Call.CallDirection.Incoming,
      parameters: { CallSid: message.callSid, From: message.from, To: message.to, AccountSid: message.accountSid },
      customParameters: message.params,
      offer: message.sdp,
      status: Call.State.Pending,
    });
    this.#calls.set(message.callSid, call);
    this.emit('incoming', call);
  }

  #scheduleExpiry(expiresAt) {
    clearTimeout(this.#expiryTimer);
    if (!expiresAt) return;
    const wait = expiresAt - Date.now() - this.#options.tokenRefreshMs;
    this.#expiryTimer = setTimeout(() => this.emit('tokenWillExpire', this), Math.max(0, wait));
  }

  #closed(socket, event) {
    if (socket !== this.#socket) return;
    this.#socket = null;
    const wasRegistered = this.#state === Device.State.Registered;
    if (this.#state !== Device.State.Destroyed) this.#state = Device.State.Unregistered;
    // Conclave closes with 4401 after an `error` about the token: that error was told already.
    const refused = event.code === 4401;
    const gone = new TwilioError(31005, `The connection to Conclave ended (${event.code}${event.reason ? ` ${event.reason}` : ''})`);
    if (this.#opening) {
      this.#opening.reject(gone);
      this.#opening = null;
      if (!refused) this.emit('error', gone);
    } else if (wasRegistered && this.#stayRegistered) {
      this.emit('error', gone);
    }
    for (const call of this.calls) call[END](gone);
    if (wasRegistered) this.emit('unregistered');
    if (this.#stayRegistered && !refused) {
      this.#reconnectTimer = setTimeout(() => {
        if (this.#stayRegistered && !this.#socket) this.#open().catch(() => undefined);
      }, this.#reconnectMs);
      this.#reconnectMs = Math.min(this.#reconnectMs * 2, RECONNECT_MS.last);
    }
  }
}
