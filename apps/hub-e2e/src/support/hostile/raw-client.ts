import { Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import type { HostileRequest } from './hostile-request';

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  ms: number;
}

/** No response: the connection was closed or reset first (`reset`), or nothing came in time (`timeout`). */
export interface NoResponse {
  failure: 'reset' | 'timeout';
  detail: string;
  ms: number;
}

export type Outcome = RawResponse | NoResponse;

export const isResponse = (outcome: Outcome): outcome is RawResponse => 'status' in outcome;

const MAX_RESPONSE_BYTES = 32 * 1024 * 1024;

/**
 * Sends requests exactly as given, with node:http (not fetch, which would normalise `..` in paths,
 * refuse bytes 0x80-0xff and fill in headers) over a keep-alive agent, or as raw bytes over a
 * fresh TCP connection for what is not HTTP at all.
 */
export class RawClient {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 32 });

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly timeoutMs = 30_000,
  ) {}

  async send(request: HostileRequest): Promise<Outcome> {
    if (request.raw) return this.sendRaw(request.raw);
    const first = await this.sendHttp(request);
    // A keep-alive socket the server closed just as it was reused: Node's documented retry.
    return !isResponse(first) && first.detail.startsWith('reused socket') ? this.sendHttp(request) : first;
  }

  close(): void {
    this.agent.destroy();
  }

  private sendHttp(request: HostileRequest): Promise<Outcome> {
    const started = Date.now();
    const flat: string[] = [];
    const hasHeader = (name: string) => request.headers.some(([n]) => n.toLowerCase() === name);
    if (!request.noHost && !hasHeader('host')) flat.push('host', `${this.host}:${this.port}`);
    for (const [name, value] of request.headers) flat.push(name, value);
    // With headers given as a list Node frames nothing itself: say how long the body is, or chunk it.
    if (request.body && request.chunks) flat.push('transfer-encoding', 'chunked');
    else if (!hasHeader('content-length')) flat.push('content-length', String(request.body?.length ?? 0));

    return new Promise<Outcome>((resolve) => {
      let settled = false;
      const settle = (outcome: Outcome) => {
        if (!settled) {
          settled = true;
          resolve(outcome);
        }
      };
      const req = httpRequest(
        { host: this.host, port: this.port, method: request.method, path: request.path, headers: flat, agent: this.agent, setHost: false },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size <= MAX_RESPONSE_BYTES) chunks.push(chunk);
          });
          const done = () => settle({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), ms: Date.now() - started });
          res.on('end', done);
          // The server may close right after the status line and headers of an error (413, 431...).
          res.on('error', done);
          res.on('aborted', done);
        },
      );
      req.setTimeout(this.timeoutMs, () => {
        settle({ failure: 'timeout', detail: `no answer within ${this.timeoutMs} ms`, ms: Date.now() - started });
        req.destroy();
      });
      req.on('error', (error: NodeJS.ErrnoException) => {
        const reused = (req as unknown as { reusedSocket?: boolean }).reusedSocket && error.code === 'ECONNRESET';
        settle({ failure: 'reset', detail: `${reused ? 'reused socket: ' : ''}${error.code ?? ''} ${error.message}`, ms: Date.now() - started });
      });
      if (request.body && request.chunks) {
        const size = Math.ceil(request.body.length / request.chunks);
        for (let offset = 0; offset < request.body.length; offset += size) req.write(request.body.subarray(offset, offset + size));
        req.end();
      } else {
        req.end(request.body);
      }
    });
  }

  /** Writes the bytes, half-closes, and reads until the server closes: the first response is parsed. */
  private sendRaw(bytes: Buffer): Promise<Outcome> {
    const started = Date.now();
    return new Promise<Outcome>((resolve) => {
      const socket = connect(this.port, this.host);
      const received: Buffer[] = [];
      let settled = false;
      const settle = (outcome: Outcome) => {
        if (!settled) {
          settled = true;
          clearTimeout(timer);
          socket.destroy();
          resolve(outcome);
        }
      };
      const timer = setTimeout(
        () => settle({ failure: 'timeout', detail: `connection still open after ${this.timeoutMs} ms`, ms: Date.now() - started }),
        this.timeoutMs,
      );
      socket.on('data', (chunk: Buffer) => received.push(chunk));
      socket.on('error', () => undefined); // what was received so far still counts
      socket.on('close', () => {
        const parsed = parseFirstResponse(Buffer.concat(received));
        settle(parsed ? { ...parsed, ms: Date.now() - started } : { failure: 'reset', detail: 'closed without an answer', ms: Date.now() - started });
      });
      socket.end(bytes);
    });
  }
}

/** The first HTTP/1.x response in `data` (after any 1xx), body framed by Content-Length or chunked. */
export function parseFirstResponse(data: Buffer): Omit<RawResponse, 'ms'> | undefined {
  let offset = 0;
  for (;;) {
    const end = data.indexOf('\r\n\r\n', offset);
    if (end < 0) return undefined;
    const head = data.subarray(offset, end).toString('latin1').split('\r\n');
    const status = /^HTTP\/1\.[01] (\d{3})/.exec(head[0]);
    if (!status) return undefined;
    const headers: IncomingHttpHeaders = {};
    for (const line of head.slice(1)) {
      const colon = line.indexOf(':');
      if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const code = Number(status[1]);
    offset = end + 4;
    if (code >= 100 && code < 200) continue;
    const length = Number(headers['content-length'] ?? NaN);
    let body: Buffer;
    if (Number.isFinite(length)) body = data.subarray(offset, offset + length);
    else if (/chunked/i.test(String(headers['transfer-encoding'] ?? ''))) body = dechunk(data.subarray(offset));
    else body = data.subarray(offset);
    return { status: code, headers, body };
  }
}

function dechunk(data: Buffer): Buffer {
  const parts: Buffer[] = [];
  let offset = 0;
  for (;;) {
    const lineEnd = data.indexOf('\r\n', offset);
    if (lineEnd < 0) break;
    const size = parseInt(data.subarray(offset, lineEnd).toString('latin1'), 16);
    if (!Number.isFinite(size) || size === 0) break;
    parts.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
    offset = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(parts);
}
