import type { OutgoingHttpHeaders } from 'node:http';

/** One server-sent event: its `id`, its `event` name, and `data` (a line each of the text's lines). */
export interface SseFrame {
  id: number | string;
  event: string;
  data: string;
}

/** The frame as it goes on the wire, a blank line ending it. */
export function sseFrame({ id, event, data }: SseFrame): string {
  const dataLines = data.split(/\r\n|\r|\n/).map((line) => `data: ${line}`);
  return [`id: ${id}`, `event: ${event}`, ...dataLines].join('\n') + '\n\n';
}

/** A comment: clients ignore it; it keeps proxies and idle timeouts from closing a quiet stream. */
export const sseComment = (text: string) => `: ${text}\n\n`;

export const SSE_HEADERS: OutgoingHttpHeaders = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  connection: 'keep-alive',
  // nginx and the like: pass each event on at once rather than buffer the response.
  'x-accel-buffering': 'no',
};

/** What SseWriter uses of an HTTP response (Node's ServerResponse, express's Response). */
export interface SseResponse {
  writeHead(status: number, headers: OutgoingHttpHeaders): unknown;
  flushHeaders(): void;
  write(chunk: string): boolean;
  end(): unknown;
  once(event: 'drain' | 'close', listener: () => void): unknown;
  removeListener(event: 'drain' | 'close', listener: () => void): unknown;
  readonly writableEnded: boolean;
  readonly writableNeedDrain: boolean;
  /** The connection is gone (the client left before the stream began, too). */
  readonly closed: boolean;
}

/**
 * Writes server-sent events to one response. send() resolves once the frame is handed to the
 * socket or, when the socket's buffer is full (write() answered false), once it has drained: the
 * caller takes nothing more from its source meanwhile, so a slow client holds back the stream
 * instead of filling the gateway's memory. A heartbeat comment goes out every `heartbeatMs` (not
 * while the buffer is full). `closed` resolves when the client has gone, or end() was called.
 */
export class SseWriter {
  readonly closed: Promise<void>;
  private isClosed = false;
  private readonly heartbeat: NodeJS.Timeout;
  private markClosed!: () => void;

  constructor(
    private readonly res: SseResponse,
    heartbeatMs: number,
  ) {
    this.closed = new Promise((resolve) => (this.markClosed = resolve));
    res.once('close', () => this.close());
    res.writeHead(200, SSE_HEADERS);
    res.flushHeaders();
    this.heartbeat = setInterval(() => {
      if (!res.writableNeedDrain) res.write(sseComment('heartbeat'));
    }, heartbeatMs);
    if (res.closed) this.close();
  }

  /** False when the client has gone (nothing was written, or not all of it reached it). */
  async send(frame: SseFrame): Promise<boolean> {
    if (this.isClosed) return false;
    if (this.res.write(sseFrame(frame))) return true;
    let drained!: () => void;
    await Promise.race([new Promise<void>((resolve) => this.res.once('drain', (drained = resolve))), this.closed]);
    this.res.removeListener('drain', drained);
    return !this.isClosed;
  }

  /** Ends the stream; a client reconnects with Last-Event-ID. */
  end(): void {
    if (!this.res.writableEnded) this.res.end();
    this.close();
  }

  private close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    clearInterval(this.heartbeat);
    this.markClosed();
  }
}
