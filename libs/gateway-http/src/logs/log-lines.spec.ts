import type { LiveLogLine } from '@hub/contracts';
import { LogLines } from './log-lines';

const at = (ms: number) => new Date(ms).toISOString();
const text = (lines: LiveLogLine[]) => lines.map((l) => `${l.stream}:${l.line}`);

describe('LogLines', () => {
  it("joins a stream's pieces into lines, keeps the streams apart, and times each line by its first character", () => {
    const lines = new LogLines();
    expect(lines.push('stdout', 'one\ntw', 1_000)).toEqual([{ t: at(1_000), stream: 'stdout', line: 'one' }]);
    expect(lines.push('stderr', 'error\n', 1_001)).toEqual([{ t: at(1_001), stream: 'stderr', line: 'error' }]);
    expect(lines.push('stdout', 'o\n\nthree\n', 1_002)).toEqual([
      { t: at(1_000), stream: 'stdout', line: 'two' },
      { t: at(1_002), stream: 'stdout', line: '' },
      { t: at(1_002), stream: 'stdout', line: 'three' },
    ]);
    expect(lines.flush()).toEqual([]);
  });

  it('cuts a long line into pieces of at most maxChars, never inside a surrogate pair', () => {
    const lines = new LogLines(4);
    expect(text(lines.push('stdout', 'abcdefghij\n', 0))).toEqual(['stdout:abcd', 'stdout:efgh', 'stdout:ij']);
    expect(text(lines.push('stdout', 'abc😀def\n', 0))).toEqual(['stdout:abc', 'stdout:😀de', 'stdout:f']);
  });

  it('turns a message into lines, with a note where output was not shown and where the cap was reached', () => {
    const lines = new LogLines();
    expect(text(lines.ofMessage({ chunks: [{ t: 1, stream: 'stdout', text: 'before the gap, no newline' }] }))).toEqual([]);
    expect(text(lines.ofMessage({ droppedBytes: 4096, chunks: [{ t: 2, stream: 'stdout', text: 'after\n' }] }))).toEqual([
      'stdout:before the gap, no newline',
      'hub:[hub: 4096 bytes not shown live; the stored log is whole]',
      'stdout:after',
    ]);
    expect(text(lines.ofMessage({ chunks: [{ t: 3, stream: 'stderr', text: 'last kept' }], capReached: true }))).toEqual([
      'stderr:last kept',
      'hub:[hub: the log reached its cap (HUB_LOG_CAP_MB): what follows is neither kept nor shown]',
    ]);
    expect(text(lines.ofMessage({ chunks: [{ t: 4, stream: 'stdout', text: 'unterminated' }], end: true }))).toEqual(['stdout:unterminated']);
  });
});
