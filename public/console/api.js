/* global sessionStorage, fetch, btoa, TextEncoder */
/**
 * The console's client of Conclave's public REST API (Twilio's 2010-04-01 Voice API): JSON
 * representations, form bodies, HTTP Basic auth with the signed-in credentials (AccountSid and
 * AuthToken, or an API key SID and secret) in the Authorization header of each request — never
 * in a URL, never logged. Every button of the console goes through here, so this file is also a
 * small example client.
 */

const STORAGE_KEY = 'conclave.console.credentials';

/** The credentials of this tab, kept in sessionStorage only (gone when the tab closes). */
export function storedCredentials() {
  const text = sessionStorage.getItem(STORAGE_KEY);
  if (!text) return null;
  try {
    const value = JSON.parse(text);
    return value && value.accountSid && value.username && value.password ? value : null;
  } catch {
    return null;
  }
}

export function storeCredentials(credentials) {
  sessionStorage.setItem(STORAGE_KEY, JSON.stringify(credentials));
}

export function forgetCredentials() {
  sessionStorage.removeItem(STORAGE_KEY);
}

/** An API error as one line: Twilio's `message` and `code` when the body has them. */
export class ApiError extends Error {
  constructor(status, body) {
    const detail = body && typeof body === 'object' && body.message ? `${body.message}${body.code ? ` (${body.code})` : ''}` : `HTTP ${status}`;
    super(detail);
    this.status = status;
  }
}

/** UTF-8, then base64, as Basic auth carries it (RFC 7617 §2.1). */
const base64 = (text) => btoa(Array.from(new TextEncoder().encode(text), (byte) => String.fromCharCode(byte)).join(''));

/** Percent-encodes one path segment (a SID, or a conference name). */
const segment = (value) => encodeURIComponent(value);

export class Api {
  /** @param {{accountSid: string, username: string, password: string}} credentials */
  constructor(credentials) {
    this.accountSid = credentials.accountSid;
    this.authorization = `Basic ${base64(`${credentials.username}:${credentials.password}`)}`;
    this.base = `/2010-04-01/Accounts/${segment(credentials.accountSid)}`;
  }

  /** A request of the account's API; `form` (an object) becomes a form body. */
  request(method, path, form, signal) {
    return this.requestUrl(method, `${this.base}${path}`, form, signal);
  }

  /** A request of this server with the signed-in credentials. */
  async requestUrl(method, url, form, signal) {
    const init = { method, headers: { authorization: this.authorization, accept: 'application/json' }, cache: 'no-store', credentials: 'omit' };
    if (signal) init.signal = signal;
    if (form) {
      init.headers['content-type'] = 'application/x-www-form-urlencoded';
      init.body = new URLSearchParams(form).toString();
    }
    const response = await fetch(url, init);
    if (response.status === 204) return null;
    const body = await response.json().catch(() => null);
    if (!response.ok) throw new ApiError(response.status, body);
    return body;
  }

  /** Checks the credentials: fetches the account itself. */
  account() {
    return this.request('GET', '.json');
  }

  conferences(status = 'in-progress') {
    return this.request('GET', `/Conferences.json?Status=${segment(status)}&PageSize=50`).then((page) => page.conferences);
  }

  participants(conferenceSid) {
    return this.request('GET', `/Conferences/${segment(conferenceSid)}/Participants.json?PageSize=100`).then((page) => page.participants);
  }

  /** Twilio's Update Participant: Muted, Hold, Coaching and CallSidToCoach, AnnounceUrl… */
  updateParticipant(conferenceSid, callSid, change) {
    return this.request('POST', `/Conferences/${segment(conferenceSid)}/Participants/${segment(callSid)}.json`, change);
  }

  /** Twilio's Create Participant: Conclave calls `To` (here the console's own `client:` identity) into the conference. */
  createParticipant(conferenceSid, params) {
    return this.request('POST', `/Conferences/${segment(conferenceSid)}/Participants.json`, params);
  }

  /** Conclave's own: an Access Token for the console's browser phone, `{ token, identity, ttl }`. */
  voiceToken(identity) {
    return this.requestUrl('POST', '/console/voice-token', { Identity: identity });
  }

  /** Twilio's Delete Participant: the call leaves the conference (a kick). */
  removeParticipant(conferenceSid, callSid) {
    return this.request('DELETE', `/Conferences/${segment(conferenceSid)}/Participants/${segment(callSid)}.json`);
  }

  /** Twilio's Update Conference: `Status=completed` ends it, `AnnounceUrl` plays to everyone. */
  updateConference(conferenceSid, change) {
    return this.request('POST', `/Conferences/${segment(conferenceSid)}.json`, change);
  }

  calls() {
    return this.request('GET', '/Calls.json?PageSize=50').then((page) => page.calls);
  }

  call(callSid) {
    return this.request('GET', `/Calls/${segment(callSid)}.json`);
  }

  /** Twilio's Create Call with inline TwiML. */
  createCall(params) {
    return this.request('POST', '/Calls.json', params);
  }

  /** Conclave's own per-call SIP trace; null when this Conclave has none (404). */
  sipMessages(callSid) {
    return this.ownResource(`/Calls/${segment(callSid)}/SipMessages.json`, 'messages');
  }

  /** Conclave's own per-call timeline (status moves, webhook requests, verbs); null when this Conclave has none (404). */
  timeline(callSid) {
    return this.ownResource(`/Calls/${segment(callSid)}/Timeline.json`, 'events');
  }

  /** The list `field` of one of Conclave's own resources; null when this Conclave has none (404). */
  ownResource(path, field) {
    return this.request('GET', path).then(
      (body) => body[field],
      (error) => {
        if (error instanceof ApiError && error.status === 404) return null;
        throw error;
      },
    );
  }

  /** Conclave's live event stream (Server-Sent Events), opened with fetch so it can carry auth. */
  openEvents(lastEventId, signal) {
    const headers = { authorization: this.authorization, accept: 'text/event-stream' };
    if (lastEventId) headers['last-event-id'] = lastEventId;
    return fetch(`${this.base}/Events`, { headers, signal, cache: 'no-store', credentials: 'omit' });
  }
}
