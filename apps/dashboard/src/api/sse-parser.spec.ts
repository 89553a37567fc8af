import { SseParser } from './sse-parser';

describe('SseParser', () => {
  it('reads the frames the gateway writes: id, event, data, a blank line', () => {
    const parser = new SseParser();
    const frames = parser.push('id: 7\nevent: session.status-changed\ndata: {"a":1}\n\nid: 8\nevent: orchestration.finished\ndata: {"b":2}\n\n');
    expect(frames).toEqual([
      { id: '7', event: 'session.status-changed', data: '{"a":1}' },
      { id: '8', event: 'orchestration.finished', data: '{"b":2}' },
    ]);
    expect(parser.lastEventId).toBe('8');
  });

  it('gathers an event split anywhere across pieces, a CRLF split between two included', () => {
    const text = 'id: 12\r\nevent: e\r\ndata: first\r\ndata: second\r\n\r\n';
    for (let cut = 1; cut < text.length; cut++) {
      const parser = new SseParser();
      const frames = [...parser.push(text.slice(0, cut)), ...parser.push(text.slice(cut))];
      expect({ cut, frames }).toEqual({ cut, frames: [{ id: '12', event: 'e', data: 'first\nsecond' }] });
    }
  });

  it('takes CR alone as a line end, and keeps one waiting at the end of a piece', () => {
    const parser = new SseParser();
    expect(parser.push('data: a\r')).toEqual([]);
    expect(parser.push('\rdata: b\r\r')).toEqual([{ id: undefined, event: 'message', data: 'a' }]);
    expect(parser.push('')).toEqual([]);
    expect(parser.push(':')).toEqual([{ id: undefined, event: 'message', data: 'b' }]);
  });

  it('skips comments (the heartbeat), events without data, unknown fields, and a byte-order mark', () => {
    const parser = new SseParser();
    expect(parser.push('\uFEFF: heartbeat\n\nevent: nothing\n\nfoo: bar\ndata\n\n')).toEqual([{ id: undefined, event: 'message', data: '' }]);
  });

  it('keeps the last id for the events after it, refuses an id with NUL, and reads retry', () => {
    const parser = new SseParser();
    expect(parser.push('id: 3\ndata: x\n\ndata: y\n\nid: a\0b\nretry: 2500\ndata: z\n\n').map((frame) => frame.id)).toEqual(['3', '3', '3']);
    expect(parser.retryMs).toBe(2500);
  });

  it('drops only the one space after the colon', () => {
    expect(new SseParser().push('data:  two spaces\ndata:none\n\n')).toEqual([{ id: undefined, event: 'message', data: ' two spaces\nnone' }]);
  });
});
