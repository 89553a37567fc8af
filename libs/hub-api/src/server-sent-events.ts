/** One server-sent event as a client receives it: `id` is the last id the stream set (the one to resume after). */
export interface ServerSentEvent {
  id: string | undefined;
  event: string;
  data: string;
}

/**
 * The events of a `text/event-stream` body, as an EventSource parses them (the WHATWG rules): lines
 * end with CR, LF or CRLF; a blank line dispatches the event; `data` lines are joined with LF;
 * comments (`:`) and events without data are skipped. For clients of `GET /api/v1/events` that read
 * it with fetch (so that they can send the bearer token, which EventSource cannot).
 */
export async function* serverSentEvents(body: AsyncIterable<Uint8Array>): AsyncGenerator<ServerSentEvent> {
  let lastId: string | undefined;
  let event = '';
  let data: string[] = [];
  for await (const line of linesOf(body)) {
    if (line === '') {
      if (data.length) yield { id: lastId, event: event || 'message', data: data.join('\n') };
      event = '';
      data = [];
      continue;
    }
    if (line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'data') data.push(value);
    else if (field === 'event') event = value;
    else if (field === 'id' && !value.includes('\0')) lastId = value;
  }
}

/** The body's lines, each without its end (CR, LF or CRLF), however the chunks cut them. */
async function* linesOf(body: AsyncIterable<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffer = '';
  function* complete(ended: boolean) {
    const lineEnd = /\r\n|\r|\n/;
    for (let match = lineEnd.exec(buffer); match; match = lineEnd.exec(buffer)) {
      // A CR at the very end may be the first half of a CRLF: wait for the next chunk, if any.
      if (!ended && match[0] === '\r' && match.index === buffer.length - 1) return;
      yield buffer.slice(0, match.index);
      buffer = buffer.slice(match.index + match[0].length);
    }
  }
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true });
    yield* complete(false);
  }
  buffer += decoder.decode();
  yield* complete(true);
}
