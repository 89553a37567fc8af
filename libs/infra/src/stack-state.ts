import { promises as fs, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { HubServiceName, ServiceStatus } from './hub-service';
import { isProcessRunning, processCommandLine, stopProcessByPid } from './process-tree';

/** What `npm run hub` leaves in <stateDir>/stack.json so later commands can find the running stack. */
export interface StackState {
  pid: number;
  gatewayUrl: string;
  natsUrl: string;
  databaseUrl: string;
  logDir: string;
  startedAt: string;
  /** The build its services run (buildServices' id); absent for a stack that ran them from sources. */
  buildId?: string;
  /** Each service as its supervisor last saw it (rewritten on every change). */
  services?: Partial<Record<HubServiceName, ServiceStatus>>;
  /** Where each service answers `GET /metrics` (HubStack.metricsUrls). */
  metricsUrls?: Partial<Record<HubServiceName, string>>;
}

export const stackStateFile = (stateDir: string) => join(stateDir, 'stack.json');

/** Written whole or not at all (a reader never sees half a file). */
export async function writeStackState(stateDir: string, state: StackState): Promise<void> {
  const file = stackStateFile(stateDir);
  const temporary = `${file}.${process.pid}.tmp`;
  await fs.writeFile(temporary, JSON.stringify(state, null, 2) + '\n', { mode: 0o600 });
  await fs.rename(temporary, file);
}

/** The running stack's state, or undefined when none runs (a stale file is ignored). */
export async function readStackState(stateDir: string): Promise<StackState | undefined> {
  const state = await readStackFile(stateDir);
  return state && isProcessRunning(state.pid) ? state : undefined;
}

/** What stack.json says, whether or not its stack process still runs. */
export async function readStackFile(stateDir: string): Promise<StackState | undefined> {
  try {
    return JSON.parse(await fs.readFile(stackStateFile(stateDir), 'utf8')) as StackState;
  } catch {
    return undefined;
  }
}

/**
 * Stops a running stack as `npm run hub:down` does (SIGTERM: its services stop, their sessions'
 * containers keep running for the next runner to adopt) and waits until its process is gone.
 */
export async function stopStackProcess(stack: StackState, timeoutMs = 60_000): Promise<void> {
  process.kill(stack.pid, 'SIGTERM');
  for (let waited = 0; isProcessRunning(stack.pid); waited += 200) {
    if (waited > timeoutMs) throw new Error(`the stack (pid ${stack.pid}) is still running after ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export async function clearStackState(stateDir: string): Promise<void> {
  await fs.rm(stackStateFile(stateDir), { force: true });
}

/**
 * Service processes a stack process that died (kill -9, a crash) left running: their supervisor is
 * gone, and they hold the gateway's port and their NATS and PostgreSQL connections. Stops those
 * stack.json lists that still run this stack's service (same command line and state directory);
 * returns the names of those it stopped. A pid now used by another program is left alone.
 */
export async function stopLeftoverServices(stateDir: string): Promise<string[]> {
  const state = await readStackFile(stateDir);
  if (!state || isProcessRunning(state.pid)) return [];
  const stopped: string[] = [];
  for (const [name, status] of Object.entries(state.services ?? {})) {
    const pid = status?.pid;
    if (!pid || !isProcessRunning(pid) || !isServiceOf(pid, name, stateDir)) continue;
    await stopProcessByPid(
      pid,
      [
        { signal: 'SIGTERM', timeoutMs: 20_000 },
        { signal: 'SIGKILL', timeoutMs: 5_000 },
      ],
      `${name} left running by a stack that died`,
    );
    stopped.push(`${name} (pid ${pid})`);
  }
  return stopped;
}

function isServiceOf(pid: number, name: string, stateDir: string): boolean {
  const cmdline = processCommandLine(pid);
  // main.js: the compiled service; main.ts: a stack of a version that ran services from their sources.
  const entryPoints = [join('apps', name, 'src', 'main.js'), join('apps', name, 'src', 'main.ts')];
  if (!cmdline?.some((part) => entryPoints.some((entry) => part.endsWith(entry)))) return false;
  try {
    const environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
    const dir = environ.find((entry) => entry.startsWith('HUB_STATE_DIR='))?.slice('HUB_STATE_DIR='.length);
    return dir !== undefined && resolve(dir) === resolve(stateDir);
  } catch {
    return false;
  }
}
