import type { LiveLogLine } from '@hub/contracts';

/** How a followed log is written to the client: its type, what opens it, each line, and what closes it. */
export interface LiveLogFormat {
  contentType: string;
  start: string;
  line(line: LiveLogLine): string;
  end: string;
}

/** One JSON object per line: `{"t":"<ISO>","stream":"stdout","line":"…"}`. */
export const NDJSON: LiveLogFormat = {
  contentType: 'application/x-ndjson',
  start: '',
  line: (line) => `${JSON.stringify(line)}\n`,
  end: '',
};

/**
 * Server-sent events: a comment at once (the client sees the stream open), each line as a message
 * whose data is the same JSON object (JSON escapes every line break, so it stays one `data:` field),
 * then an `end` event, since an EventSource reconnects when a stream just closes.
 */
export const SSE: LiveLogFormat = {
  contentType: 'text/event-stream; charset=utf-8',
  start: ': following the log\n\n',
  line: (line) => `data: ${JSON.stringify(line)}\n\n`,
  end: 'event: end\ndata: {}\n\n',
};

/** SSE for a client that asks for `text/event-stream`; NDJSON otherwise. */
export const liveLogFormatFor = (accept: string | undefined): LiveLogFormat => (/\btext\/event-stream\b/i.test(accept ?? '') ? SSE : NDJSON);
