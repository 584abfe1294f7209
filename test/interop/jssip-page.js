/* global window, JsSIP */
/**
 * The page side of test/interop/jssip-browser.test.ts: JsSIP (bundled by the test into
 * jssip.js, `window.JsSIP`) driven through `window.jssipHarness` — a UA registering over
 * WebSocket with digest credentials, and a call placed with the fake microphone — each UA and
 * session event written to `jssipHarness.log`.
 */

/** Chrome's voice processing would take a steady test tone for noise and suppress it. */
const RAW_MICROPHONE = { echoCancellation: false, noiseSuppression: false, autoGainControl: false };

const log = [];
let ua = null;
let session = null;

function register({ wsUrl, uri, password }) {
  return new Promise((resolve) => {
    ua = new JsSIP.UA({ sockets: [new JsSIP.WebSocketInterface(wsUrl)], uri, password, register: true, session_timers: false, register_expires: 600 });
    ua.on('registered', (e) => {
      log.push({ event: 'registered', status: e.response.status_code });
      resolve({ state: 'registered', status: e.response.status_code });
    });
    ua.on('registrationFailed', (e) => {
      log.push({ event: 'registrationFailed', cause: e.cause });
      resolve({ state: 'failed', cause: e.cause, status: e.response ? e.response.status_code : null });
    });
    ua.on('newRTCSession', (e) => {
      if (e.originator !== 'remote') return;
      log.push({ event: 'incoming', from: e.request.from.uri.toString() });
      session = e.session;
      follow(session);
    });
    ua.start();
  });
}

function follow(one) {
  for (const name of ['progress', 'accepted', 'confirmed', 'ended', 'failed']) {
    one.on(name, (e) => log.push({ event: `session.${name}`, cause: e && e.cause ? e.cause : null }));
  }
}

function call(target) {
  return new Promise((resolve) => {
    session = ua.call(target, {
      mediaConstraints: { audio: RAW_MICROPHONE, video: false },
      pcConfig: { iceServers: [] },
      eventHandlers: {
        // A closed network: no server to wait for, the host candidates are all there is.
        icecandidate: (e) => e.ready(),
        confirmed: () => resolve({ state: 'confirmed' }),
        failed: (e) => resolve({ state: 'failed', cause: e.cause }),
      },
    });
    follow(session);
  });
}

function answer() {
  return new Promise((resolve) => {
    session.on('confirmed', () => resolve({ state: 'confirmed' }));
    session.on('failed', (e) => resolve({ state: 'failed', cause: e.cause }));
    session.answer({ mediaConstraints: { audio: RAW_MICROPHONE, video: false }, pcConfig: { iceServers: [] } });
  });
}

/** Holds (true) or resumes (false) with a re-INVITE on the WebSocket; resolves once it is answered 200. */
function hold(on) {
  return new Promise((resolve) => {
    const done = () => resolve({ held: session.isOnHold().local });
    const ok = on ? session.hold({}, done) : session.unhold({}, done);
    if (!ok) resolve({ refused: true });
  });
}

function hangup() {
  if (session && !session.isEnded()) session.terminate();
  return session ? session.isEnded() : null;
}

function stop() {
  if (!ua) return Promise.resolve();
  return new Promise((resolve) => {
    ua.on('disconnected', () => resolve());
    ua.stop();
  });
}

window.jssipHarness = { log, register, call, answer, hold, hangup, stop };
