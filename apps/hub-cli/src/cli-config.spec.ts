import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_HUB_URL, resolveCliConfig, writeCliConfig } from './cli-config';
import { UsageError } from './cli-error';

describe('the CLI configuration', () => {
  let root: string;
  let cwd: string;
  let home: string;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'hub-cli-config-'));
    cwd = join(root, 'project');
    home = join(root, 'home');
    await mkdir(cwd);
    await mkdir(home);
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  /** A cli.json at `dir`/cli.json whose token file holds `token`. */
  async function configFile(dir: string, url: string, token: string): Promise<void> {
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'token'), `${token}\n`);
    await writeFile(join(dir, 'cli.json'), JSON.stringify({ url, tokenFile: 'token' }));
  }

  const resolveWith = (flags: { url?: string; token?: string }, env: Record<string, string> = {}) => resolveCliConfig({ flags, env, cwd, home });

  it('takes each setting from a flag, else the environment, else the config file', async () => {
    await configFile(join(cwd, '.hub'), 'http://file:1', 'file-token');
    const env = { HUB_URL: 'http://env:2', HUB_API_TOKEN: 'env-token' };

    expect(await resolveWith({ url: 'http://flag:3', token: 'flag-token' }, env)).toEqual({ url: 'http://flag:3', token: 'flag-token' });
    expect(await resolveWith({}, env)).toEqual({ url: 'http://env:2', token: 'env-token' });
    expect(await resolveWith({ token: 'flag-token' }, env)).toEqual({ url: 'http://env:2', token: 'flag-token' });
    expect(await resolveWith({})).toEqual({ url: 'http://file:1', token: 'file-token' });
    expect(await resolveWith({}, { HUB_URL: 'http://env:2' })).toEqual({ url: 'http://env:2', token: 'file-token' });
  });

  it("reads .hub/cli.json in the current directory before ~/.config/hub/cli.json, and that one before the default URL", async () => {
    await configFile(join(home, '.config', 'hub'), 'http://home:4', 'home-token');
    expect(await resolveWith({})).toEqual({ url: 'http://home:4', token: 'home-token' });

    await configFile(join(cwd, '.hub'), 'http://here:5', 'here-token');
    expect(await resolveWith({})).toEqual({ url: 'http://here:5', token: 'here-token' });

    await rm(join(home, '.config'), { recursive: true });
    await rm(join(cwd, '.hub'), { recursive: true });
    expect(await resolveWith({ token: 't' })).toEqual({ url: DEFAULT_HUB_URL, token: 't' });
  });

  it('is a usage error (exit 2) without a token, or with a token in the config file itself, naming what to do', async () => {
    await expect(resolveWith({})).rejects.toThrow(/no API token: pass --token, set HUB_API_TOKEN/);
    await expect(resolveWith({})).rejects.toMatchObject({ exitCode: 2 });

    await mkdir(join(cwd, '.hub'));
    await writeFile(join(cwd, '.hub', 'cli.json'), JSON.stringify({ url: 'http://x:1', token: 'secret' }));
    await expect(resolveWith({})).rejects.toThrow(/token is not a known field.*the token stays in the token file/);
  });

  it('refuses a URL that is not http(s), naming where it came from', async () => {
    await expect(resolveWith({ url: 'ftp://x', token: 't' })).rejects.toThrow(new UsageError("the gateway URL from --url must be an http(s) URL, e.g. http://127.0.0.1:8080; got 'ftp://x'"));
    await expect(resolveWith({ token: 't' }, { HUB_URL: 'nonsense' })).rejects.toThrow(/from HUB_URL/);
  });

  it('is written by writeCliConfig for a stack: mode 0600, the token file beside it, no token inside', async () => {
    const stateDir = join(cwd, '.hub');
    await mkdir(stateDir);
    await writeFile(join(stateDir, 'api-token'), 'stack-token\n', { mode: 0o600 });

    const path = await writeCliConfig(stateDir, 'http://127.0.0.1:8080');

    expect(path).toBe(join(stateDir, 'cli.json'));
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual({ url: 'http://127.0.0.1:8080', tokenFile: join(stateDir, 'api-token') });
    expect(await resolveWith({})).toEqual({ url: 'http://127.0.0.1:8080', token: 'stack-token' });
  });
});
