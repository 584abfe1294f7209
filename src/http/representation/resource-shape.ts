/**
 * How one kind of resource is written in each representation. A shape gives the JSON object in
 * Twilio's key order (snake_case); XML and CSV are derived from it with PascalCase names unless
 * the shape fixes its own XML layout (the seed does, for participants).
 */
import type { XmlChildren } from './xml-writer.js';

export type JsonObject = Record<string, unknown>;

export interface ResourceShape<T> {
  /** XML element of one item, e.g. `Participant`. */
  element: string;
  /** XML element of a list, e.g. `Participants`. */
  listElement: string;
  /** JSON key of a list's items, e.g. `participants`. */
  listKey: string;
  /**
   * The JSON keys in Twilio's order, each with how to compute it; `suffix` is appended to every
   * URI (`.json`, `.csv` or nothing). CSV columns and the derived XML follow the same order.
   */
  fields: ReadonlyArray<readonly [string, (item: T, suffix: string) => unknown]>;
  /** Keys whose values are maps (`subresource_uris`): they have no place in a flat CSV row. */
  nested?: readonly string[];
  /** XML children of the instance; derived from `json` when absent. */
  xml?(item: T): XmlChildren;
  /** XML children of an item inside a list; `xml` when absent. */
  xmlInList?(item: T): XmlChildren;
}

export function jsonOf<T>(shape: ResourceShape<T>, item: T, suffix: string): JsonObject {
  const out: JsonObject = {};
  for (const [key, value] of shape.fields) out[key] = value(item, suffix);
  return out;
}

export function pascalCase(snake: string): string {
  return snake.replace(/(^|_)([a-z0-9])/g, (_m, _sep: string, c: string) => c.toUpperCase());
}

/** The JSON object with PascalCase names, nested maps included, for XML. */
export function pascalObject(json: JsonObject): XmlChildren {
  const out: Record<string, XmlChildren[string]> = {};
  for (const [key, value] of Object.entries(json)) {
    out[pascalCase(key)] =
      value !== null && typeof value === 'object' ? pascalObject(value as JsonObject) : (value as string | number | boolean | null);
  }
  return out;
}

export function xmlOf<T>(shape: ResourceShape<T>, item: T, inList: boolean): XmlChildren {
  if (inList && shape.xmlInList) return shape.xmlInList(item);
  if (shape.xml) return shape.xml(item);
  return pascalObject(jsonOf(shape, item, ''));
}
