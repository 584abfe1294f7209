/**
 * For the tests of the HTTP edge: a real Conclave with chosen HttpLimits (short timeouts, small
 * caps), and a raw HTTP/1.1 client on `node:net` that can speak from another loopback address
 * (127.0.0.2, …: every 127/8 address is this machine), send half a request, and read whatever
 * comes back — including what a well-behaved client such as fetch would never send.
 */
import net from 'node:net';
import { XMLParser } from 'fast-xml-parser';
import { pino } from 'pino';
import { expect } from 'vitest';
import { createApp, type App } from '../../src/app.js';
import { DEFAULT_HTTP_LIMITS, type HttpLimits } from '../../src/config.js';
import { newAuthToken, newSid } from '../../src/domain/sids.js';
import { openTestStore, type StoreKind } from '../helpers/stores.js';
import { testConfig } from '../helpers/test-app.js';

export interface EdgeApp {
  app: App;
  port: number;
  accountSid: string;
  authToken: string;
  /** `Basic …` for the owner. */
  authorization: string;
  close(): Promise<void>;
}

export async function startEdgeApp(kind: StoreKind, limits: Partial<HttpLimits> = {}): Promise<EdgeApp> {
  const { store, cleanup } = await openTestStore(kind);
  const accountSid = newSid('AC');
  const authToken = newAuthToken();
  const config = testConfig(kind);
  const app = await createApp(
    { ...config, http: { ...config.http, limits: { ...DEFAULT_HTTP_LIMITS, ...limits } } },
    { accountSid, authToken },
    { store, logger: pino({ level: 'silent' }) },
  );
  const baseUrl = await app.listen();
  return {
    app,
    port: Number(new URL(baseUrl).port),
    accountSid,
    authToken,
    authorization: `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}`,
    async close() {
      await app.close();
      await cleanup();
    },
  };
}

/** Limits for suites that send many wrong credentials on purpose and test something else than the throttle. */
export const NO_LOGIN_THROTTLE: Partial<HttpLimits> = { loginFailuresPerSource: 0, loginFailuresPerAccount: 0 };

/** One parsed HTTP response as the client read it. */
export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Splits what a connection received into responses (Content-Length framed, as Conclave frames them). */
export function parseResponses(received: string): RawResponse[] {
  const responses: RawResponse[] = [];
  let rest = received;
  while (rest.startsWith('HTTP/1.1 ')) {
    const headEnd = rest.indexOf('\r\n\r\n');
    if (headEnd === -1) break;
    const [statusLine = '', ...lines] = rest.slice(0, headEnd).split('\r\n');
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const bodyStart = headEnd + 4;
    const bodyBytes = Buffer.from(rest.slice(bodyStart), 'latin1');
    const status = Number(statusLine.split(' ')[1]);
    const length = status < 200 ? 0 : Number(headers['content-length'] ?? bodyBytes.length);
    const body = bodyBytes.subarray(0, length);
    responses.push({ status, headers, body: body.toString('utf8') });
    rest = bodyBytes.subarray(length).toString('latin1');
  }
  return responses;
}

/** A raw connection: write bytes, wait for what comes back, see whether the server closed it. */
export class RawConnection {
  received = '';
  closed = false;
  private readonly socket: net.Socket;
  private readonly waiters: Array<() => void> = [];

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      this.received += chunk;
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  static open(port: number, from = '127.0.0.1'): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host: '127.0.0.1', localAddress: from });
      socket.once('connect', () => resolve(new RawConnection(socket)));
      socket.once('error', reject);
    });
  }

  write(data: string | Buffer): Promise<void> {
    return new Promise((resolve, reject) => this.socket.write(data, (error) => (error ? reject(error) : resolve())));
  }

  /** Resolves once `predicate` holds of what was received (checked on every chunk and at close). */
  until(predicate: (connection: RawConnection) => boolean): Promise<void> {
    return new Promise((resolve) => {
      const check = (): void => {
        if (predicate(this)) resolve();
        else this.waiters.push(check);
      };
      check();
    });
  }

  responses(): RawResponse[] {
    return parseResponses(this.received);
  }

  destroy(): void {
    this.socket.destroy();
  }

  private wake(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }
}

/** Sends `payload` on a new connection and resolves with the responses once the server closes it. */
export async function exchange(port: number, payload: string | Buffer, from?: string): Promise<{ responses: RawResponse[]; raw: string }> {
  const connection = await RawConnection.open(port, from);
  await connection.write(payload);
  await connection.until((c) => c.closed);
  return { responses: connection.responses(), raw: connection.received };
}

/** A Twilio RestException in JSON: exactly code, message, more_info and status. */
export function expectJsonException(response: RawResponse | undefined, status: number, code = 20001): Record<string, unknown> {
  expect(response, 'no response').toBeDefined();
  expect(response!.status, response!.body).toBe(status);
  expect(response!.headers['content-type']).toMatch(/^application\/json/);
  const body = JSON.parse(response!.body) as Record<string, unknown>;
  expect(body).toEqual({ code, message: expect.any(String), more_info: `https://www.twilio.com/docs/errors/${code}`, status });
  return body;
}

/** A Twilio RestException in XML. */
export function expectXmlException(response: RawResponse | undefined, status: number, code = 20001): Record<string, unknown> {
  expect(response, 'no response').toBeDefined();
  expect(response!.status, response!.body).toBe(status);
  expect(response!.headers['content-type']).toMatch(/^application\/xml/);
  const parsed = new XMLParser().parse(response!.body) as { TwilioResponse?: { RestException?: Record<string, unknown> } };
  const exception = parsed.TwilioResponse?.RestException;
  expect(exception).toMatchObject({ Code: code, Message: expect.any(String), MoreInfo: `https://www.twilio.com/docs/errors/${code}`, Status: status });
  return exception!;
}
