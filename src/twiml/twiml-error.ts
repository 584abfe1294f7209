/**
 * The one error the TwiML parser throws. A call whose TwiML cannot be run fails as an
 * application error carrying this code and message, as Twilio does: 12100 "Document parse
 * failure" when the text is not well-formed XML with a `<Response>` root, 12200 "Schema
 * validation warning" when it is XML but a verb, noun or attribute is wrong or not supported.
 * https://www.twilio.com/docs/api/errors/12100 and https://www.twilio.com/docs/api/errors/12200
 */

export const TwimlErrorCode = {
  documentParseFailure: 12100,
  schemaValidation: 12200,
} as const;

export type TwimlErrorCode = (typeof TwimlErrorCode)[keyof typeof TwimlErrorCode];

export interface TwimlErrorDetail {
  /** Where in the document, e.g. `Response/Dial[2]/Conference`; absent for document-level errors. */
  path?: string;
  /** The element at fault, e.g. `Conference`. */
  element?: string;
  /** The attribute at fault, e.g. `beep`. */
  attribute?: string;
}

export class TwimlError extends Error {
  readonly path: string | undefined;
  readonly element: string | undefined;
  readonly attribute: string | undefined;

  constructor(
    readonly code: TwimlErrorCode,
    message: string,
    detail: TwimlErrorDetail = {},
  ) {
    super(detail.path === undefined ? message : `${message} (at ${detail.path})`);
    this.name = 'TwimlError';
    this.path = detail.path;
    this.element = detail.element;
    this.attribute = detail.attribute;
  }
}
