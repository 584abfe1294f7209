/**
 * Reads and checks the attributes of one TwiML element, applying Twilio's defaults. Values that
 * cannot be right (a non-number timeout, an unknown beep mode) throw a 12200 TwimlError naming
 * the attribute and element; attributes Conclave does not know are ignored with a warning, as
 * Twilio ignores unknown attributes (https://www.twilio.com/docs/api/errors/12200).
 *
 * Booleans are `true`/`false` in any case; methods `GET`/`POST` in any case. URLs may be
 * relative: with the document's URL they are resolved (https://www.twilio.com/docs/voice/twiml
 * "relative URLs"), without it they are kept as written.
 */
import { TwimlError, TwimlErrorCode } from './twiml-error.js';
import type { TwimlElement } from './twiml-element.js';
import type { HttpMethod } from './verbs.js';

/** State shared by every reader of one document. */
export interface ParseContext {
  readonly warnings: string[];
  /** The URL the document was fetched from, to resolve relative URLs against. */
  readonly documentUrl: URL | undefined;
}

export class AttributeReader {
  private readonly used = new Set<string>();

  constructor(
    readonly element: TwimlElement,
    private readonly context: ParseContext,
  ) {}

  /** A 12200 error about this element, or about one of its attributes. */
  error(message: string, attribute?: string): TwimlError {
    return new TwimlError(TwimlErrorCode.schemaValidation, message, {
      path: this.element.path,
      element: this.element.name,
      ...(attribute === undefined ? {} : { attribute }),
    });
  }

  warn(message: string): void {
    this.context.warnings.push(`${message} (at ${this.element.path})`);
  }

  /** The trimmed value, or undefined when absent or empty. */
  string(name: string): string | undefined {
    const value = this.raw(name)?.trim();
    return value === '' ? undefined : value;
  }

  boolean(name: string, fallback: boolean): boolean {
    const value = this.raw(name)?.trim();
    if (value === undefined) return fallback;
    const lower = value.toLowerCase();
    if (lower === 'true') return true;
    if (lower === 'false') return false;
    throw this.invalid(name, value, 'must be true or false');
  }

  /** A whole number in [min, max]. */
  integer(name: string, fallback: number, min: number, max: number = Number.MAX_SAFE_INTEGER): number {
    const value = this.raw(name)?.trim();
    if (value === undefined) return fallback;
    const number = /^[+-]?\d+$/.test(value) ? Number(value) : Number.NaN;
    if (!Number.isSafeInteger(number)) throw this.invalid(name, value, 'must be a whole number');
    if (number < min || number > max) {
      const range = max === Number.MAX_SAFE_INTEGER ? `at least ${min}` : `between ${min} and ${max}`;
      throw this.invalid(name, value, `must be ${range}`);
    }
    return number;
  }

  /** One of `values`, matched without regard to case and returned in its canonical spelling. */
  oneOf<T extends string>(name: string, values: readonly T[]): T | undefined;
  oneOf<T extends string>(name: string, values: readonly T[], fallback: T): T;
  oneOf<T extends string>(name: string, values: readonly T[], fallback?: T): T | undefined {
    const value = this.raw(name)?.trim();
    if (value === undefined) return fallback;
    const match = values.find((candidate) => candidate.toLowerCase() === value.toLowerCase());
    if (match === undefined) throw this.invalid(name, value, `must be one of ${values.join(', ')}`);
    return match;
  }

  /** `GET` or `POST`, default POST. */
  method(name: string): HttpMethod {
    return this.oneOf(name, ['GET', 'POST'] as const, 'POST');
  }

  /** A space-separated subset of `values`, in document order without duplicates. */
  list<T extends string>(name: string, values: readonly T[], fallback: readonly T[]): readonly T[] {
    const value = this.raw(name)?.trim();
    if (value === undefined) return fallback;
    const picked: T[] = [];
    for (const word of value.split(/[\s,]+/).filter((part) => part !== '')) {
      const match = values.find((candidate) => candidate.toLowerCase() === word.toLowerCase());
      if (match === undefined) {
        throw this.invalid(name, value, `contains "${word}"; allowed values are ${values.join(' ')}`);
      }
      if (!picked.includes(match)) picked.push(match);
    }
    return picked;
  }

  /** An http(s) URL, resolved against the document URL when there is one; empty = absent. */
  url(name: string): string | undefined {
    const value = this.string(name);
    return value === undefined ? undefined : this.checkUrl(value, name);
  }

  /** Checks (and resolves) a URL found in this element, its text when `attribute` is absent. */
  checkUrl(value: string, attribute?: string): string {
    const subject =
      attribute === undefined
        ? `<${this.element.name}> URL "${value}"`
        : `<${this.element.name}> attribute ${attribute}="${value}"`;
    let url: URL;
    try {
      url = new URL(value, this.context.documentUrl);
    } catch {
      if (this.context.documentUrl === undefined && !/^[a-z][a-z0-9+.-]*:/i.test(value)) return value; // relative
      throw this.error(`${subject} is not a valid URL`, attribute);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw this.error(`${subject} is invalid: it must be an http or https URL`, attribute);
    }
    return this.context.documentUrl === undefined ? value : url.toString();
  }

  /**
   * One warning naming an attribute Conclave reads and checks but does not act on yet, when the
   * document gives it and `inEffect` (its value would ask for something: `hangupOnStar="false"`
   * asks for nothing). A document is never silently run as if the attribute were not there.
   */
  notActedOn(name: string, inEffect = true, why = 'Conclave does not act on it yet'): void {
    const value = this.element.attributes.get(name);
    if (value === undefined || !inEffect) return;
    this.warn(`<${this.element.name}> attribute ${name}="${value}" was ignored: ${why}`);
  }

  /** Warns about every attribute no reader asked for; call once all attributes are read. */
  finish(): void {
    for (const name of this.element.attributes.keys()) {
      if (this.used.has(name)) continue;
      const near = [...this.used].find((known) => known.toLowerCase() === name.toLowerCase());
      const hint = near === undefined ? '' : ` (did you mean "${near}"?)`;
      this.warn(`<${this.element.name}> attribute "${name}" is not supported by Conclave and was ignored${hint}`);
    }
  }

  private raw(name: string): string | undefined {
    this.used.add(name);
    return this.element.attributes.get(name);
  }

  private invalid(name: string, value: string, rule: string): TwimlError {
    return this.error(`<${this.element.name}> attribute ${name}="${value}" is invalid: it ${rule}`, name);
  }
}
