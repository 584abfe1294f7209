/* global document, window, location, setInterval, clearInterval, FormData */
/**
 * The Conclave console (issue 15 §2): sign in, watch live conferences and act on their
 * participants, look at calls and their timelines and SIP ladders, and start a simulated call
 * into a conference; join or listen to a conference from this browser, and answer `client:` calls
 * to this tab (browser-phone.js). Everything goes through the public REST API (api.js) and the live event
 * stream (event-stream.js); the stream's conference events light the speaking indicators and
 * trigger a refresh at once, and the REST API is polled as well, more often while the stream is
 * absent or down.
 */
import { Api, forgetCredentials, storeCredentials, storedCredentials } from './api.js';
import { BrowserPhone, forgetIdentity } from './browser-phone.js';
import { EventStream } from './event-stream.js';
import { durationSince, el, formatSeconds, setText, sipLadder, timeOfDay } from './views.js';

const POLL_MS = { live: 5000, polling: 2000 };
const LIVE_CALL_STATUSES = new Set(['queued', 'ringing', 'in-progress']);
/** Events kept per call for its timeline, and calls kept. */
const TIMELINE_EVENTS = 200;
const TIMELINE_CALLS = 500;

const $ = (id) => document.getElementById(id);

/** The state of the signed-in session; null when signed out. */
let session = null;

// ---------------------------------------------------------------------------------------------
// Messages: one polite live region for what changed, one alert for what failed.

function announce(text) {
  const region = $('announcer');
  region.textContent = '';
  // A new node each time, so the same words twice are read twice.
  region.append(document.createTextNode(text));
}

/** What the error box shows; `from` tells a failed refresh (cleared by the next good one) from a failed action. */
let errorFrom = null;

function showError(error, from = 'action') {
  if (!error && from === 'refresh' && errorFrom !== 'refresh') return;
  const box = $('error');
  box.textContent = error ? `Error: ${error.message ?? error}` : '';
  box.hidden = !error;
  errorFrom = error ? from : null;
}

// ---------------------------------------------------------------------------------------------
// Sign in and out.

async function signIn(event) {
  event.preventDefault();
  const form = new FormData(event.target);
  const accountSid = String(form.get('accountSid')).trim();
  const keySid = String(form.get('keySid') ?? '').trim();
  const secret = String(form.get('secret'));
  const credentials = { accountSid, username: keySid || accountSid, password: secret };
  try {
    await new Api(credentials).conferences();
  } catch (error) {
    showError(error.status === 401 ? new Error('the SID or the token (secret) is wrong') : error);
    return;
  }
  storeCredentials(credentials);
  event.target.reset();
  showError(null);
  start(credentials);
  announce('Signed in');
  focusShownSection();
}

function signOut() {
  forgetCredentials();
  forgetIdentity();
  stop();
  announce('Signed out');
}

function start(credentials) {
  const api = new Api(credentials);
  session = {
    api,
    conferences: new Map(),
    speaking: new Set(),
    callNames: new Map(),
    timelines: new Map(),
    streamState: 'connecting',
    refreshQueued: null,
    timers: [],
    stream: null,
  };
  session.stream = new EventStream(api, { onEvent, onState: onStreamState });
  session.phone = new BrowserPhone(api, { onChange: renderPhone, onError: (error) => showError(error) });
  // Registered at once, so calls to this tab's identity ring here; a server without browser calls says so in the status line.
  session.phone.start().catch(() => undefined);
  $('sign-in').hidden = true;
  $('phone').hidden = false;
  $('nav').hidden = false;
  $('sign-out').hidden = false;
  $('stream-state').hidden = false;
  session.timers.push(setInterval(tick, 1000));
  schedulePoll();
  route();
}

function stop() {
  if (session) {
    session.stream.close();
    session.phone.close();
    for (const timer of session.timers) clearInterval(timer);
    clearTimeout(session.pollTimer);
    clearTimeout(session.refreshQueued);
  }
  session = null;
  for (const id of ['conferences', 'calls', 'call', 'try', 'nav', 'sign-out', 'stream-state', 'phone']) $(id).hidden = true;
  $('conference-list').replaceChildren();
  $('call-rows').replaceChildren();
  $('sign-in').hidden = false;
  $('account-sid').focus();
}

