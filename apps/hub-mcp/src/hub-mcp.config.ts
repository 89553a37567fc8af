import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { CommonConfigSchema } from '@hub/config';

/** The repository's own state directory, where `npm run hub` keeps the gateway's token. */
const REPOSITORY_STATE_DIR = resolve(__dirname, '../../../.hub');

export const HubMcpConfigSchema = CommonConfigSchema.pick({ LOG_LEVEL: true }).extend({
  /** The gateway whose REST API the tools call. */
  HUB_URL: z.url({ protocol: /^https?$/, message: 'must be the gateway URL, e.g. http://127.0.0.1:8080' }).default('http://127.0.0.1:8080'),
  /** When unset, the token is read from `<HUB_STATE_DIR>/api-token` (written by the gateway). */
  HUB_API_TOKEN: z.string().regex(/^\S+$/, 'must not contain whitespace').optional(),
  HUB_STATE_DIR: z.string().min(1).default(REPOSITORY_STATE_DIR),
});
export type HubMcpConfig = z.infer<typeof HubMcpConfigSchema>;

/** HUB_API_TOKEN, else the gateway's token file; never generated here (only the gateway does). */
export async function apiTokenOf(config: HubMcpConfig): Promise<string> {
  if (config.HUB_API_TOKEN) return config.HUB_API_TOKEN;
  const file = join(resolve(config.HUB_STATE_DIR), 'api-token');
  let content: string;
  try {
    content = await readFile(file, 'utf8');
  } catch (error) {
    throw new Error(
      `no API token: set HUB_API_TOKEN to the gateway's token, or HUB_STATE_DIR to the directory holding its api-token file ` +
        `(cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
    );
  }
  const token = content.trim();
  if (!token || /\s/.test(token)) throw new Error(`the API token file ${file} must hold one token on one line`);
  return token;
}
