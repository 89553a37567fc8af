import { type LiveLogLine, type LiveLogMessage, type LogLineSource, MAX_LOG_LINE_CHARS } from '@hub/contracts';

/** A line Hub adds to a followed log (output not shown live, the cap reached, …). */
export const hubNote = (text: string, t = Date.now()): LiveLogLine => ({ t: new Date(t).toISOString(), stream: 'hub', line: `[hub: ${text}]` });

/**
 * Turns a log read in pieces into lines: each stream's text split at its newlines (a line may span
 * pieces, and messages), a line longer than MAX_LOG_LINE_CHARS cut into pieces of that length, each
 * line timed when its first character was read. What a stream printed without a newline becomes a
 * line when the log has a gap, or ends (`flush`).
 */
export class LogLines {
  private readonly pending = new Map<LogLineSource, { text: string; t: number }>();

  constructor(private readonly maxChars = MAX_LOG_LINE_CHARS) {}

  /** The lines a live-log message gives, with Hub's notes where output is missing or the log reached its cap. */
  ofMessage(message: LiveLogMessage): LiveLogLine[] {
    const lines: LiveLogLine[] = [];
    if (message.droppedBytes) {
      lines.push(...this.flush(), hubNote(`${message.droppedBytes} bytes not shown live; the stored log is whole`, message.chunks[0]?.t));
    }
    for (const chunk of message.chunks) lines.push(...this.push(chunk.stream, chunk.text, chunk.t));
    if (message.capReached) {
      lines.push(...this.flush(), hubNote('the log reached its cap (HUB_LOG_CAP_MB): what follows is neither kept nor shown'));
    }
    if (message.end) lines.push(...this.flush());
    return lines;
  }

  /** The lines `text` completes, read from `stream` at `t` (ms since the epoch). */
  push(stream: LogLineSource, text: string, t: number): LiveLogLine[] {
    const lines: LiveLogLine[] = [];
    let held = this.pending.get(stream);
    for (let from = 0; from < text.length; ) {
      const newline = text.indexOf('\n', from);
      const piece = text.slice(from, newline < 0 ? text.length : newline);
      held = held ? { text: held.text + piece, t: held.t } : { text: piece, t };
      while (held.text.length > this.maxChars) {
        const cut = cutPoint(held.text, this.maxChars);
        lines.push(lineOf(stream, held.text.slice(0, cut), held.t));
        held = { text: held.text.slice(cut), t };
      }
      if (newline < 0) break;
      lines.push(lineOf(stream, held.text, held.t));
      held = undefined;
      from = newline + 1;
    }
    if (held) this.pending.set(stream, held);
    else this.pending.delete(stream);
    return lines;
  }

  /** What each stream printed since its last newline, as lines. */
  flush(): LiveLogLine[] {
    const lines = [...this.pending].map(([stream, held]) => lineOf(stream, held.text, held.t));
    this.pending.clear();
    return lines;
  }
}

const lineOf = (stream: LogLineSource, line: string, t: number): LiveLogLine => ({ t: new Date(t).toISOString(), stream, line });

/** Where to cut `text` to at most `max` characters without splitting a surrogate pair. */
function cutPoint(text: string, max: number): number {
  const code = text.charCodeAt(max - 1);
  return code >= 0xd800 && code <= 0xdbff ? max - 1 : max;
}