// ---------------------------------------------------------------------------------------------
// The live stream, and polling.

function onStreamState(state) {
  if (!session) return;
  session.streamState = state;
  const words = { connecting: 'Live events: connecting…', live: 'Live events: on', unavailable: 'Live events: not offered by this server; refreshing every 2 s', down: 'Live events: reconnecting; refreshing every 2 s' };
  setText($('stream-state'), words[state]);
  if (state === 'live') refreshSoon();
}

function onEvent(name, data, id) {
  if (!session) return;
  if (name === 'reset') {
    // Events were lost (the server's window moved on): what is shown is reloaded through REST.
    announce('Live events resumed after a gap; reloading.');
    refreshSoon();
    return;
  }
  const callSid = data.CallSid;
  if (callSid) remember(callSid, { name, data, id, at: Date.now() });
  if (name === 'conference') {
    const kind = data.StatusCallbackEvent;
    if (kind === 'participant-speech-start' || kind === 'participant-speech-stop') {
      if (kind === 'participant-speech-start') session.speaking.add(callSid);
      else session.speaking.delete(callSid);
      renderSpeaking(callSid);
      return;
    }
    if (kind === 'participant-leave') session.speaking.delete(callSid);
    refreshSoon();
  } else if (name === 'call') {
    if (!$('calls').hidden || callSid === currentCallSid()) refreshSoon();
  }
  if (!$('call').hidden && callSid && callSid === currentCallSid()) renderTimeline(callSid);
}

/** Keeps the stream's events of a call for its timeline (bounded). */
function remember(callSid, entry) {
  let events = session.timelines.get(callSid);
  if (!events) {
    if (session.timelines.size >= TIMELINE_CALLS) session.timelines.delete(session.timelines.keys().next().value);
    events = [];
    session.timelines.set(callSid, events);
  }
  events.push(entry);
  if (events.length > TIMELINE_EVENTS) events.shift();
}

/** A refresh shortly, coalescing the events of one change. */
function refreshSoon() {
  if (!session || session.refreshQueued) return;
  session.refreshQueued = setTimeout(() => {
    if (!session) return;
    session.refreshQueued = null;
    void refresh();
  }, 100);
}

function schedulePoll() {
  const current = session;
  if (!current) return;
  current.pollTimer = setTimeout(async () => {
    if (session !== current) return;
    await refresh();
    schedulePoll();
  }, current.streamState === 'live' ? POLL_MS.live : POLL_MS.polling);
}

/** Refreshes what is shown; one refresh at a time, another one following when asked meanwhile. */
async function refresh() {
  const current = session;
  if (!current) return;
  if (current.refreshing) {
    current.refreshAgain = true;
    return current.refreshing;
  }
  current.refreshing = (async () => {
    do {
      current.refreshAgain = false;
      await refreshShown(current);
    } while (current.refreshAgain && session === current);
  })();
  try {
    await current.refreshing;
  } finally {
    current.refreshing = null;
  }
}

async function refreshShown(current) {
  try {
    if (!$('conferences').hidden) await refreshConferences(current);
    if (!$('calls').hidden) await refreshCalls(current);
    if (!$('call').hidden) await refreshCall(current, currentCallSid());
    if (session === current) showError(null, 'refresh');
  } catch (error) {
    if (error.status === 401 && session === current) {
      signOut();
      showError(new Error('the credentials were refused; sign in again'));
      return;
    }
    if (session === current) showError(error, 'refresh');
  }
}

/** Once a second: durations move. */
function tick() {
  for (const node of document.querySelectorAll('[data-since]')) setText(node, durationSince(node.dataset.since));
}

// ---------------------------------------------------------------------------------------------
// Conferences and participants.

