/**
 * Writes a SIP message to bytes (RFC 3261 §7): start line, one header per line, CRLF, body.
 *
 * Content-Length is always written from the actual body length (§20.14: mandatory on streams,
 * and on datagrams a stale value would truncate or drop the message), replacing any value the
 * caller set. Header values are assumed to be single-line; CR/LF in them is folded into a
 * space so a value taken from elsewhere can never inject a header.
 */
import type { SipMessage } from './message.js';

export function serializeSipMessage(message: SipMessage): Buffer {
  const startLine =
    message.kind === 'request'
      ? `${message.method} ${message.uri} SIP/2.0`
      : `SIP/2.0 ${message.status} ${message.reason}`;
  const lines = [startLine];
  for (const { name, value } of message.headers) {
    if (name === 'Content-Length') continue; // names are canonical: `l` arrives as Content-Length
    lines.push(`${name}: ${value.replace(/[\r\n]+/g, ' ')}`);
  }
  lines.push(`Content-Length: ${message.body.length}`);
  const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'utf8');
  return message.body.length === 0 ? head : Buffer.concat([head, message.body]);
}
