/**
 * How a failure in a call's application reads in the log: one warn line a person reads, never
 * a stack — a webhook that failed says its method and URL, the HTTP status or the system error
 * behind it, the Twilio error code (`webhook failed: POST http://…/voice: ECONNREFUSED, error
 * 11200, after 2 ms`); anything else its message and code. The error itself, with its stack and
 * causes, goes to debug.
 */
import type { CallLogger } from './call-runtime.js';

/** What a webhook failure carries (webhooks/webhook-error.ts), read without importing it. */
interface WebhookFailureLike {
  name: string;
  message: string;
  method: string;
  url: string;
  kind: string;
  code: number;
  status?: number;
  causeCode?: string;
  detail?: string;
}

function isWebhookFailure(error: unknown): error is WebhookFailureLike {
  return error instanceof Error && error.name === 'WebhookError' && typeof (error as Partial<WebhookFailureLike>).url === 'string';
}

/** A failure as one line's fields and words, without its stack. */
export function failureSummary(error: unknown): { fields: Record<string, unknown>; text: string } {
  if (isWebhookFailure(error)) {
    const { method, url, kind, code, status, causeCode, detail } = error;
    const what = status !== undefined ? `HTTP ${status}` : (causeCode ?? kind);
    return {
      fields: { method, url, kind, code, ...(status !== undefined ? { status } : {}), ...(causeCode ? { causeCode } : {}), ...(detail ? { detail } : {}) },
      text: `${method} ${url}: ${what}${detail && !detail.includes(what) ? ` (${detail})` : ''}, error ${code}`,
    };
  }
  const code = (error as { code?: unknown } | undefined)?.code;
  return { fields: code !== undefined ? { code } : {}, text: error instanceof Error ? error.message : String(error) };
}

/** `message: what failed` at warn with `about`; the error in full at debug. */
export function logFailure(logger: CallLogger, about: Record<string, unknown>, message: string, error: unknown): void {
  const { fields, text } = failureSummary(error);
  logger.warn({ ...about, ...fields }, `${message}: ${text}`);
  logger.debug?.({ ...about, err: error }, `${message}: the error in full`);
}

/** The call's TwiML could not be had or run (the call ends): `webhook failed: …` or `application error: …`, with the time it took. */
export function logApplicationError(logger: CallLogger, callSid: string, error: unknown, ms: number): void {
  const elapsed = Math.round(ms);
  if (isWebhookFailure(error)) {
    const { fields, text } = failureSummary(error);
    logger.warn({ callSid, ...fields, ms: elapsed }, `webhook failed: ${text}, after ${elapsed} ms`);
    logger.debug?.({ callSid, err: error }, 'the webhook failure in full');
  } else {
    logFailure(logger, { callSid }, 'application error', error);
  }
}