async function refreshConferences(current) {
  // A conference is `init` until its second participant arrives (its first waits, hearing the wait music).
  const conferences = (await Promise.all([current.api.conferences('init'), current.api.conferences('in-progress')])).flat();
  const withParticipants = await Promise.all(conferences.map(async (conference) => ({ conference, participants: await current.api.participants(conference.sid) })));
  await Promise.all(withParticipants.flatMap(({ participants }) => participants.map((participant) => nameOf(current, participant))));
  if (session !== current) return;
  const list = $('conference-list');
  const seen = new Set();
  for (const { conference, participants } of withParticipants) {
    seen.add(conference.sid);
    let view = current.conferences.get(conference.sid);
    if (!view) {
      view = conferenceView(conference);
      current.conferences.set(conference.sid, view);
      list.append(view.root);
      announce(`Conference ${conference.friendly_name} started`);
    }
    setText(view.status, conference.status === 'init' ? 'waiting for a second participant' : 'in progress');
    updateConference(view, participants);
  }
  for (const [sid, view] of current.conferences) {
    if (seen.has(sid)) continue;
    view.root.remove();
    current.conferences.delete(sid);
    announce(`Conference ${view.name} ended`);
  }
  $('no-conferences').hidden = current.conferences.size > 0;
}

/** What a participant is called: its label, else the address its call went to. */
async function nameOf(current, participant) {
  if (participant.label) return participant.label;
  let name = current.callNames.get(participant.call_sid);
  if (!name) {
    const call = await current.api.call(participant.call_sid).catch(() => null);
    name = call ? (call.direction === 'inbound' ? call.from : call.to) : participant.call_sid;
    current.callNames.set(participant.call_sid, name);
  }
  return name;
}

function displayName(participant) {
  return participant.label || session.callNames.get(participant.call_sid) || participant.call_sid;
}

function conferenceView(conference) {
  const titleId = `title-${conference.sid}`;
  const announceId = `announce-${conference.sid}`;
  const view = { sid: conference.sid, name: conference.friendly_name, rows: new Map() };
  view.summary = el('p', { class: 'summary' });
  view.status = el('span', { class: 'status' });
  view.duration = el('span', { class: 'duration', 'data-since': conference.date_created }, durationSince(conference.date_created));
  view.list = el('ul', { class: 'participants', 'aria-label': `Participants of ${conference.friendly_name}` });
  const url = el('input', { id: announceId, type: 'url', required: true, placeholder: 'https://example.com/announcement.xml' });
  view.join = el('button', { type: 'button', 'aria-label': `Join ${conference.friendly_name} from this browser`, onclick: () => void joinFromBrowser(view, false) }, 'Join from this browser');
  view.listen = el('button', { type: 'button', 'aria-label': `Listen to ${conference.friendly_name} from this browser`, onclick: () => void joinFromBrowser(view, true) }, 'Listen');
  const busy = Boolean(session.phone.current);
  view.join.disabled = busy;
  view.listen.disabled = busy;
  view.root = el(
    'section',
    { class: 'conference', 'aria-labelledby': titleId, 'data-conference-sid': conference.sid },
    el('h3', { id: titleId }, conference.friendly_name),
    el('p', { class: 'meta' }, el('span', {}, conference.sid), ' · ', view.status, ' for ', view.duration),
    view.summary,
    el('p', { class: 'browser-join' }, view.join, ' ', view.listen),
    view.list,
    el(
      'form',
      { class: 'announce', onsubmit: (event) => { event.preventDefault(); void act(`Announced to ${view.name}`, () => session.api.updateConference(view.sid, { AnnounceUrl: url.value })); } },
      el('label', { for: announceId }, `Announcement URL for ${conference.friendly_name}`),
      url,
      el('button', { type: 'submit' }, 'Announce'),
    ),
    el('button', { type: 'button', class: 'danger', 'aria-label': `End conference ${conference.friendly_name}`, onclick: () => void act(`Ended ${view.name}`, () => session.api.updateConference(view.sid, { Status: 'completed' })) }, 'End conference'),
  );
  return view;
}

