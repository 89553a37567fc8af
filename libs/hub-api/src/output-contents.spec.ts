import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { notFound, SessionOutput } from '@hub/contracts';
import { INLINE_FILE_MAX_BYTES, INLINE_TOTAL_MAX_BYTES, readBytes, withInlinedContents } from './output-contents';

/** The one rule every entrance inlines output files by (MCP get_session_output, claude-hub session.output). */
describe('withInlinedContents', () => {
  const outputOf = (files: Record<string, Buffer>): SessionOutput => ({
    sessionId: 's',
    status: 'completed',
    exitCode: 0,
    files: Object.entries(files).map(([path, content]) => ({ path, size: content.length, sha256: createHash('sha256').update(content).digest('hex') })),
    skipped: [],
    skippedCount: 0,
  });
  const reader = (files: Record<string, Buffer>) => async (path: string) => {
    if (!files[path]) throw notFound(`output file ${path} of session`, 's');
    return { content: Readable.from([files[path]]), contentType: 'application/octet-stream' };
  };

  it('inlines small UTF-8 text files, whatever their name, and says why it left out the others', async () => {
    const files = {
      'result.md': Buffer.from('done\n'),
      'main.py': Buffer.from('print("hi")\n'),
      'big.txt': Buffer.alloc(INLINE_FILE_MAX_BYTES + 1, 'x'),
      'image.png': Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00]),
      'latin1.txt': Buffer.from([0xe9, 0x74, 0xe9]),
    };
    const result = await withInlinedContents(outputOf(files), reader(files));
    const byPath = Object.fromEntries(result.files.map((f) => [f.path, f]));
    expect(byPath['result.md'].content).toBe('done\n');
    expect(byPath['main.py'].content).toBe('print("hi")\n');
    expect(byPath['big.txt']).toMatchObject({ contentOmitted: `larger than ${INLINE_FILE_MAX_BYTES} bytes` });
    expect(byPath['big.txt']).not.toHaveProperty('content');
    expect(byPath['image.png'].contentOmitted).toBe('not UTF-8 text');
    expect(byPath['latin1.txt'].contentOmitted).toBe('not UTF-8 text');
  });

  it('stops inlining once the answer holds INLINE_TOTAL_MAX_BYTES', async () => {
    const files = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`f${i}.txt`, Buffer.alloc(60 * 1024, 'a')]));
    const result = await withInlinedContents(outputOf(files), reader(files));
    const inlined = result.files.filter((f) => f.content !== undefined);
    expect(inlined).toHaveLength(Math.floor(INLINE_TOTAL_MAX_BYTES / (60 * 1024)));
    expect(result.files.at(-1)!.contentOmitted).toMatch(/already fill the \d+ bytes inlined per answer/);
  });

  it('lists a file it cannot read, or one larger than its listing says, with why', async () => {
    const listed = { 'gone.txt': Buffer.from('x'), 'grown.txt': Buffer.from('ab') };
    const stored = { 'grown.txt': Buffer.from('a'.repeat(1000)) };
    const result = await withInlinedContents(outputOf(listed), reader(stored));
    expect(result.files.map((f) => f.contentOmitted)).toEqual([
      'output file gone.txt of session s does not exist',
      'the stored file is larger than the 2 bytes listed',
    ]);
  });

  it('reads a stream up to a bound, and says when it holds more', async () => {
    expect(await readBytes(Readable.from([Buffer.from('abc'), Buffer.from('de')]))).toEqual(Buffer.from('abcde'));
    expect(await readBytes(Readable.from([Buffer.from('abc'), Buffer.from('de')]), 4)).toBeNull();
  });
});
