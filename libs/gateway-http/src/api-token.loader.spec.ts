import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { loadApiToken } from './api-token.loader';

describe('loadApiToken', () => {
  let dir: string;
  let logLines: string[];
  const logger = () => pino({ level: 'info' }, { write: (line: string) => logLines.push(line) });

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hub-token-'));
    logLines = [];
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('takes HUB_API_TOKEN first and writes no file', async () => {
    const loaded = await loadApiToken({ configured: 'from-the-environment-1234', stateDir: join(dir, 'state'), logger: logger() });
    expect(loaded).toEqual({ token: 'from-the-environment-1234', origin: 'environment' });
    await expect(stat(join(dir, 'state'))).rejects.toThrow();
  });

  it('generates a token into <dir>/api-token with mode 0600, shows it once, never logs it', async () => {
    const shown: string[] = [];
    const stateDir = join(dir, 'nested', '.hub');
    const first = await loadApiToken({ stateDir, logger: logger(), announce: (text) => shown.push(text) });

    expect(first.origin).toBe('generated');
    expect(first.token).toMatch(/^[0-9a-f]{64}$/);
    expect((await readFile(join(stateDir, 'api-token'), 'utf8')).trim()).toBe(first.token);
    expect((await stat(join(stateDir, 'api-token'))).mode & 0o777).toBe(0o600);
    expect(shown).toHaveLength(1);
    expect(shown[0]).toContain(first.token);
    expect(logLines.join('')).toContain('generated a new API token');
    expect(logLines.join('')).not.toContain(first.token);

    const second = await loadApiToken({ stateDir, logger: logger(), announce: (text) => shown.push(text) });
    expect(second).toMatchObject({ token: first.token, origin: 'file' });
    expect(shown).toHaveLength(1);
  });

  it('refuses a token file that does not hold one token', async () => {
    await writeFile(join(dir, 'api-token'), 'two words\n', { mode: 0o600 });
    await expect(loadApiToken({ stateDir: dir, logger: logger() })).rejects.toThrow(/must hold one token/);
  });
});