function updateConference(view, participants) {
  const seen = new Set();
  for (const participant of participants) {
    seen.add(participant.call_sid);
    let row = view.rows.get(participant.call_sid);
    if (!row) {
      row = participantRow(view, participant);
      view.rows.set(participant.call_sid, row);
      view.list.append(row.root);
      announce(`${displayName(participant)} joined ${view.name}`);
    }
    updateParticipant(view, row, participant, participants);
  }
  for (const [callSid, row] of view.rows) {
    if (seen.has(callSid)) continue;
    row.root.remove();
    view.rows.delete(callSid);
    announce(`${row.name} left ${view.name}`);
  }
  const count = participants.length;
  setText(view.summary, `${count} participant${count === 1 ? '' : 's'}`);
}

function participantRow(view, participant) {
  const callSid = participant.call_sid;
  const name = displayName(participant);
  const row = { callSid, name, participant };
  row.speaking = el('span', { class: 'speaking', 'data-speaking': 'false' }, el('span', { class: 'dot', 'aria-hidden': 'true' }), el('span', { class: 'speaking-text' }, 'quiet'));
  row.status = el('span', { class: 'status' });
  row.flags = el('span', { class: 'flags' });
  row.duration = el('span', { class: 'duration', 'data-since': participant.date_created }, durationSince(participant.date_created));
  row.mute = el('button', { type: 'button', onclick: () => toggle(view, row, 'muted') });
  row.hold = el('button', { type: 'button', onclick: () => toggle(view, row, 'hold') });
  const coachId = `coach-${callSid}`;
  row.coachTarget = el('select', { id: coachId });
  row.coach = el('button', { type: 'button', onclick: () => coach(view, row) });
  row.kick = el('button', { type: 'button', class: 'danger', 'aria-label': `Kick ${name}`, onclick: () => void act(`Removed ${row.name} from ${view.name}`, () => session.api.removeParticipant(view.sid, callSid)) }, 'Kick');
  row.root = el(
    'li',
    { class: 'participant', 'data-call-sid': callSid },
    el('span', { class: 'name' }, name),
    row.speaking,
    row.status,
    row.flags,
    el('span', {}, 'for ', row.duration),
    el('span', { class: 'actions' }, row.mute, row.hold, el('label', { for: coachId, class: 'visually-hidden' }, `Whom ${name} coaches`), row.coachTarget, row.coach, row.kick),
  );
  return row;
}

function updateParticipant(view, row, participant, everyone) {
  row.participant = participant;
  setText(row.status, participant.status);
  const flags = [participant.muted && 'muted', participant.hold && 'on hold', participant.coaching && `coaching ${nameOfCall(everyone, participant.call_sid_to_coach)}`].filter(Boolean);
  setText(row.flags, flags.join(' · '));
  label(row.mute, participant.muted ? 'Unmute' : 'Mute', row.name);
  row.mute.setAttribute('aria-pressed', String(participant.muted));
  label(row.hold, participant.hold ? 'Unhold' : 'Hold', row.name);
  row.hold.setAttribute('aria-pressed', String(participant.hold));
  label(row.coach, participant.coaching ? 'Stop coaching' : 'Coach', participant.coaching ? `by ${row.name}` : `with ${row.name}`);
  // Whom it may coach: the others; the choice is kept across refreshes.
  const others = everyone.filter((other) => other.call_sid !== participant.call_sid);
  const chosen = row.coachTarget.value;
  const wanted = others.map((other) => `${other.call_sid}=${displayName(other)}`).join('|');
  if (row.coachTarget.dataset.options !== wanted) {
    row.coachTarget.replaceChildren(...others.map((other) => el('option', { value: other.call_sid }, displayName(other))));
    row.coachTarget.dataset.options = wanted;
    if (others.some((other) => other.call_sid === chosen)) row.coachTarget.value = chosen;
  }
  row.coachTarget.disabled = participant.coaching || others.length === 0;
  row.coach.disabled = !participant.coaching && others.length === 0;
  renderSpeaking(row.callSid);
}

/** A button showing a short word, named in full for assistive technology ("Mute sim:alice"). */
function label(button, word, whom) {
  setText(button, word);
  const name = `${word} ${whom}`;
  if (button.getAttribute('aria-label') !== name) button.setAttribute('aria-label', name);
}

