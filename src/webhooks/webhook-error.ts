/**
 * Why a webhook request failed, with the Twilio error code the failure is reported as (and that
 * is sent as `ErrorCode` to a fallback URL): https://www.twilio.com/docs/api/errors —
 * 11100 invalid URL, 11200 HTTP retrieval failure, 11750 response body too large,
 * 12100 document parse failure (the body is not TwiML), 12300 invalid Content-Type.
 *
 * Every failure that got no usable HTTP answer — refused, reset, timed out, a host name that
 * does not resolve, a connection the outbound policy refused, a peer that speaks no HTTP, a
 * non-2xx status — is 11200 with one and the same message. Twilio has finer codes (11205
 * connection failure, 11210 bad host name), but what a fallback URL receives, and what an
 * announcement's failure says, is seen by whoever set the URL: with distinct codes or messages
 * the fallback would tell an account which internal ports are closed, open or filtered. The
 * detail is kept for the operator's log (`detail`, `causeCode`, `cause`), never shown.
 */

export type WebhookErrorKind =
  /** Not an absolute http(s) URL. */
  | 'bad-url'
  /** No complete answer within the timeout. */
  | 'timeout'
  /** Could not connect or the connection broke: refused, reset, DNS, TLS, not HTTP, or not allowed by the outbound policy. See `detail`. */
  | 'connection'
  /** The receiver answered with a status outside 200–299. See `status`. */
  | 'http-status'
  /** The response body exceeded the size cap. */
  | 'too-large'
  /** A TwiML fetch got a body that is not TwiML, or a Content-Type TwiML cannot have. */
  | 'not-twiml'
  /** The caller aborted the request (shutdown). */
  | 'aborted';

export const WebhookErrorCode = {
  invalidUrl: 11100,
  retrievalFailure: 11200,
  responseTooLarge: 11750,
  documentParseFailure: 12100,
  invalidContentType: 12300,
} as const;

export interface WebhookErrorDetail {
  /** Twilio error code; defaults from the kind. */
  code?: number;
  /** HTTP status, for `http-status` (and a `not-twiml` answer). */
  status?: number;
  /** The system error code behind a `connection` failure, e.g. `ECONNREFUSED`, `ENOTFOUND`. */
  causeCode?: string;
  /** What really happened, for the operator's log only (the message says the same for every transport failure). */
  detail?: string;
  cause?: unknown;
}

export class WebhookError extends Error {
  /** Twilio error code for the failure, e.g. 11200. */
  readonly code: number;
  readonly status: number | undefined;
  readonly causeCode: string | undefined;
  /** For the operator's log: what really happened (refused, which policy rule, timed out…). */
  readonly detail: string | undefined;
  /** For a failed fallback: why the primary URL failed first. */
  primaryFailure: WebhookError | undefined;

  constructor(
    readonly kind: WebhookErrorKind,
    readonly method: string,
    readonly url: string,
    message: string,
    detail: WebhookErrorDetail = {},
  ) {
    super(`${method} ${url}: ${message}`, detail.cause === undefined ? undefined : { cause: detail.cause });
    this.name = 'WebhookError';
    this.code = detail.code ?? defaultCode(kind);
    this.status = detail.status;
    this.causeCode = detail.causeCode;
    this.detail = detail.detail;
    this.primaryFailure = undefined;
  }
}

function defaultCode(kind: WebhookErrorKind): number {
  switch (kind) {
    case 'bad-url':
      return WebhookErrorCode.invalidUrl;
    case 'too-large':
      return WebhookErrorCode.responseTooLarge;
    case 'not-twiml':
      return WebhookErrorCode.documentParseFailure;
    case 'http-status':
    case 'connection':
    case 'timeout':
    case 'aborted':
      return WebhookErrorCode.retrievalFailure;
  }
}
