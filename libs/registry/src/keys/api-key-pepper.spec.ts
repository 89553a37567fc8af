import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { API_KEY_PEPPER_FILE, loadApiKeyPepper } from './api-key-pepper';

describe('the API key pepper', () => {
  const logger = pino({ level: 'silent' });
  let stateDir: string;

  beforeEach(async () => (stateDir = await mkdtemp(join(tmpdir(), 'hub-pepper-'))));
  afterEach(() => rm(stateDir, { recursive: true, force: true }));

  it('is HUB_API_KEY_PEPPER when set, and then no file is written', async () => {
    expect(await loadApiKeyPepper({ configured: 'c'.repeat(32), stateDir, logger })).toBe('c'.repeat(32));
    await expect(stat(join(stateDir, API_KEY_PEPPER_FILE))).rejects.toThrow('ENOENT');
  });

  it('is generated once into the state directory, readable by its owner only, and read again after', async () => {
    const first = await loadApiKeyPepper({ stateDir, logger });
    const file = join(stateDir, API_KEY_PEPPER_FILE);
    expect(first.length).toBeGreaterThanOrEqual(32);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await readFile(file, 'utf8')).trim()).toBe(first);
    expect(await loadApiKeyPepper({ stateDir, logger })).toBe(first);
  });

  it('refuses a file that holds no pepper', async () => {
    await writeFile(join(stateDir, API_KEY_PEPPER_FILE), 'short\n', { mode: 0o600 });
    await expect(loadApiKeyPepper({ stateDir, logger })).rejects.toThrow('must hold one value of at least 32 characters');
  });
});
