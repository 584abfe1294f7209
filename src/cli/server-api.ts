/**
 * How the CLI reaches a running Conclave: the API address of the configuration `serve` would
 * use (CONCLAVE_HTTP_HOST/PORT or --host/--port; 0.0.0.0 means this machine) and the owner's
 * credentials (CONCLAVE_ACCOUNT_SID/AUTH_TOKEN, else the credentials file beside the
 * database), sent as Basic auth. Errors are one line saying what to do.
 */
import type { Config } from '../config.js';
import { ConfigError } from '../errors.js';
import { resolveOwnerCredentials } from './owner-credentials.js';

/** The server answered, but not 2xx: its status and Twilio message. */
export class ServerRefusal extends ConfigError {
  constructor(
    what: string,
    readonly status: number,
    readonly detail: string,
  ) {
    super(`${what} was refused (${status}): ${detail}`);
  }
}

export interface ServerApi {
  /** `http://host:port`. */
  baseUrl: string;
  accountSid: string;
  /** A request to the owner account's `path` (`/Conferences.json`); resolves with the parsed Twilio JSON of a 2xx. */
  request<T>(method: 'GET' | 'POST', path: string, form?: Record<string, string>): Promise<T>;
}

export function serverApi(config: Config): ServerApi {
  const { accountSid, authToken } = resolveOwnerCredentials(config);
  const host = config.http.host === '0.0.0.0' ? '127.0.0.1' : config.http.host;
  const baseUrl = `http://${host}:${config.http.port}`;
  const authorization = `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}`;
  return {
    baseUrl,
    accountSid,
    async request<T>(method: 'GET' | 'POST', path: string, form?: Record<string, string>): Promise<T> {
      const url = `${baseUrl}/2010-04-01/Accounts/${accountSid}${path}`;
      let response: Response;
      try {
        response = await fetch(url, {
          method,
          headers: { authorization, ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
          ...(form ? { body: new URLSearchParams(form).toString() } : {}),
        });
      } catch (error) {
        const cause = (error as Error & { cause?: Error }).cause?.message ?? (error as Error).message;
        throw new ConfigError(`no Conclave answers at ${baseUrl} (${cause}); start it with "npm start", or give --host and --port`);
      }
      const text = await response.text();
      let body: { message?: string };
      try {
        body = JSON.parse(text) as typeof body;
      } catch {
        throw new ConfigError(`${url} answered ${response.status} with no Twilio JSON; is Conclave the server on that port?`);
      }
      if (response.status === 401) throw new ConfigError(`${baseUrl} refused the owner's credentials (401); give the server's CONCLAVE_ACCOUNT_SID and CONCLAVE_AUTH_TOKEN, or its --database (its credentials file is beside it)`);
      if (!response.ok) throw new ServerRefusal(`${method} ${path}`, response.status, body.message ?? text);
      return body as T;
    },
  };
}
