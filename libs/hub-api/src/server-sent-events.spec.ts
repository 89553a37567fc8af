import { serverSentEvents } from './server-sent-events';

const chunks = (...parts: string[]) =>
  (async function* () {
    for (const part of parts) yield new TextEncoder().encode(part);
  })();

const all = async (parts: string[]) => {
  const events = [];
  for await (const event of serverSentEvents(chunks(...parts))) events.push(event);
  return events;
};

describe('serverSentEvents', () => {
  it('parses id, event and data, whatever the chunks', async () => {
    const text = 'id: 7\nevent: session.created\ndata: {"a":1}\n\n: heartbeat\n\nid: 8\nevent: deps.resolved\ndata: {"b":2}\n\n';
    const expected = [
      { id: '7', event: 'session.created', data: '{"a":1}' },
      { id: '8', event: 'deps.resolved', data: '{"b":2}' },
    ];
    expect(await all([text])).toEqual(expected);
    expect(await all(text.split(''))).toEqual(expected);
  });

  it('joins data lines, takes CR and CRLF as line ends, and defaults the event name', async () => {
    expect(await all(['data: one\r\ndata:two\r', '\n\rdata: three\r\r'])).toEqual([
      { id: undefined, event: 'message', data: 'one\ntwo' },
      { id: undefined, event: 'message', data: 'three' },
    ]);
  });

  it('keeps the last id for events that set none, and skips events without data', async () => {
    expect(await all(['id: 3\nevent: x\n\ndata: a\n\n'])).toEqual([{ id: '3', event: 'message', data: 'a' }]);
  });
});
