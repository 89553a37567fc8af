import { homedir } from 'node:os';
import type { Command } from 'commander';
import { type HubApi, type HubEventStream, HttpHubApi } from '@hub/hub-api';
import { resolveCliConfig } from './cli-config';
import { processTerminal, type Terminal } from './terminal';

/** The options every command takes (they may come before or after its name). */
export interface GlobalOptions {
  url?: string;
  token?: string;
}

/** Hub as the commands reach it: its API, and its events as they happen. */
export type CliHub = HubApi & HubEventStream;

/** What a command runs with: where it writes, and how it reaches Hub. */
export interface CliContext {
  terminal: Terminal;
  /** Hub's API at the URL and with the token from the command's flags, the environment or a cli.json. */
  connect(command: Command): Promise<CliHub>;
}

export function processContext(): CliContext {
  return {
    terminal: processTerminal(),
    async connect(command) {
      const { url, token } = command.optsWithGlobals<GlobalOptions>();
      const config = await resolveCliConfig({ flags: { url, token }, env: process.env, cwd: process.cwd(), home: homedir() });
      return new HttpHubApi({ baseUrl: config.url, apiToken: config.token });
    },
  };
}
