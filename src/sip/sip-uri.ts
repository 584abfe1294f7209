/**
 * SIP and SIPS URIs (RFC 3261 §19.1): `sip:user:password@host:port;uri-parameters?headers`.
 *
 * Parsing is deliberately forgiving about characters inside the user part (telephone numbers
 * with `;` parameters, escaped characters) and strict about the host, because a bad host is
 * something we could not route to anyway.
 */
import { parseHostPort, parseParams, serializeParams, type SipParams } from './header-params.js';

export interface SipUri {
  scheme: 'sip' | 'sips';
  user?: string;
  password?: string;
  host: string;
  port?: number;
  /** URI parameters (`;transport=tcp`, `;lr`), names lower-cased (§19.1.4). */
  params: SipParams;
  /** `?subject=x&priority=urgent` headers, kept escaped as written. */
  headers: Map<string, string>;
}

/** Parses a sip:/sips: URI; `undefined` when the text is not one (other schemes included). */
export function parseSipUri(text: string): SipUri | undefined {
  const m = /^(sips?):(.*)$/is.exec(text.trim());
  if (!m) return undefined;
  const scheme = (m[1] as string).toLowerCase() as 'sip' | 'sips';
  let rest = m[2] as string;

  let headersText = '';
  const q = rest.indexOf('?');
  if (q >= 0) {
    headersText = rest.slice(q + 1);
    rest = rest.slice(0, q);
  }

  // The user part may itself contain ';' (RFC 3261 §19.1.1 user parameters of tel numbers),
  // so the userinfo ends at the last '@', and only then do URI parameters start.
  let user: string | undefined;
  let password: string | undefined;
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    const userinfo = rest.slice(0, at);
    rest = rest.slice(at + 1);
    const colon = userinfo.indexOf(':');
    user = colon < 0 ? userinfo : userinfo.slice(0, colon);
    if (colon >= 0) password = userinfo.slice(colon + 1);
    if (user.length === 0 || /[\s<>"]/.test(userinfo)) return undefined;
  }

  const semi = rest.indexOf(';');
  const hostPortText = semi < 0 ? rest : rest.slice(0, semi);
  const hostPort = parseHostPort(hostPortText);
  if (!hostPort) return undefined;
  const params = semi < 0 ? new Map() : parseParams(rest.slice(semi));
  if (!params) return undefined;

  const headers = new Map<string, string>();
  if (headersText.length > 0) {
    for (const pair of headersText.split('&')) {
      const eq = pair.indexOf('=');
      if (eq <= 0) return undefined;
      headers.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
  }

  const uri: SipUri = { scheme, host: hostPort.host, params, headers };
  if (user !== undefined) uri.user = user;
  if (password !== undefined) uri.password = password;
  if (hostPort.port !== undefined) uri.port = hostPort.port;
  return uri;
}

export function serializeSipUri(uri: SipUri): string {
  let out = `${uri.scheme}:`;
  if (uri.user !== undefined) {
    out += uri.user;
    if (uri.password !== undefined) out += `:${uri.password}`;
    out += '@';
  }
  out += uri.host;
  if (uri.port !== undefined) out += `:${uri.port}`;
  out += serializeParams(uri.params);
  if (uri.headers.size > 0) {
    out += '?' + [...uri.headers].map(([k, v]) => `${k}=${v}`).join('&');
  }
  return out;
}
