import { toStringMethod } from 'fast-check';

/** What a response to one hostile request must also satisfy, beyond "no 5xx, no hang". */
export interface Expectations {
  /** A create route: nothing may be created, so no 2xx (and for MCP/webhook, no successful result). */
  createsNothing?: 'rest' | 'webhook' | 'mcp';
  /** The server may close the connection instead of (or while) answering: oversized bodies it stops reading. */
  mayReset?: boolean;
  /**
   * @hono/node-server (the MCP SDK's Node adapter) answers 400 with an empty body when it cannot
   * build a URL from the request (no or an invalid Host header): allowed for such requests to /mcp only.
   */
  mayAnswerEmpty400?: boolean;
  /** An output file route: a 2xx body must be one of these contents, byte for byte (nothing outside the listing leaks). */
  outputFileContents?: readonly string[];
}

/** One request as it goes on the wire: nothing normalised, header order and duplicates kept. */
export interface HostileRequest {
  /** The route it aims at, for the tallies: `POST /api/v1/sessions`, `raw protocol`... */
  route: string;
  method: string;
  /** Sent as is (percent-encoding, `..`, bytes 0x80-0xff included). */
  path: string;
  /** [name, value] pairs; a Host header is added unless one is given or `noHost`. */
  headers: [string, string][];
  body?: Buffer;
  /** Send the body with Transfer-Encoding: chunked, in this many pieces, instead of a Content-Length. */
  chunks?: number;
  noHost?: boolean;
  /** Whether the Authorization header sent carries the right token (the only way past the token check). */
  authorized: boolean;
  /** Bytes written as they are on a fresh connection (half-closed after), instead of an HTTP request. */
  raw?: Buffer;
  expect: Expectations;
  /** What is hostile about it, for failure messages. */
  note: string;
}

const clip = (text: string, max = 160) => (text.length > max ? `${text.slice(0, max)}… (${text.length} chars)` : text);

/** A line that says what was sent without printing megabytes. */
export function describeRequest(request: HostileRequest): string {
  if (request.raw) {
    return `[${request.route}] raw ${request.raw.length} bytes: ${JSON.stringify(clip(request.raw.toString('latin1'), 200))} — ${request.note}`;
  }
  const body = request.body ? ` body ${request.body.length} bytes ${JSON.stringify(clip(request.body.toString('latin1')))}` : '';
  const headerBytes = request.headers.reduce((sum, [name, value]) => sum + name.length + value.length + 4, 0);
  const headers = request.headers
    .filter(([name]) => !name.startsWith('x-many-'))
    .map(([name, value]) => `${name}: ${JSON.stringify(clip(name === 'authorization' ? value.replace(/[0-9a-f]{32}/, '<token>') : value, 60))}`)
    .join(', ');
  const summary = `${request.headers.length} headers, ${headerBytes} bytes: ${clip(headers, 400)}`;
  return `[${request.route}] ${request.method} ${clip(request.path, 200)} (${summary})${body} — ${request.note}`;
}

/** fast-check prints counterexamples with this instead of dumping bodies of megabytes. */
export function hostile(request: Omit<HostileRequest, typeof toStringMethod>): HostileRequest {
  return Object.assign(request, { [toStringMethod]: () => describeRequest(request) });
}
