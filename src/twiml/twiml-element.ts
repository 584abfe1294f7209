/**
 * The XML layer of the TwiML parser: checks that the text is well-formed XML whose single root
 * is `<Response>` (Twilio error 12100 otherwise, https://www.twilio.com/docs/api/errors/12100),
 * and turns fast-xml-parser's order-preserving output into a small tree of elements that know
 * their own path (`Response/Dial[2]/Conference`) for error messages.
 *
 * Entities: the five XML ones, numeric character references and CDATA sections are decoded;
 * comments, processing instructions and the XML declaration are dropped.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { TwimlError, TwimlErrorCode } from './twiml-error.js';

export interface TwimlElement {
  readonly name: string;
  readonly attributes: ReadonlyMap<string, string>;
  readonly children: readonly TwimlNode[];
  /** e.g. `Response/Dial[2]/Conference`; an index only where a name repeats among siblings. */
  readonly path: string;
}

export interface TwimlText {
  readonly text: string;
}

export type TwimlNode = TwimlElement | TwimlText;

export function isElement(node: TwimlNode): node is TwimlElement {
  return 'name' in node;
}

/** fast-xml-parser's `preserveOrder` node: `{ Tag: children, ':@': attributes }` or `{ '#text': … }`. */
type OrderedNode = Record<string, unknown>;

const ATTRIBUTES_KEY = ':@';
const TEXT_KEY = '#text';

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  attributesGroupName: false,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  processEntities: true,
  htmlEntities: true,
});

/** Parses the document and returns its `<Response>` element, or throws a 12100 TwimlError. */
export function parseResponseElement(xml: string): TwimlElement {
  const text = xml.startsWith('\uFEFF') ? xml.slice(1) : xml;
  if (text.trim() === '') {
    throw new TwimlError(TwimlErrorCode.documentParseFailure, 'TwiML document is empty');
  }
  const verdict = XMLValidator.validate(text, { allowBooleanAttributes: false });
  if (verdict !== true) {
    const { msg, line, col } = verdict.err;
    const where = col === undefined ? `line ${line}` : `line ${line}, column ${col}`;
    throw new TwimlError(TwimlErrorCode.documentParseFailure, `TwiML is not well-formed XML: ${msg} (${where})`);
  }
  let ordered: OrderedNode[];
  try {
    ordered = parser.parse(text) as OrderedNode[];
  } catch (error) {
    // The validator passed, but entity expansion limits and the like are only met while parsing.
    const reason = error instanceof Error ? error.message : String(error);
    throw new TwimlError(TwimlErrorCode.documentParseFailure, `TwiML could not be parsed: ${reason}`);
  }
  const top = toNodes(ordered, '');
  const roots = top.filter(isElement);
  const strayText = top.find((node): node is TwimlText => !isElement(node) && node.text.trim() !== '');
  if (roots.length !== 1 || strayText !== undefined) {
    const found = roots.map((root) => `<${root.name}>`).join(', ');
    throw new TwimlError(
      TwimlErrorCode.documentParseFailure,
      roots.length === 0
        ? 'TwiML document has no root element; it must be <Response>'
        : `TwiML document must have exactly one root element <Response>, found ${found}${strayText ? ' and text' : ''}`,
    );
  }
  const root = roots[0]!;
  if (root.name !== 'Response') {
    throw new TwimlError(
      TwimlErrorCode.documentParseFailure,
      `TwiML root element must be <Response>, found <${root.name}>`,
      { element: root.name },
    );
  }
  return root;
}

function toNodes(ordered: readonly OrderedNode[], parentPath: string): TwimlNode[] {
  const names = ordered.map(nodeName).filter((name): name is string => name !== undefined);
  const totals = new Map<string, number>();
  for (const name of names) totals.set(name, (totals.get(name) ?? 0) + 1);
  const seen = new Map<string, number>();
  const nodes: TwimlNode[] = [];
  for (const node of ordered) {
    const name = nodeName(node);
    if (name === undefined) {
      const text = node[TEXT_KEY];
      if (text !== undefined) nodes.push({ text: String(text) });
      continue;
    }
    const nth = (seen.get(name) ?? 0) + 1;
    seen.set(name, nth);
    const step = (totals.get(name) ?? 1) > 1 ? `${name}[${nth}]` : name;
    const path = parentPath === '' ? step : `${parentPath}/${step}`;
    const attributes = new Map<string, string>();
    const rawAttributes = node[ATTRIBUTES_KEY];
    if (rawAttributes !== undefined && rawAttributes !== null) {
      for (const [key, value] of Object.entries(rawAttributes as Record<string, unknown>)) {
        attributes.set(key, String(value));
      }
    }
    const children = node[name];
    nodes.push({ name, attributes, path, children: Array.isArray(children) ? toNodes(children as OrderedNode[], path) : [] });
  }
  return nodes;
}

/** The tag name of an element node, or undefined for text (and anything else). */
function nodeName(node: OrderedNode): string | undefined {
  return Object.keys(node).find((key) => key !== ATTRIBUTES_KEY && key !== TEXT_KEY && !key.startsWith('?'));
}

/** The element's direct text, concatenated. */
export function directText(element: TwimlElement): string {
  return element.children.map((node) => (isElement(node) ? '' : node.text)).join('');
}

/** The element's text including that of nested elements (SSML inside `<Say>`). */
export function deepText(element: TwimlElement): string {
  return element.children.map((node) => (isElement(node) ? deepText(node) : node.text)).join('');
}

export function childElements(element: TwimlElement): TwimlElement[] {
  return element.children.filter(isElement);
}
