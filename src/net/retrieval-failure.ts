/**
 * How a request to an account's URL that got no usable HTTP answer is told: the same words
 * whatever happened — refused, reset, timed out, a name that does not resolve, an address the
 * outbound policy refuses, a peer that speaks no HTTP, a status other than 2xx — so that what an
 * account can see (the `ErrorCode` its fallback URL receives, an announcement's failure reason,
 * the way a call ends) never tells a closed internal port from an open or a filtered one. What
 * really happened goes to the operator's log only (`failureDetail`).
 */
import { OutboundRefusedError } from './outbound-agent.js';

/** The one message of every such failure (see the file comment). */
export const NO_USABLE_ANSWER =
  'no usable HTTP answer (the connection failed or timed out, the address is not allowed, or the status was not 2xx)';

/** What really happened, for the log: the policy's refusal, a system error code, or the innermost message. */
export function failureDetail(error: unknown): string {
  return outboundRefusal(error)?.message ?? systemErrorCode(error) ?? innermostMessage(error);
}

/** The `code` (ECONNREFUSED, ENOTFOUND…) anywhere in an error's cause chain. */
export function systemErrorCode(error: unknown, depth = 0): string | undefined {
  if (typeof error !== 'object' || error === null || depth > 5) return undefined;
  const { code, cause, errors } = error as { code?: unknown; cause?: unknown; errors?: unknown };
  if (typeof code === 'string' && /^E[A-Z_]+$/.test(code)) return code;
  const nested = systemErrorCode(cause, depth + 1);
  if (nested !== undefined) return nested;
  return Array.isArray(errors) ? systemErrorCode(errors[0], depth + 1) : undefined;
}

/** The policy's refusal anywhere in an error's cause chain. */
function outboundRefusal(error: unknown, depth = 0): OutboundRefusedError | undefined {
  if (error instanceof OutboundRefusedError) return error;
  if (typeof error !== 'object' || error === null || depth > 5) return undefined;
  return outboundRefusal((error as { cause?: unknown }).cause, depth + 1);
}

/** The innermost cause's message: fetch's own is only "fetch failed". */
function innermostMessage(error: unknown): string {
  let inner = error;
  for (let depth = 0; depth < 5 && inner instanceof Error && inner.cause !== undefined; depth++) inner = inner.cause;
  return inner instanceof Error ? inner.message : String(inner);
}
