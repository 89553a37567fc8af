/** One server-sent event: the stream's last id when it came, its name (`message` when none), its data. */
export interface SseMessage {
  id: string | undefined;
  event: string;
  data: string;
}

/**
 * Reads server-sent events from a stream's text, piece by piece as it arrives, by the rules of the
 * HTML standard's event-stream parser: a line ends with CRLF, LF or CR (a CR at the end of a piece
 * waits for the next, which may hold its LF); `:` starts a comment; `field: value` (one space after
 * the colon dropped); `data` lines are joined with LF; a blank line dispatches what was gathered, if
 * it holds data; `id` is remembered for the events after it too (what a client resumes after).
 */
export class SseParser {
  /** The last `id` the stream gave: send it as Last-Event-ID to resume. */
  lastEventId: string | undefined;
  /** The reconnection delay the stream asked for (`retry`), in ms. */
  retryMs: number | undefined;
  private buffer = '';
  private started = false;
  private data: string[] = [];
  private event = '';

  /** The events `text` completes (none until a blank line ends one). */
  push(text: string): SseMessage[] {
    this.buffer += text;
    if (!this.started && this.buffer.length) {
      this.started = true;
      if (this.buffer.startsWith('\uFEFF')) this.buffer = this.buffer.slice(1);
    }
    const messages: SseMessage[] = [];
    const endOfLine = /\r\n|\r|\n/g;
    let start = 0;
    for (let match = endOfLine.exec(this.buffer); match; match = endOfLine.exec(this.buffer)) {
      if (match[0] === '\r' && match.index === this.buffer.length - 1) break;
      const message = this.line(this.buffer.slice(start, match.index));
      if (message) messages.push(message);
      start = match.index + match[0].length;
    }
    this.buffer = this.buffer.slice(start);
    return messages;
  }

  private line(line: string): SseMessage | undefined {
    if (line === '') return this.dispatch();
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.event = value;
    else if (field === 'id' && !value.includes('\0')) this.lastEventId = value;
    else if (field === 'retry' && /^\d+$/.test(value)) this.retryMs = Number(value);
    return undefined;
  }

  private dispatch(): SseMessage | undefined {
    const message = this.data.length ? { id: this.lastEventId, event: this.event || 'message', data: this.data.join('\n') } : undefined;
    this.data = [];
    this.event = '';
    return message;
  }
}
