import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { isProcessAlive } from './process-tree';

/** What `npm run hub` leaves in <stateDir>/stack.json so later commands can find the running stack. */
export interface StackState {
  pid: number;
  gatewayUrl: string;
  natsUrl: string;
  databaseUrl: string;
  logDir: string;
  startedAt: string;
}

export const stackStateFile = (stateDir: string) => join(stateDir, 'stack.json');

export async function writeStackState(stateDir: string, state: StackState): Promise<void> {
  await fs.writeFile(stackStateFile(stateDir), JSON.stringify(state, null, 2) + '\n');
}

/** The running stack's state, or undefined when none runs (a stale file is ignored). */
export async function readStackState(stateDir: string): Promise<StackState | undefined> {
  try {
    const state = JSON.parse(await fs.readFile(stackStateFile(stateDir), 'utf8')) as StackState;
    return isProcessAlive(state.pid) ? state : undefined;
  } catch {
    return undefined;
  }
}

export async function clearStackState(stateDir: string): Promise<void> {
  await fs.rm(stackStateFile(stateDir), { force: true });
}
