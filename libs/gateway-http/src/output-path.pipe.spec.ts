import { HubError } from '@hub/contracts';
import { parseOutputPath } from './output-path.pipe';

const refusal = (raw: unknown) => {
  try {
    parseOutputPath(raw);
  } catch (error) {
    expect(error).toBeInstanceOf(HubError);
    return (error as HubError).message;
  }
  throw new Error(`accepted ${JSON.stringify(raw)}`);
};

describe('parseOutputPath', () => {
  it('joins the route segments into a relative path', () => {
    expect(parseOutputPath(['report.md'])).toBe('report.md');
    expect(parseOutputPath(['dir', 'sub', 'file.json'])).toBe('dir/sub/file.json');
    expect(parseOutputPath(['..hidden'])).toBe('..hidden');
  });

  it('refuses what could leave the output directory', () => {
    expect(refusal(['..', 'etc', 'passwd'])).toMatch(/^path: must not contain "\.\." segments/);
    expect(refusal(['a/../../etc'])).toMatch(/"\.\."/);
    expect(refusal(['/etc/passwd'])).toMatch(/not absolute/);
    expect(refusal(['a\0b'])).toMatch(/NUL/);
    expect(refusal(['..\\x'])).toMatch(/separator/);
    expect(refusal([])).toMatch(/is required/);
  });
});
