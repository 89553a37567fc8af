import { Writable } from 'node:stream';
import type { OutgoingHttpHeaders } from 'node:http';
import { sseFrame, SseWriter } from './sse-writer';

/** A response whose socket takes `highWaterMark` bytes before write() answers false, and drains when told. */
class SlowResponse extends Writable {
  readonly written: string[] = [];
  head: { status: number; headers: OutgoingHttpHeaders } | undefined;
  private pending: (() => void)[] = [];

  constructor(highWaterMark: number) {
    super({ highWaterMark, decodeStrings: false });
  }

  writeHead(status: number, headers: OutgoingHttpHeaders) {
    this.head = { status, headers };
    return this;
  }

  flushHeaders() {}

  override _write(chunk: string, _encoding: BufferEncoding, done: () => void) {
    this.written.push(chunk);
    this.pending.push(done);
  }

  /** The client reads everything written so far. */
  drainAll() {
    for (const done of this.pending.splice(0)) done();
  }
}

describe('sseFrame', () => {
  it('writes id, event and data lines, then a blank line', () => {
    expect(sseFrame({ id: 42, event: 'session.status-changed', data: '{"a":1}' })).toBe(
      'id: 42\nevent: session.status-changed\ndata: {"a":1}\n\n',
    );
  });

  it('gives each line of the data its own data line, so no line break can end the event early', () => {
    expect(sseFrame({ id: 1, event: 'x', data: 'one\ntwo\r\nthree\rfour' })).toBe('id: 1\nevent: x\ndata: one\ndata: two\ndata: three\ndata: four\n\n');
  });
});

describe('SseWriter', () => {
  afterEach(() => jest.useRealTimers());

  it('answers 200 as text/event-stream, not cached and not buffered by proxies', () => {
    const res = new SlowResponse(1024);
    new SseWriter(res, 60_000).end();
    expect(res.head).toEqual({
      status: 200,
      headers: expect.objectContaining({ 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache, no-transform', 'x-accel-buffering': 'no' }),
    });
  });

  it('holds send() back while the socket is full, until it drained', async () => {
    const res = new SlowResponse(64);
    const writer = new SseWriter(res, 60_000);
    expect(await writer.send({ id: 1, event: 'e', data: 'x' })).toBe(true);
    let settled = false;
    const second = writer.send({ id: 2, event: 'e', data: 'y'.repeat(100) }).then((ok) => ((settled = true), ok));
    await new Promise((resolve) => setImmediate(resolve));
    expect(settled).toBe(false);
    res.drainAll();
    await new Promise((resolve) => setImmediate(resolve));
    res.drainAll();
    expect(await second).toBe(true);
    expect(res.written.join('')).toContain('id: 2\n');
    writer.end();
  });

  it('answers false to a send held back when the client goes, and to any after', async () => {
    const res = new SlowResponse(16);
    const writer = new SseWriter(res, 60_000);
    const held = writer.send({ id: 1, event: 'e', data: 'z'.repeat(100) });
    res.destroy();
    expect(await held).toBe(false);
    expect(await writer.send({ id: 2, event: 'e', data: 'z' })).toBe(false);
    await writer.closed;
  });

  it('is closed from the start when the client left before the stream began', async () => {
    const res = new SlowResponse(1024);
    res.destroy();
    await new Promise((resolve) => setImmediate(resolve));
    const writer = new SseWriter(res, 60_000);
    await writer.closed;
    expect(await writer.send({ id: 1, event: 'e', data: 'x' })).toBe(false);
  });

  it('sends a heartbeat comment on a quiet stream, and none once ended', () => {
    jest.useFakeTimers();
    const res = new SlowResponse(1024);
    const writer = new SseWriter(res, 15_000);
    jest.advanceTimersByTime(15_000);
    expect(res.written).toEqual([': heartbeat\n\n']);
    writer.end();
    res.drainAll();
    jest.advanceTimersByTime(30_000);
    expect(res.written).toEqual([': heartbeat\n\n']);
  });

  it('sends no heartbeat while the socket is full', () => {
    jest.useFakeTimers();
    const res = new SlowResponse(4);
    const writer = new SseWriter(res, 15_000);
    void writer.send({ id: 1, event: 'e', data: 'x'.repeat(10) });
    jest.advanceTimersByTime(45_000);
    expect(res.written.filter((chunk) => chunk.startsWith(':'))).toEqual([]);
    writer.end();
  });
});
