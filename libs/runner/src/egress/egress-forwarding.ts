import { type IncomingHttpHeaders, type IncomingMessage, request as httpRequest, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** Opens a TCP connection to an address the proxy decided on (net.connect; tests put a spy here). */
export type EgressConnect = (address: string, port: number) => Socket;

/** How long a destination may take to accept a connection. */
const CONNECT_TIMEOUT_MS = 15_000;

/** Headers that concern one hop only, never passed on (RFC 9110 §7.6.1), besides those `Connection` names. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/**
 * A CONNECT tunnel over `upstream` (a connection being opened to the decided address): once the
 * destination accepts, the client is told `200 Connection Established` and bytes flow both ways
 * untouched (TLS stays end to end: the proxy never sees inside); either side closing closes the other.
 */
export function tunnel(client: Socket, head: Buffer, upstream: Socket, onFailed: (status: number, message: string) => void): void {
  let established = false;
  const connectTimer = setTimeout(() => upstream.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })), CONNECT_TIMEOUT_MS);
  upstream.once('connect', () => {
    established = true;
    clearTimeout(connectTimer);
    client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length) upstream.write(head);
    client.pipe(upstream);
    upstream.pipe(client);
    client.resume();
  });
  upstream.on('error', (error: NodeJS.ErrnoException) => {
    clearTimeout(connectTimer);
    if (established) client.destroy();
    else onFailed(...upstreamFailure(error));
  });
  client.on('error', () => upstream.destroy());
  upstream.on('close', () => client.end());
  client.on('close', () => upstream.destroy());
}

/**
 * A plain HTTP request in absolute form (`GET http://host/path`): sent on to the destination over a
 * connection of its own (`connect`, to the decided address), without the hop-by-hop headers, and
 * its answer streamed back.
 */
export function forward(req: IncomingMessage, res: ServerResponse, url: URL, connect: () => Socket, onUpstream: (socket: Socket) => void): void {
  const upstream = httpRequest({
    method: req.method,
    path: `${url.pathname}${url.search}`,
    headers: { ...endToEnd(req.headers), host: url.host, connection: 'close' },
    setHost: false,
    createConnection: () => {
      const socket = connect();
      onUpstream(socket);
      return socket;
    },
    timeout: CONNECT_TIMEOUT_MS,
  });
  upstream.on('timeout', () => upstream.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
  upstream.on('response', (answer) => {
    res.writeHead(answer.statusCode ?? 502, answer.statusMessage, endToEnd(answer.headers));
    answer.pipe(res);
    answer.on('error', () => res.destroy());
  });
  upstream.on('error', (error: NodeJS.ErrnoException) => {
    if (res.headersSent) res.destroy();
    else refuse(res, ...upstreamFailure(error));
  });
  res.on('close', () => upstream.destroy());
  req.pipe(upstream);
}

/** Answers a plain HTTP request with a short text. */
export function refuse(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' });
  res.end(`${message}\n`);
}

/** Answers on a raw socket (a CONNECT, or a request Node's parser could not read) and closes it. */
export function refuseSocket(socket: Socket, status: number, message: string): void {
  if (!socket.writable) return void socket.destroy();
  const body = `${message}\n`;
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}\r\ncontent-type: text/plain; charset=utf-8\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}

const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 403: 'Forbidden', 501: 'Not Implemented', 502: 'Bad Gateway', 504: 'Gateway Timeout' };

function endToEnd(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const named = String(headers.connection ?? '')
    .split(',')
    .map((name) => name.trim().toLowerCase());
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !HOP_BY_HOP.has(name) && !named.includes(name)));
}

function upstreamFailure(error: NodeJS.ErrnoException): [number, string] {
  const timedOut = error.code === 'ETIMEDOUT';
  return [timedOut ? 504 : 502, `Hub egress: the destination did not answer (${error.code ?? error.message})`];
}