function nameOfCall(everyone, callSid) {
  const participant = everyone.find((other) => other.call_sid === callSid);
  return participant ? displayName(participant) : (callSid ?? '');
}

function renderSpeaking(callSid) {
  if (!session) return;
  const talking = session.speaking.has(callSid);
  for (const view of session.conferences.values()) {
    const row = view.rows.get(callSid);
    if (!row) continue;
    row.speaking.dataset.speaking = String(talking);
    setText(row.speaking.lastChild, talking ? 'speaking' : 'quiet');
  }
}

function toggle(view, row, field) {
  const on = !row.participant[field];
  const change = field === 'muted' ? { Muted: String(on) } : { Hold: String(on) };
  const words = { muted: on ? 'Muted' : 'Unmuted', hold: on ? 'Put on hold' : 'Took off hold' }[field];
  void act(`${words} ${row.name}`, () => session.api.updateParticipant(view.sid, row.callSid, change));
}

function coach(view, row) {
  if (row.participant.coaching) {
    void act(`${row.name} stopped coaching`, () => session.api.updateParticipant(view.sid, row.callSid, { Coaching: 'false' }));
    return;
  }
  const target = row.coachTarget.value;
  if (!target) return;
  void act(`${row.name} coaches ${row.coachTarget.selectedOptions[0]?.textContent ?? target}`, () => session.api.updateParticipant(view.sid, row.callSid, { Coaching: 'true', CallSidToCoach: target }));
}

/** Runs one API action: says what was done, or shows why not, then refreshes. */
async function act(done, action) {
  if (!session) return;
  try {
    await action();
    showError(null);
    announce(done);
  } catch (error) {
    showError(error);
  }
  await refresh();
  // A kicked participant's or an ended conference's button is gone: keep the keyboard on the page.
  if (!document.activeElement || document.activeElement === document.body) focusShownSection();
}

/** Moves focus to the heading of the section shown (after signing in, or when a focused control went away). */
function focusShownSection() {
  document.querySelector('main > section:not([hidden]) h2')?.focus();
}

// ---------------------------------------------------------------------------------------------
// This browser's calls: joining or listening to a conference, answering calls to this tab.

async function joinFromBrowser(view, listen) {
  if (!session) return;
  // Cleared before, not after: the call may fail (a refused microphone) before the join's request returns.
  showError(null);
  try {
    await session.phone.join({ sid: view.sid, name: view.name }, listen);
  } catch (error) {
    showError(error);
  }
}

const CALL_WORDS = { calling: 'calling this browser…', connecting: 'connecting…', connected: 'connected' };

function renderPhone(state) {
  if (!session) return;
  const line = {
    off: '',
    starting: `Browser calls: signing in as client:${state.identity}…`,
    ready: `This browser takes calls to client:${state.identity}.`,
    reconnecting: 'Browser calls: the connection dropped; reconnecting…',
    unavailable: `Browser calls are not available: ${state.note}`,
  }[state.status];
  setText($('phone-state'), line);
  $('phone-incoming').hidden = !state.incoming;
  if (state.incoming) setText($('phone-incoming-text'), `Incoming call from ${state.incoming.from}`);
  const call = state.call;
  const box = $('phone-call');
  const wasShown = !box.hidden;
  box.hidden = !call;
  if (call) {
    // Join and Listen are disabled now: the keyboard goes on to the call's own button.
    const from = document.activeElement;
    if (!wasShown && (from === document.body || from?.closest('.browser-join'))) $('phone-leave').focus();
    const what = call.conference ? `${call.listen ? 'Listening to' : 'In'} ${call.conference.name}` : `In a call with ${call.from}`;
    setText($('phone-call-text'), `${what} from this browser: ${CALL_WORDS[call.status] ?? call.status}`);
    box.dataset.status = call.status;
    if (call.status === 'connected' && box.dataset.announced !== 'true') {
      box.dataset.announced = 'true';
      announce(`${what} from this browser`);
    }
  } else {
    box.dataset.announced = 'false';
    if (wasShown) {
      announce('The browser call ended');
      if (document.activeElement === $('phone-leave') || document.activeElement === document.body) focusShownSection();
    }
  }
  for (const view of session.conferences.values()) {
    view.join.disabled = Boolean(call);
    view.listen.disabled = Boolean(call);
  }
}

