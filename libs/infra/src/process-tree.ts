import type { ChildProcess } from 'node:child_process';
import { readFileSync, readlinkSync } from 'node:fs';

/** One step of a shutdown: send `signal`, then wait up to `timeoutMs` for the process to exit. */
export interface ShutdownStep {
  signal: NodeJS.Signals;
  timeoutMs: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** Resolves true once `child` has exited, false if it is still running after `timeoutMs`. */
export function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (hasExited(child)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const onExit = () => {
      clearTimeout(timer);
      resolve(true);
    };
    const timer = setTimeout(() => {
      child.off('exit', onExit);
      resolve(hasExited(child));
    }, timeoutMs);
    child.once('exit', onExit);
  });
}

/**
 * Stops a child process we spawned: sends each step's signal in turn until the process exits
 * (e.g. SIGINT, then SIGQUIT, then SIGKILL). Throws if it survives every step.
 */
export async function stopChildProcess(child: ChildProcess, steps: ShutdownStep[], what = 'process'): Promise<void> {
  // An unref'ed child would not keep the event loop alive while we wait for it.
  child.ref();
  for (const step of steps) {
    if (hasExited(child)) return;
    try {
      child.kill(step.signal);
    } catch {
      // already gone
    }
    if (await waitForExit(child, step.timeoutMs)) return;
  }
  if (!hasExited(child)) {
    throw new Error(`${what} (pid ${child.pid}) is still running after ${steps.map((s) => s.signal).join(', ')}`);
  }
}

/** True if a process with this pid exists (also when it belongs to another user). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Alive and not a zombie (a process killed whose parent has not reaped it yet counts as gone). */
export function isProcessRunning(pid: number): boolean {
  return isProcessAlive(pid) && !isZombie(pid);
}

/** The command line of a running process, or undefined if it is gone or unreadable. */
export function processCommandLine(pid: number): string[] | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((part) => part !== '');
  } catch {
    return undefined;
  }
}

/** The working directory of a running process, or undefined if it is gone or unreadable. */
export function processWorkingDirectory(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/cwd`);
  } catch {
    return undefined;
  }
}

/**
 * Stops a process we did not spawn ourselves (an orphan left by an earlier run that crashed),
 * by pid, with the same escalation as stopChildProcess. Polls because we get no exit event.
 */
export async function stopProcessByPid(pid: number, steps: ShutdownStep[], what = 'process'): Promise<void> {
  for (const step of steps) {
    if (!isProcessAlive(pid)) return;
    try {
      process.kill(pid, step.signal);
    } catch {
      // already gone
    }
    const deadline = Date.now() + step.timeoutMs;
    while (Date.now() < deadline) {
      if (!isProcessAlive(pid) || isZombie(pid)) return;
      await sleep(50);
    }
  }
  if (isProcessAlive(pid) && !isZombie(pid)) {
    throw new Error(`${what} (pid ${pid}) is still running after ${steps.map((s) => s.signal).join(', ')}`);
  }
}

function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) S ..." — comm may contain spaces or parentheses, the state follows the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return false;
  }
}

const tracked = new Map<ChildProcess, NodeJS.Signals>();
let exitHookInstalled = false;

/**
 * Sends `signal` to `child` if this Node process exits while the child still runs, so a test run
 * or launcher that forgets (or fails) to call stop() does not leave servers behind. The child is
 * forgotten as soon as it exits.
 */
export function killOnExit(child: ChildProcess, signal: NodeJS.Signals): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const [proc, sig] of tracked) {
        if (!hasExited(proc)) {
          try {
            proc.kill(sig);
          } catch {
            // nothing left to do while exiting
          }
        }
      }
    });
  }
  tracked.set(child, signal);
  child.once('exit', () => tracked.delete(child));
}
