/**
 * How a call's application error reads in the log: one warn line a person reads, never a
 * stack — a webhook that failed says its method and URL, the HTTP status or the system error
 * behind it, the Twilio error code and how long it took (`webhook failed: POST
 * http://…/voice: ECONNREFUSED (connection refused), error 11200, after 2 ms`); anything else
 * its message and code. The error itself, with its stack and causes, goes to debug.
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

export function logApplicationError(logger: CallLogger, callSid: string, error: unknown, ms: number): void {
  const elapsed = Math.round(ms);
  if (isWebhookFailure(error)) {
    const { method, url, kind, code, status, causeCode, detail } = error;
    const what = status !== undefined ? `HTTP ${status}` : (causeCode ?? kind);
    logger.warn(
      { callSid, method, url, kind, code, ...(status !== undefined ? { status } : {}), ...(causeCode ? { causeCode } : {}), ...(detail ? { detail } : {}), ms: elapsed },
      `webhook failed: ${method} ${url}: ${what}${detail && detail !== what ? ` (${detail})` : ''}, error ${code}, after ${elapsed} ms`,
    );
  } else {
    const code = (error as { code?: unknown }).code;
    logger.warn({ callSid, ...(code !== undefined ? { code } : {}) }, `application error: ${error instanceof Error ? error.message : String(error)}`);
  }
  logger.debug?.({ callSid, err: error }, 'the application error in full');
}
