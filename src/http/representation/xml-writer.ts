/**
 * Writes Twilio's legacy XML. Written by hand because the seed fixes the bytes: no XML
 * declaration, one element per line and no indentation, attributes in the legacy order of the
 * list envelope, empty lists as a self-closing element. A general XML builder would need as
 * much configuration as this file has code, and could change its layout between versions.
 * Values are escaped for XML 1.0 (so `&` in a page URI is written `&amp;`, as real Twilio did).
 */

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };
const NEEDS_ESCAPE = /[&<>"']/g;
// Characters XML 1.0 cannot carry at all (§2.2); dropped rather than producing a broken document.
// eslint-disable-next-line no-control-regex
const NOT_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g;

export function escapeXml(value: string): string {
  return value.replace(NOT_XML, '').replace(NEEDS_ESCAPE, (c) => ESCAPES[c] ?? c);
}

export type XmlValue = string | number | boolean | null | undefined | XmlChildren;
export interface XmlChildren {
  readonly [element: string]: XmlValue;
}

/** `<Name>value</Name>`, `<Name/>` for null, or nested children one per line. */
export function element(name: string, value: XmlValue): string {
  if (value === null || value === undefined) return `<${name}/>`;
  if (typeof value === 'object') {
    const inner = Object.entries(value).map(([child, v]) => element(child, v));
    return inner.length === 0 ? `<${name}/>` : `<${name}>\n${inner.join('\n')}\n</${name}>`;
  }
  return `<${name}>${escapeXml(String(value))}</${name}>`;
}

export function attributes(attrs: ReadonlyArray<readonly [string, string | number]>): string {
  return attrs.map(([name, value]) => ` ${name}="${escapeXml(String(value))}"`).join('');
}

export function twilioResponse(inner: string): string {
  return `<TwilioResponse>\n${inner}\n</TwilioResponse>`;
}