$('phone-answer').addEventListener('click', () => session?.phone.answer());
$('phone-decline').addEventListener('click', () => session?.phone.decline());
$('phone-leave').addEventListener('click', () => session?.phone.leave());

// ---------------------------------------------------------------------------------------------
// Calls.

async function refreshCalls(current) {
  const calls = await current.api.calls();
  if (session !== current) return;
  const live = calls.filter((call) => LIVE_CALL_STATUSES.has(call.status));
  const ended = calls.filter((call) => !LIVE_CALL_STATUSES.has(call.status));
  $('call-rows').replaceChildren(
    ...[...live, ...ended].map((call) =>
      el(
        'tr',
        { 'data-call-sid': call.sid, class: LIVE_CALL_STATUSES.has(call.status) ? 'live' : '' },
        el('td', {}, el('a', { href: `#call/${call.sid}` }, call.sid)),
        el('td', {}, call.from),
        el('td', {}, call.to),
        el('td', {}, call.status),
        el('td', {}, call.start_time ? timeOfDay(call.start_time) : ''),
        el('td', {}, call.duration ? formatSeconds(Number(call.duration)) : LIVE_CALL_STATUSES.has(call.status) && call.start_time ? el('span', { 'data-since': call.start_time }, durationSince(call.start_time)) : ''),
      ),
    ),
  );
}

function currentCallSid() {
  const match = /^#call\/(CA[0-9a-f]{32})$/.exec(location.hash);
  return match ? match[1] : null;
}

async function refreshCall(current, callSid) {
  if (!callSid) return;
  const [call, messages, timeline] = await Promise.all([
    current.api.call(callSid),
    current.api.sipMessages(callSid).catch(() => null),
    current.api.timeline(callSid).catch(() => null),
  ]);
  if (session !== current || currentCallSid() !== callSid) return;
  session.shownCall = call;
  session.shownTimeline = { callSid, events: timeline ?? [] };
  setText($('call-title'), `Call ${call.sid}`);
  const facts = [
    ['From', call.from],
    ['To', call.to],
    ['Direction', call.direction],
    ['Status', call.status],
    ['Created', call.date_created],
    ['Started', call.start_time ?? ''],
    ['Ended', call.end_time ?? ''],
    ['Duration', call.duration ? `${call.duration} s` : ''],
  ];
  $('call-facts').replaceChildren(...facts.flatMap(([term, value]) => [el('dt', {}, term), el('dd', {}, value ?? '')]));
  renderTimeline(callSid);
  $('sip-ladder').replaceChildren(messages === null ? el('p', {}, 'This server keeps no SIP trace of this call (the node that ran it may have forgotten it, or SIP tracing is not available).') : sipLadder(messages));
}

/**
 * The call's timeline as the server keeps it (Timeline.json: status moves, webhook requests,
 * verbs), merged with the stream's other events of the call seen while the page is open; when
 * the server keeps none (another node ran it, or it was forgotten), the stream's events and the
 * call's own times.
 */
function renderTimeline(callSid) {
  const call = session.shownCall?.sid === callSid ? session.shownCall : null;
  const kept = session.shownTimeline?.callSid === callSid ? session.shownTimeline.events : [];
  const entries = kept.map((event) => ({ at: Date.parse(event.time), ...timelineEntry(event) }));
  if (call && kept.length === 0) {
    // The resource's times are to the second; the stream's events are timed as they arrive.
    entries.push({ at: Date.parse(call.date_created), text: 'created (Calls resource)' });
    if (call.start_time) entries.push({ at: Date.parse(call.start_time), text: 'started (Calls resource)' });
    if (call.end_time) entries.push({ at: Date.parse(call.end_time), text: `ended ${call.status} (Calls resource)` });
  }
  for (const event of session.timelines.get(callSid) ?? []) {
    // The server's timeline has the call's status moves already.
    if (kept.length > 0 && event.name === 'call') continue;
    entries.push({ at: event.at, text: describe(event) });
  }
  entries.sort((a, b) => a.at - b.at);
  $('call-timeline').replaceChildren(...entries.map((entry) => el('li', { class: entry.class }, el('time', {}, timeOfDay(entry.at)), ' ', entry.text)));
}

