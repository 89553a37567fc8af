import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { join, resolve } from 'node:path';
import type { HubLogger } from '@hub/config';

export const API_KEY_PEPPER_FILE = 'api-key-pepper';

export interface ApiKeyPepperSource {
  /** HUB_API_KEY_PEPPER, when set: it wins over the file. */
  configured?: string;
  /** HUB_STATE_DIR: the pepper file is `<stateDir>/api-key-pepper`. */
  stateDir: string;
  logger: HubLogger;
}

/**
 * The key every API key's secret is hashed with (HMAC): HUB_API_KEY_PEPPER, else the state dir's
 * `api-key-pepper`, else a new random one written there (0600), the way the stack keeps its other
 * generated secrets. It never goes through the logger. Lose it and every API key stops working.
 */
export async function loadApiKeyPepper(source: ApiKeyPepperSource): Promise<string> {
  if (source.configured) return source.configured;
  const file = resolve(join(source.stateDir, API_KEY_PEPPER_FILE));
  const existing = await readPepperFile(file, source.logger);
  if (existing) return existing;
  await fs.mkdir(source.stateDir, { recursive: true, mode: 0o700 });
  const pepper = randomBytes(32).toString('base64url');
  try {
    // 'wx': if another registry wrote the file meanwhile, use its pepper rather than overwrite it.
    await fs.writeFile(file, `${pepper}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const written = await readPepperFile(file, source.logger);
    if (written) return written;
    throw error;
  }
  source.logger.info({ file }, 'generated the API key pepper');
  return pepper;
}

async function readPepperFile(file: string, logger: HubLogger): Promise<string | null> {
  let content: string;
  try {
    content = await fs.readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new Error(`cannot read the API key pepper ${file}: ${(error as Error).message}`);
  }
  const pepper = content.trim();
  if (pepper.length < 32 || /\s/.test(pepper)) {
    throw new Error(`the API key pepper ${file} must hold one value of at least 32 characters on one line (deleting it invalidates every API key)`);
  }
  const { mode } = await fs.stat(file);
  if (mode & 0o077) logger.warn({ file }, 'the API key pepper is readable by other users; run chmod 600 on it');
  return pepper;
}
