import { maxHeaderSize, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { RequestHandler } from 'express';
import { HttpProblem } from './http-problem.error';

/** Node's parser errors (llhttp) carry why in `reason`, and the bytes it choked on in `rawPacket`. */
type ClientError = Error & { code?: string; reason?: string; rawPacket?: Buffer };

function answerFor(error: ClientError): { status: number; error: string; message: string } {
  switch (error.code) {
    case 'HPE_HEADER_OVERFLOW':
      return {
        status: 431,
        error: 'headers_too_large',
        message: `the request line and headers are larger than the limit of ${maxHeaderSize} bytes`,
      };
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return { status: 413, error: 'payload_too_large', message: 'the chunk extensions of the request body are too large' };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { status: 408, error: 'request_timeout', message: 'the request did not arrive in time' };
    default:
      return {
        status: 400,
        error: 'bad_request',
        message: `malformed HTTP request: ${error.reason ?? error.message} (${error.code ?? 'parse error'})`,
      };
  }
}

const json = (body: object) => JSON.stringify(body);

/**
 * What never reaches express gets the same JSON errors as the rest: a request Node's HTTP parser
 * refuses (a bad request line or header byte, headers over the limit), an HTTP/1.1 request without
 * Host (checked by requireHostHeader instead), and an Expect header other than 100-continue. Node
 * answers those itself with an empty body by default. A parser error is only answered when nothing
 * of a response is on the wire yet, as Node does; the connection is then closed.
 */
export function answerClientErrorsInJson(server: Server): void {
  (server as Server & { requireHostHeader: boolean }).requireHostHeader = false;
  server.on('clientError', (error: ClientError, socket: Duplex & { _httpMessage?: ServerResponse | null }) => {
    if (error.code === 'ECONNRESET' || !socket.writable || socket._httpMessage?.headersSent) {
      socket.destroy();
      return;
    }
    const { status, ...body } = answerFor(error);
    // A response to HEAD has no body: a client reading one would take the body for the next response.
    const text = error.rawPacket?.subarray(0, 5).toString('latin1') === 'HEAD ' ? '' : json(body);
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(text)}\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n${text}`,
    );
    socket.destroy();
  });
  server.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) => {
    const text = json({ error: 'expectation_failed', message: `Expect: ${req.headers.expect} is not supported (only 100-continue is)` });
    // The body, if any, is not read: close rather than parse it as the next request.
    res.writeHead(417, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(text),
      'x-content-type-options': 'nosniff',
      connection: 'close',
    });
    res.end(text);
  });
}

/** RFC 9112: an HTTP/1.1 request without a Host header is a 400 (answered by the error filter, in JSON). */
export const requireHostHeader: RequestHandler = (req, res, next) => {
  if (req.httpVersion !== '1.1' || req.headers.host !== undefined) return next();
  res.setHeader('connection', 'close');
  next(new HttpProblem(400, 'bad_request', 'an HTTP/1.1 request must have a Host header'));
};
