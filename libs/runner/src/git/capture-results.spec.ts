import { parseBundleHeader, parseHead, parseNumstat, parseShortstat } from './capture-results';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);

describe('parseNumstat', () => {
  it('reads text and binary files, and paths holding tabs', () => {
    const raw = Buffer.from('-\t-\tbin\x001\t0\tf\x0012\t3\ttab\tname\x00');
    expect(parseNumstat(raw, 10)).toEqual({
      files: [
        { path: 'bin', added: null, removed: null },
        { path: 'f', added: 1, removed: 0 },
        { path: 'tab\tname', added: 12, removed: 3 },
      ],
      records: 3,
    });
  });

  it('drops a record cut by the cap (no NUL) and skips malformed ones', () => {
    const raw = Buffer.from('1\t2\tkept\x00x\t2\tbad\x00-\t3\thalf-binary\x001\t1\t\x00no-tabs\x007\t7\tcut-he');
    expect(parseNumstat(raw, 10)).toEqual({ files: [{ path: 'kept', added: 1, removed: 2 }], records: 1 });
  });

  it('lists at most maxFiles and counts them all', () => {
    const raw = Buffer.from(Array.from({ length: 5 }, (_, i) => `1\t0\tf${i}\x00`).join(''));
    const parsed = parseNumstat(raw, 2);
    expect(parsed.files.map((file) => file.path)).toEqual(['f0', 'f1']);
    expect(parsed.records).toBe(5);
  });

  it('cuts a very long path for showing', () => {
    const parsed = parseNumstat(Buffer.from(`1\t0\t${'p'.repeat(5000)}\x00`), 1);
    expect(parsed.files[0].path).toHaveLength(1025);
  });
});

describe('parseShortstat', () => {
  it.each([
    [' 3 files changed, 10 insertions(+), 2 deletions(-)\n', { files: 3, added: 10, removed: 2 }],
    [' 1 file changed, 1 insertion(+)\n', { files: 1, added: 1, removed: 0 }],
    [' 1 file changed, 1 deletion(-)\n', { files: 1, added: 0, removed: 1 }],
    [' 2 files changed\n', { files: 2, added: 0, removed: 0 }],
    ['', { files: 0, added: 0, removed: 0 }],
  ])('%j', (text, totals) => {
    expect(parseShortstat(text)).toEqual(totals);
  });

  it('refuses anything else', () => {
    expect(parseShortstat('3 files changed; rm -rf /')).toBeNull();
    expect(parseShortstat(`${'9'.repeat(20)} files changed`)).toBeNull();
  });
});

describe('parseBundleHeader', () => {
  it('reads a v2 header: prerequisites and refs, up to the empty line', () => {
    const raw = Buffer.concat([Buffer.from(`# v2 git bundle\n-${A} base message\n${B} HEAD\n\n`), Buffer.from('PACK\0\0binary')]);
    expect(parseBundleHeader(raw)).toEqual({ version: 2, prerequisites: [A], refs: [{ commit: B, name: 'HEAD' }] });
  });

  it('reads a v3 header, skipping capabilities', () => {
    const raw = Buffer.from(`# v3 git bundle\n@object-format=sha1\n${B} refs/heads/main\n\nPACK`);
    expect(parseBundleHeader(raw)).toEqual({ version: 3, prerequisites: [], refs: [{ commit: B, name: 'refs/heads/main' }] });
  });

  it('refuses what is not a whole bundle header', () => {
    expect(parseBundleHeader(Buffer.from(`# v2 git bundle\n${B} HEAD\n`))).toBeNull(); // cut before its end
    expect(parseBundleHeader(Buffer.from(`# v9 git bundle\n${B} HEAD\n\n`))).toBeNull();
    expect(parseBundleHeader(Buffer.from(`# v2 git bundle\nnonsense\n\n`))).toBeNull();
    expect(parseBundleHeader(Buffer.from('PACK\n\n'))).toBeNull();
  });
});

describe('parseHead', () => {
  it('takes a sha1 or sha256 commit id, nothing else', () => {
    expect(parseHead(`${A}\n`)).toBe(A);
    expect(parseHead('c'.repeat(64))).toBe('c'.repeat(64));
    expect(parseHead(`${A} extra`)).toBeNull();
    expect(parseHead('HEAD')).toBeNull();
  });
});
