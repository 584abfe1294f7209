/**
 * Requests refused before any route runs, answered as every route error is (error-handler.ts):
 * Twilio's RestException in the representation the request asked for. Left alone, Node's HTTP
 * parser errors (a malformed Content-Length, Content-Length beside Transfer-Encoding, a bad chunk
 * size, headers over 16 KB, a request not received in time…) get fastify's bare
 * `{"error":"Bad Request","message":"Client Error"}`, an unmet `Expect` gets Node's empty 417, and
 * an HTTP/1.1 request without Host Node's empty 400.
 *
 * Parser errors are written on the raw socket, which is then closed: after a framing error
 * nothing more on that connection can be trusted (RFC 9112 §6.3, §11.2 on request smuggling).
 */
import { STATUS_CODES, maxHeaderSize, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { ApiError, TwilioCode } from '../errors.js';
import { formatOf } from './request-context.js';
import { splitFormat, type Format } from './representation/format.js';
import { renderError, type RestException } from './representation/render.js';

type ParserError = Error & { code?: string; reason?: string; rawPacket?: Buffer };

/** The RestException for an error Node's HTTP server raised on a connection. */
export function clientErrorException(error: ParserError, requestTimeoutMs: number): RestException {
  const exception = (status: number, message: string): RestException => ({ status, code: TwilioCode.invalidParameter, message });
  switch (error.code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return exception(408, `Request timeout: the request did not arrive in full within ${requestTimeoutMs / 1000} seconds`);
    case 'HPE_HEADER_OVERFLOW':
      return exception(431, `Request header fields too large: the request line and headers may hold at most ${maxHeaderSize} bytes`);
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return exception(413, 'Chunk extensions too large');
    default: {
      const reason = (error.reason ?? error.message).replace(/^Parse Error:\s*/, '');
      return exception(400, `Malformed HTTP request: ${reason}`);
    }
  }
}

/**
 * The representation a refused request asked for: that of the request being answered on the
 * connection, or else the suffix of the target in the raw request line; XML (Twilio's default)
 * when neither can be read.
 */
function formatOfRefused(socket: Socket, error: ParserError): Format {
  const inFlight = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
  if (inFlight?.req) return formatOf(inFlight.req);
  // The path of the request line (`METHOD /path?query HTTP/1.1`), even when the line is cut short or malformed.
  const path = /^\S+ ([^\s?]+)/.exec(error.rawPacket?.subarray(0, 65_536).toString('latin1') ?? '')?.[1];
  return path ? splitFormat(path).format : 'xml';
}

function rawResponse(exception: RestException, format: Format): string {
  const { contentType, body } = renderError(exception, format);
  return (
    `HTTP/1.1 ${exception.status} ${STATUS_CODES[exception.status] ?? 'Error'}\r\n` +
    `Content-Type: ${contentType}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`
  );
}

/** fastify's `clientErrorHandler`: a Twilio-shaped answer when one can still be written, then the connection is closed. */
export function answerClientError(requestTimeoutMs: number) {
  return function (this: FastifyInstance, connectionError: Error, socket: Socket): void {
    const error = connectionError as ParserError;
    if (error.code === 'ECONNRESET' || socket.destroyed) return;
    this.log.debug({ err: error }, 'refused a malformed or late request');
    const inFlight = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
    // A response already under way cannot be followed by another on the same bytes.
    if (socket.writable && !inFlight?.headersSent) {
      socket.write(rawResponse(clientErrorException(error, requestTimeoutMs), formatOfRefused(socket, error)));
    }
    socket.destroy(error);
  };
}

/**
 * Answers an `Expect` other than `100-continue` (RFC 9110 §10.1.1: 417) and refuses an HTTP/1.1
 * request without Host (RFC 9112 §3.2: "MUST respond with a 400"), Twilio-shaped. Registered
 * before authentication, so that the answer does not depend on credentials.
 */
export function registerProtocolChecks(app: FastifyInstance): void {
  app.server.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) => {
    const exception = { status: 417, code: TwilioCode.invalidParameter, message: `Expectation failed: only "Expect: 100-continue" is understood, not "${String(req.headers.expect).slice(0, 100)}"` };
    const { contentType, body } = renderError(exception, splitFormat(req.url ?? '/').format);
    res.writeHead(417, { 'content-type': contentType, 'content-length': Buffer.byteLength(body), connection: 'close' }).end(body);
  });
  app.addHook('onRequest', (request, _reply, done) => {
    if (request.raw.httpVersion === '1.1' && request.headers.host === undefined) {
      return done(new ApiError(400, TwilioCode.invalidParameter, 'Missing Host header: an HTTP/1.1 request must carry one (RFC 9112, section 3.2)'));
    }
    done();
  });
}
