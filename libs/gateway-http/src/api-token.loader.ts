import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { join, resolve } from 'node:path';
import { HubLogger } from '@hub/config';

export const API_TOKEN_FILE = 'api-token';

export interface ApiTokenSource {
  /** HUB_API_TOKEN, when set: it wins over the file. */
  configured?: string;
  /** HUB_STATE_DIR: the token file is `<stateDir>/api-token`. */
  stateDir: string;
  logger: HubLogger;
  /**
   * Where a newly generated token is shown to the operator; by default stdout when it is a terminal,
   * and nowhere when it is not (under the stack, stdout is the gateway's log file: `npm run hub`
   * prints the token from the file to the terminal of whoever ran it).
   */
  announce?: (text: string) => void;
}

export interface ApiToken {
  token: string;
  origin: 'environment' | 'file' | 'generated';
  /** The token file, when the token came from or went to one. */
  file?: string;
}

/**
 * The token every `/api/v1` request must carry: HUB_API_TOKEN, else the token file, else a new
 * random one written to the token file (mode 0600). The token never goes through the logger.
 */
export async function loadApiToken(source: ApiTokenSource): Promise<ApiToken> {
  if (source.configured) {
    source.logger.info('API token taken from HUB_API_TOKEN');
    return { token: source.configured, origin: 'environment' };
  }
  const file = resolve(join(source.stateDir, API_TOKEN_FILE));
  const existing = await readTokenFile(file, source.logger);
  if (existing) return { token: existing, origin: 'file', file };

  const token = randomBytes(32).toString('hex');
  await fs.mkdir(source.stateDir, { recursive: true, mode: 0o700 });
  try {
    // 'wx': if another gateway wrote the file meanwhile, use its token rather than overwrite it.
    await fs.writeFile(file, `${token}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const written = await readTokenFile(file, source.logger);
    if (written) return { token: written, origin: 'file', file };
    throw error;
  }
  source.logger.info({ file }, 'generated a new API token; clients send it as "Authorization: Bearer <token>"');
  // The one place the token is shown: printed once, to a terminal, when it is generated, so the
  // operator can copy it. It is never passed to the logger nor written to a log file.
  (source.announce ?? announceOnTerminal)(
    `\nHub API token (saved in ${file}; shown only this once):\n  ${token}\n\n`,
  );
  return { token, origin: 'generated', file };
}

function announceOnTerminal(text: string): void {
  if (process.stdout.isTTY) process.stdout.write(text);
}

async function readTokenFile(file: string, logger: HubLogger): Promise<string | null> {
  let content: string;
  try {
    content = await fs.readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new Error(`cannot read the API token file ${file}: ${(error as Error).message}`);
  }
  const token = content.trim();
  if (!token || /\s/.test(token)) {
    throw new Error(`the API token file ${file} must hold one token on one line; fix it or delete it to get a new one`);
  }
  const { mode } = await fs.stat(file);
  if (mode & 0o077) logger.warn({ file }, 'the API token file is readable by other users; run chmod 600 on it');
  logger.info({ file }, 'API token read from file');
  return token;
}
