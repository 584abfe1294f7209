/**
 * The browser signalling at `GET /client/v1` (Conclave's own; issue 16's contract): JSON text
 * frames over one WebSocket (RFC 6455), no subprotocol. What a client may send, checked here
 * field by field so the session sees only well-formed messages; what the server sends is
 * written where it is sent (client-session.ts, client-dialer.ts, client-inbound-leg.ts).
 */

export type ClientMessage =
  /** First message, within 10 s: an Access Token. `incoming: false` — never rung (a Device that only places calls). */
  | { type: 'register'; token: string; incoming: boolean }
  | { type: 'updateToken'; token: string }
  /** Places a call: the browser's SDP offer and the call's parameters (`To`, custom ones). */
  | { type: 'connect'; id: string; sdp: string; params: Record<string, string> }
  | { type: 'accept'; callSid: string; sdp: string }
  | { type: 'reject'; callSid: string }
  | { type: 'hangup'; callSid: string }
  | { type: 'digits'; callSid: string; digits: string };

/** Twilio Voice SDK's general error (31000) for a message the server cannot use. */
export const BAD_MESSAGE = 31000;

/** Close codes (RFC 6455 §7.4.2: 4000–4999 are the application's). */
export const CloseCode = {
  /** The token was refused (an `error` with the reason precedes it), or none came in time. */
  unauthorized: 4401,
  /** The server is shutting down (RFC 6455's "going away"). */
  goingAway: 1001,
} as const;

/** Longest frame a client may send: an SDP offer is a few kilobytes. */
export const MAX_MESSAGE_BYTES = 64 * 1024;

function text(value: unknown, max = MAX_MESSAGE_BYTES): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= max;
}

function stringRecord(value: unknown): Record<string, string> | undefined {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const out: Record<string, string> = {};
  for (const [name, v] of Object.entries(value)) {
    if (typeof v === 'string') out[name] = v;
    else if (typeof v === 'number' || typeof v === 'boolean') out[name] = String(v);
    else return undefined;
  }
  return out;
}

/** The message, or a sentence saying what is wrong with it. */
export function parseClientMessage(data: string): ClientMessage | string {
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return 'not JSON';
  }
  if (typeof value !== 'object' || value === null) return 'not a JSON object';
  const m = value as Record<string, unknown>;
  switch (m.type) {
    case 'register':
      if (!text(m.token)) return 'register needs a token';
      return { type: 'register', token: m.token, incoming: m.incoming !== false };
    case 'updateToken':
      return text(m.token) ? { type: 'updateToken', token: m.token } : 'updateToken needs a token';
    case 'connect': {
      const params = stringRecord(m.params);
      if (!text(m.id, 128) || !text(m.sdp) || !params) return 'connect needs an id, an sdp offer and params of strings';
      return { type: 'connect', id: m.id, sdp: m.sdp, params };
    }
    case 'accept':
      return text(m.callSid, 64) && text(m.sdp) ? { type: 'accept', callSid: m.callSid, sdp: m.sdp } : 'accept needs a callSid and an sdp answer';
    case 'reject':
    case 'hangup':
      return text(m.callSid, 64) ? { type: m.type, callSid: m.callSid } : `${m.type} needs a callSid`;
    case 'digits':
      return text(m.callSid, 64) && typeof m.digits === 'string' && /^[0-9*#A-Dw]{1,64}$/.test(m.digits)
        ? { type: 'digits', callSid: m.callSid, digits: m.digits }
        : 'digits needs a callSid and digits (0-9, *, #, A-D, w)';
    default:
      return `unknown message type ${JSON.stringify(m.type)}`;
  }
}