/** One event of Timeline.json as a line: a webhook coloured by its outcome, with its duration. */
function timelineEntry(event) {
  if (event.kind === 'status') return { text: event.event === event.status ? `call ${event.status}` : `call ${event.status} — ${event.event}` };
  if (event.kind === 'verb') {
    const attributes = Object.entries(event.attributes).map(([name, value]) => ` ${name}="${value}"`).join('');
    return { class: 'verb', text: `<${event.verb}${attributes}>` };
  }
  const ok = event.errorCode === undefined;
  const outcome = event.status === undefined ? `error ${event.errorCode}` : `HTTP ${event.status}${ok ? '' : ` (error ${event.errorCode})`}`;
  return {
    class: ok ? 'webhook webhook-ok' : 'webhook webhook-failed',
    text: `${event.purpose} ${event.method} ${event.url} → ${outcome} in ${event.durationMs} ms${ok ? '' : `: ${event.error}`}`,
  };
}

function describe({ name, data }) {
  if (name === 'call') return `call ${data.CallStatus}`;
  if (name === 'conference') return `${data.StatusCallbackEvent} (${data.FriendlyName ?? data.ConferenceSid ?? ''})`;
  if (name === 'recording') return `recording ${data.RecordingStatus ?? ''}`;
  if (name === 'gather') return `gathered ${data.Digits ?? ''}`;
  return name;
}

// ---------------------------------------------------------------------------------------------
// Try it with no phone.

function escapeXml(text) {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]);
}

/** `sim:NAME;tone=HZ|play=URL;dtmf=KEYS;record` from the form (see the README's sim: section). */
function simAddress(form) {
  let to = `sim:${form.get('name')}`;
  const voice = form.get('voice');
  if (voice === 'tone') to += `;tone=${form.get('tone')}`;
  if (voice === 'play' && form.get('play')) to += `;play=${encodeURIComponent(String(form.get('play')))}`;
  const keys = String(form.get('dtmf') ?? '');
  if (keys) to += `;dtmf=${keys.replace(/#/g, '%23')}`;
  if (form.get('record')) to += ';record';
  return to;
}

async function tryIt(event) {
  event.preventDefault();
  if (!session) return;
  const form = new FormData(event.target);
  const to = simAddress(form);
  const name = String(form.get('conference'));
  const twiml = `<Response><Dial><Conference>${escapeXml(name)}</Conference></Dial></Response>`;
  try {
    const call = await session.api.createCall({ To: to, From: 'sim:console', Twiml: twiml });
    showError(null);
    setText($('try-result'), `Started ${call.sid} to ${to}, joining ${name}.`);
    const link = el('a', { href: `#call/${call.sid}` }, 'Open the call');
    $('try-result').append(' ', link);
  } catch (error) {
    showError(error);
  }
}

// ---------------------------------------------------------------------------------------------
// Sections, by the location's hash (#conferences, #calls, #call/CA…, #try): no credentials
// ever go in it.

function route() {
  if (!session) return;
  const hash = location.hash || '#conferences';
  const shown = hash.startsWith('#call/') ? 'call' : ['#calls', '#try', '#conferences'].includes(hash) ? hash.slice(1) : 'conferences';
  for (const id of ['conferences', 'calls', 'call', 'try']) $(id).hidden = id !== shown;
  for (const link of document.querySelectorAll('#nav a')) {
    if (link.getAttribute('href') === `#${shown}`) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  if (shown === 'call') session.shownCall = null;
  if (document.activeElement?.closest('#nav')) focusShownSection();
  void refresh();
}

$('sign-in-form').addEventListener('submit', (event) => void signIn(event));
$('sign-out').addEventListener('click', signOut);
$('try-form').addEventListener('submit', (event) => void tryIt(event));
window.addEventListener('hashchange', route);
const remembered = storedCredentials();
if (remembered) start(remembered);
