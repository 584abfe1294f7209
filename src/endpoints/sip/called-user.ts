/**
 * Which user an inbound INVITE calls: the user part of its Request-URI (`sip:+15551234567@…`) —
 * unless that is the username we registered with the carrier trunk (sip-trunk-registration.ts).
 * A carrier delivering to a registered Contact puts the Contact in the Request-URI (RFC 3261
 * §10.2.1, §16.5: the target is the registered URI, `sip:<username>@<our address>`) and the
 * number the caller dialled in To (`sip:+1555…@…` or `tel:+1555…`), so then the To user is the number.
 */
import { toHeader, type SipRequest } from '../../sip/message.js';

/** The user to route by, undefined when the Request-URI has none; `trunkUsername` only when registering. */
export function calledUser(request: SipRequest, trunkUsername?: string): string | undefined {
  const user = userOf(request.uri);
  if (trunkUsername === undefined || user === undefined || percentDecoded(user) !== trunkUsername) return user;
  const to = toHeader(request)?.uri ?? '';
  return userOf(to) ?? /^tel:([^;?]+)/i.exec(to)?.[1] ?? user;
}

function userOf(uri: string): string | undefined {
  return /^sips?:([^@;?]+)@/i.exec(uri)?.[1];
}

/** RFC 3261 §19.1.2: `%XX` escapes in a user part stand for their octets (ASCII here). */
function percentDecoded(user: string): string {
  return user.replace(/%([0-9a-f]{2})/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}
