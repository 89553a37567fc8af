import { LineSplitter, textChunks, textUpTo } from './text-stream';

const streamOf = (...pieces: (string | Uint8Array)[]) =>
  new ReadableStream<Uint8Array>({
    start(controller) {
      for (const piece of pieces) controller.enqueue(typeof piece === 'string' ? new TextEncoder().encode(piece) : piece);
      controller.close();
    },
  });

describe('reading a response body as text', () => {
  it('keeps a character whose bytes are split between chunks whole', async () => {
    const bytes = new TextEncoder().encode('é✓');
    const chunks: string[] = [];
    for await (const text of textChunks(streamOf(bytes.slice(0, 1), bytes.slice(1, 3), bytes.slice(3)))) chunks.push(text);
    expect(chunks.join('')).toBe('é✓');
  });

  it('reads at most so many characters, and says when there was more', async () => {
    expect(await textUpTo(streamOf('abc', 'def'), 4)).toEqual({ text: 'abcd', truncated: true });
    expect(await textUpTo(streamOf('abc', 'def'), 6)).toEqual({ text: 'abcdef', truncated: false });
  });
});

describe('LineSplitter', () => {
  it('gives whole lines as they complete, LF or CRLF, and the last one at the end', () => {
    const splitter = new LineSplitter();
    expect(splitter.push('{"a"')).toEqual([]);
    expect(splitter.push(':1}\r\n{"b":2}\n{"c"')).toEqual(['{"a":1}', '{"b":2}']);
    expect(splitter.push(':3}')).toEqual([]);
    expect(splitter.flush()).toEqual(['{"c":3}']);
    expect(splitter.flush()).toEqual([]);
  });
});
