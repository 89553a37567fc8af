import { conflictMessage, shownPath } from './conflict-message';

describe('conflictMessage', () => {
  it('names the session, the sessions it collides with and the files', () => {
    expect(conflictMessage('impl-b', ['impl-a'], ['src/app.py'], 1)).toBe("impl-b's changes conflict with impl-a's in src/app.py");
    expect(conflictMessage('impl-c', ['impl-a', 'impl-b'], ['a.py', 'b.py'], 2)).toBe(
      "impl-c's changes conflict with impl-a's and impl-b's in a.py and b.py",
    );
  });

  it('names the base branch when no earlier dependency touched the files', () => {
    expect(conflictMessage('impl-b', [], ['README.md'], 1)).toBe("impl-b's changes conflict with the base branch in README.md");
  });

  it('names five files at most, and counts the rest', () => {
    const files = Array.from({ length: 7 }, (_, i) => `f${i}`);
    expect(conflictMessage('b', ['a'], files.slice(0, 6), 40)).toBe("b's changes conflict with a's in f0, f1, f2, f3, f4 and 35 more files");
  });

  it('quotes file names that could mislead, and cuts long ones', () => {
    expect(shownPath('evil\nname')).toBe('"evil\\nname"');
    expect(shownPath('with space.txt')).toBe('"with space.txt"');
    expect(shownPath('x'.repeat(300))).toBe(`${'x'.repeat(200)}…`);
    expect(conflictMessage('b\x1b[31m', ['a'], ['f'], 1)).toBe("b?[31m's changes conflict with a's in f");
  });
});
