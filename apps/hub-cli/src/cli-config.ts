import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { describeIssues } from '@hub/contracts';
import { UsageError } from './cli-error';

export const DEFAULT_HUB_URL = 'http://127.0.0.1:8080';
export const CLI_CONFIG_FILE = 'cli.json';

/** A cli.json: where the gateway is, and the file its token is in (never the token itself). */
const CliConfigFileSchema = z.strictObject({
  url: z.string().optional(),
  tokenFile: z.string().min(1).optional(),
});
type CliConfigFile = z.infer<typeof CliConfigFileSchema>;

export interface CliConfig {
  url: string;
  token: string;
}

export interface CliConfigSources {
  flags: { url?: string; token?: string };
  env: Record<string, string | undefined>;
  /** Where `.hub/cli.json` is looked for first. */
  cwd: string;
  /** Where `.config/hub/cli.json` is looked for next (or under XDG_CONFIG_HOME). */
  home: string;
}

/** The config files, in the order they are looked for; the first that exists is the one read. */
export function cliConfigFiles({ cwd, home, env }: Pick<CliConfigSources, 'cwd' | 'home' | 'env'>): string[] {
  const configHome = env['XDG_CONFIG_HOME'] || join(home, '.config');
  return [join(cwd, '.hub', CLI_CONFIG_FILE), join(configHome, 'hub', CLI_CONFIG_FILE)];
}

/**
 * The gateway's URL and token, each from the first place that gives it: a flag (--url, --token),
 * then the environment (HUB_URL, HUB_API_TOKEN), then the first config file found (its url, and
 * the token read from its tokenFile, relative to the config file). The URL defaults to the local
 * gateway; a token must come from somewhere.
 */
export async function resolveCliConfig(sources: CliConfigSources): Promise<CliConfig> {
  const { flags, env } = sources;
  const given = { url: flags.url || env['HUB_URL'], token: flags.token || env['HUB_API_TOKEN'] };
  const file = given.url && given.token ? null : await firstConfigFile(cliConfigFiles(sources));
  const [url, urlFrom] = flags.url
    ? [flags.url, '--url']
    : env['HUB_URL']
      ? [env['HUB_URL'], 'HUB_URL']
      : file?.config.url
        ? [file.config.url, `url in ${file.path}`]
        : [DEFAULT_HUB_URL, 'the default'];
  checkUrl(url, urlFrom);
  const token = given.token || (file?.config.tokenFile && (await readTokenFile(resolve(dirname(file.path), file.config.tokenFile))));
  if (!token) {
    throw new UsageError(
      `no API token: pass --token, set HUB_API_TOKEN, or give a tokenFile in ${cliConfigFiles(sources).join(' or ')} ` +
        '(`npm run hub` writes .hub/cli.json)',
    );
  }
  return { url, token };
}

/**
 * Points the CLI at a stack: `<stateDir>/cli.json` with the gateway's URL and the path of the
 * token file the gateway keeps beside it (so `hub` works from the directory holding `stateDir`).
 */
export async function writeCliConfig(stateDir: string, url: string): Promise<string> {
  const dir = resolve(stateDir);
  const path = join(dir, CLI_CONFIG_FILE);
  const config: CliConfigFile = { url, tokenFile: join(dir, 'api-token') };
  await mkdir(dir, { recursive: true });
  await writeFile(path, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  return path;
}

async function firstConfigFile(paths: string[]): Promise<{ path: string; config: CliConfigFile } | null> {
  for (const path of paths) {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw new UsageError(`cannot read ${path}: ${(error as Error).message}`);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw new UsageError(`${path} is not JSON: ${(error as Error).message}`);
    }
    const parsed = CliConfigFileSchema.safeParse(json);
    if (!parsed.success) {
      const problems = describeIssues(parsed.error).map((p) => `${p.field} ${p.problem}`);
      throw new UsageError(`${path}: ${problems.join('; ')} (it holds url and tokenFile; the token stays in the token file)`);
    }
    return { path, config: parsed.data };
  }
  return null;
}

async function readTokenFile(path: string): Promise<string> {
  let content: string;
  try {
    content = await readFile(path, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read the token file ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const token = content.trim();
  if (!token || /\s/.test(token)) throw new UsageError(`the token file ${path} must hold one token on one line`);
  return token;
}

function checkUrl(url: string, from: string): void {
  const protocol = URL.canParse(url) ? new URL(url).protocol : null;
  if (protocol !== 'http:' && protocol !== 'https:') {
    throw new UsageError(`the gateway URL from ${from} must be an http(s) URL, e.g. ${DEFAULT_HUB_URL}; got '${url}'`);
  }
}
