import type { LiveLogMessage } from '@hub/contracts';
import { LiveLogPublisher, type LiveLogPublisherOptions } from './live-log-publisher';

/** JetStream in memory: records each message; acknowledges at once, or when told (`holding`). */
class InMemoryJetStream {
  readonly sent: LiveLogMessage[] = [];
  holding = false;
  private readonly waiting: { ack: () => void; fail: (error: Error) => void }[] = [];

  readonly send = (message: LiveLogMessage): Promise<void> => {
    this.sent.push(structuredClone(message));
    if (!this.holding) return Promise.resolve();
    return new Promise((ack, fail) => this.waiting.push({ ack, fail }));
  };

  get inFlight(): number {
    return this.waiting.length;
  }

  acknowledgeOne(): void {
    this.waiting.shift()?.ack();
  }

  failOne(error: Error): void {
    this.waiting.shift()?.fail(error);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** The text of every chunk of these messages, by stream. */
const textOf = (messages: LiveLogMessage[]) => messages.flatMap((m) => m.chunks.map((c) => `${c.stream}:${c.text}`));

describe('LiveLogPublisher', () => {
  let jetstream: InMemoryJetStream;
  let clock: number;
  const publisher = (options: Partial<LiveLogPublisherOptions> = {}) =>
    new LiveLogPublisher({ send: jetstream.send, flushMs: 20, now: () => clock, ...options });

  beforeEach(() => {
    jetstream = new InMemoryJetStream();
    clock = 1_000;
  });

  it('publishes what came within the flush interval as one message, each chunk with its stream and read time', async () => {
    const live = publisher();
    live.write('stdout', Buffer.from('one\n'));
    live.write('stdout', Buffer.from('two\n')); // same stream, same millisecond: one chunk
    clock++;
    live.write('stderr', Buffer.from('oops\n'));
    live.write('stdout', Buffer.from('three\n'));
    expect(jetstream.sent).toEqual([]);

    await sleep(50);
    expect(jetstream.sent).toEqual([
      {
        chunks: [
          { t: 1_000, stream: 'stdout', text: 'one\ntwo\n' },
          { t: 1_001, stream: 'stderr', text: 'oops\n' },
          { t: 1_001, stream: 'stdout', text: 'three\n' },
        ],
      },
    ]);
    await live.end();
    expect(jetstream.sent[1]).toEqual({ chunks: [], end: true });
  });

  it('cuts messages at maxMessageBytes of output, sending a full one at once', async () => {
    const live = publisher({ maxMessageBytes: 10, flushMs: 10_000 });
    live.write('stdout', Buffer.from('0123456789abcdefghijKLM'));
    expect(textOf(jetstream.sent)).toEqual(['stdout:0123456789', 'stdout:abcdefghij']);
    await live.end();
    expect(textOf(jetstream.sent)).toEqual(['stdout:0123456789', 'stdout:abcdefghij', 'stdout:KLM']);
    expect(jetstream.sent.at(-1)).toEqual({ chunks: [], end: true });
  });

  it('never waits for JetStream: with every slot taken, output is dropped and counted, and the next message says so', async () => {
    jetstream.holding = true;
    const live = publisher({ maxMessageBytes: 10, maxInFlight: 2 });
    // Each write returns at once (nothing here is awaited) while JetStream holds every publish.
    live.write('stdout', Buffer.from('aaaaaaaaaa')); // sent: slot 1
    live.write('stdout', Buffer.from('bbbbbbbbbb')); // sent: slot 2
    live.write('stdout', Buffer.from('cccccccccc')); // a full batch, waiting for a slot
    for (let i = 0; i < 1000; i++) live.write('stdout', Buffer.from('dropped!!\n'));
    expect(jetstream.inFlight).toBe(2);
    expect(live.droppedBytes).toBe(10_000);

    jetstream.acknowledgeOne(); // a slot frees: the waiting batch goes
    await sleep(0);
    expect(textOf(jetstream.sent)).toEqual(['stdout:aaaaaaaaaa', 'stdout:bbbbbbbbbb', 'stdout:cccccccccc']);

    jetstream.holding = false;
    jetstream.acknowledgeOne();
    jetstream.acknowledgeOne();
    live.write('stderr', Buffer.from('after\n'));
    await live.end();
    expect(jetstream.sent.slice(3)).toEqual([
      { droppedBytes: 10_000, chunks: [{ t: 1_000, stream: 'stderr', text: 'after\n' }] },
      { chunks: [], end: true },
    ]);
  });

  it('counts the output of a publish that failed as not shown, tells it once, and says so in the next message', async () => {
    jetstream.holding = true;
    const failures: string[] = [];
    const live = publisher({ maxMessageBytes: 4, onSendFailed: (error) => failures.push(error.message) });
    live.write('stdout', Buffer.from('lost'));
    jetstream.failOne(new Error('TIMEOUT'));
    await sleep(0);
    expect(live.droppedBytes).toBe(4);
    expect(failures).toEqual(['TIMEOUT']);

    jetstream.holding = false;
    live.write('stdout', Buffer.from('ok\n'));
    await live.end();
    expect(jetstream.sent.slice(1)).toEqual([{ droppedBytes: 4, chunks: [{ t: 1_000, stream: 'stdout', text: 'ok\n' }] }, { chunks: [], end: true }]);
  });

  it('keeps a character cut between two reads whole', async () => {
    const live = publisher({ flushMs: 10_000 });
    const euro = Buffer.from('€\n');
    live.write('stdout', euro.subarray(0, 1));
    live.write('stdout', euro.subarray(1));
    await live.end();
    expect(textOf(jetstream.sent)).toEqual(['stdout:€\n']);
  });

  it('says after which output the log reached its cap', async () => {
    const live = publisher();
    live.write('stdout', Buffer.from('last kept'));
    live.capReached();
    await sleep(50);
    expect(jetstream.sent).toEqual([{ chunks: [{ t: 1_000, stream: 'stdout', text: 'last kept' }], capReached: true }]);
  });

  it('ends with what is left and the end marker, whatever is in flight, once JetStream has them all', async () => {
    jetstream.holding = true;
    const live = publisher({ maxMessageBytes: 2, maxInFlight: 1, flushMs: 10_000 });
    live.write('stdout', Buffer.from('ab')); // in flight
    live.write('stdout', Buffer.from('cd')); // full, waiting
    let ended = false;
    const ending = live.end().then(() => (ended = true));
    expect(jetstream.sent).toEqual([
      { chunks: [{ t: 1_000, stream: 'stdout', text: 'ab' }] },
      { chunks: [{ t: 1_000, stream: 'stdout', text: 'cd' }] },
      { chunks: [], end: true },
    ]);
    jetstream.acknowledgeOne();
    jetstream.acknowledgeOne();
    await sleep(0);
    expect(ended).toBe(false);
    jetstream.acknowledgeOne();
    await ending;
    live.write('stdout', Buffer.from('too late'));
    expect(jetstream.sent).toHaveLength(3);
  });
});
