/**
 * The official `twilio` helper library (twilio-node v6) pointed at a test Conclave, the way a
 * user would point it at a self-hosted server: `client.api.baseUrl = baseUrl`
 * (reference/twilio-api.md §4.1). Also a manual clock for the app, so that tests can say
 * exactly what `date_created` / `date_updated` must be without waiting for time to pass.
 */
import twilio from 'twilio';
import type BaseRequestClient from 'twilio/lib/base/RequestClient.js';
import type ResponseModule from 'twilio/lib/http/response.js';
import type { Clock } from '../../src/domain/ports.js';
import type { TestApp } from './test-app.js';

export type TwilioClient = twilio.Twilio;
export const RestException = twilio.RestException;
export type RestException = twilio.RestException;

export interface ClientCredentials {
  /** An account SID (AC…) or an API key SID (SK…); the owner's account SID by default. */
  username?: string;
  /** The auth token or the key's secret; the owner's auth token by default. */
  password?: string;
  /** The account the client works on (`/Accounts/{accountSid}/…`); `username` by default. */
  accountSid?: string;
  /** Its HTTP client, e.g. a RecordingRequestClient to see which requests it sent. */
  httpClient?: twilio.RequestClient;
}

/** twilio-node's own HTTP client, noting each request's method and full URL before sending it. */
export class RecordingRequestClient extends twilio.RequestClient {
  readonly requests: Array<{ method: string; url: URL }> = [];

  override request<TData>(opts: BaseRequestClient.RequestOptions<TData>): Promise<ResponseModule.default<TData>> {
    // The first page's query comes as `params`; next-page URLs carry theirs in `uri`.
    const url = new URL(opts.uri);
    for (const [name, value] of Object.entries(opts.params ?? {})) {
      for (const one of [value].flat()) if (one !== undefined) url.searchParams.append(name, String(one));
    }
    this.requests.push({ method: opts.method.toUpperCase(), url });
    return super.request(opts);
  }
}

/** A twilio-node client that sends its 2010-04-01 API requests to the test app. */
export function twilioClient(t: TestApp, credentials: ClientCredentials = {}): TwilioClient {
  const options: twilio.ClientOpts = { autoRetry: false };
  if (credentials.accountSid !== undefined) options.accountSid = credentials.accountSid;
  if (credentials.httpClient !== undefined) options.httpClient = credentials.httpClient;
  const client = twilio(credentials.username ?? t.accountSid, credentials.password ?? t.authToken, options);
  client.api.baseUrl = t.baseUrl;
  return client;
}

export interface ManualClock extends Clock {
  set(at: number | Date): void;
  advance(ms: number): void;
}

/**
 * Replaces the app's clock with one that only moves when told. Every service reads the time
 * through the one `ServiceContext` that app.ts builds, so swapping its clock is enough.
 */
export function useManualClock(t: TestApp, start: number | Date): ManualClock {
  let current = +start;
  const clock: ManualClock = {
    now: () => current,
    set: (at) => {
      current = +at;
    },
    advance: (ms) => {
      current += ms;
    },
  };
  t.app.services.clock = clock;
  return clock;
}

/** Runs `work`, which must reject with the library's RestException; returns that exception. */
export async function restException(work: () => Promise<unknown>): Promise<RestException> {
  let outcome: unknown;
  try {
    outcome = await work();
  } catch (error) {
    if (error instanceof RestException) return error;
    throw new Error(`expected a RestException, got ${String(error)}`, { cause: error });
  }
  throw new Error(`expected a RestException, but the call resolved (${typeof outcome === 'object' && outcome !== null ? outcome.constructor.name : String(outcome)})`);
}
