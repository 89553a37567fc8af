import { chown, lstat, mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import type { HubLogger } from '@hub/config';
import { RUNNER_SETTINGS, RunnerSettings } from '../runner.tokens';
import { escapeRegExp } from '@hub/contracts';
import { removeTree } from './remove-tree';
import { withoutHostPaths } from '@hub/git';

/** The host directories of one attempt: what the container mounts, and where Hub keeps its capture. */
export interface AttemptPaths {
  /** Mounted read-write at /hub/output. */
  outputDir: string;
  /** Each dependency's outputs, mounted read-only at /hub/inputs/<name>. */
  inputsDir: string;
  /** The prompt, mounted read-only at /hub/prompt. */
  promptFile: string;
  /** What the session is told besides its prompt, mounted read-only at /hub/context (written only when it has one). */
  contextFile: string;
  /** Where Hub writes the captured log (never mounted). */
  captureDir: string;
  /** The session's git workspace, mounted read-write at /workspace. */
  workspaceDir: string;
}

/**
 * A session's directories on the runner's host, under `<dataDir>/sessions/<id>/`: made for each
 * attempt, removed whole when the attempt ends (whatever its outcome, however deep the agent's
 * tree), and swept at start for sessions a crashed runner left behind.
 */
@Injectable()
export class AttemptFiles {
  constructor(@Inject(RUNNER_SETTINGS) private readonly settings: RunnerSettings) {}

  pathsOf(sessionId: string, attempt: number): AttemptPaths {
    const attemptDir = join(this.sessionsDir, sessionId, `attempt-${attempt}`);
    return {
      outputDir: join(attemptDir, 'output'),
      inputsDir: join(attemptDir, 'inputs'),
      promptFile: join(attemptDir, 'prompt'),
      contextFile: join(attemptDir, 'context'),
      captureDir: join(attemptDir, 'capture'),
      workspaceDir: join(attemptDir, 'workspace'),
    };
  }

  /** A fresh attempt directory: the output directory owned by the agent's user, the prompt (and context) written. */
  async prepare(sessionId: string, attempt: number, prompt: string, context: string | null = null): Promise<AttemptPaths> {
    const paths = this.pathsOf(sessionId, attempt);
    await removeTree(join(this.sessionsDir, sessionId));
    await mkdir(paths.outputDir, { recursive: true, mode: 0o755 });
    await mkdir(paths.captureDir, { recursive: true, mode: 0o700 });
    const [uid, gid] = agentIdsOf(this.settings.containerUser);
    await chown(paths.outputDir, uid, gid);
    await writeFile(paths.promptFile, prompt, { mode: 0o644 });
    if (context !== null) await writeFile(paths.contextFile, context, { mode: 0o644 });
    return paths;
  }

  /** The capture directory of an adopted attempt (its output directory is the container's already). */
  async prepareCapture(sessionId: string, attempt: number): Promise<AttemptPaths> {
    const paths = this.pathsOf(sessionId, attempt);
    await mkdir(paths.captureDir, { recursive: true, mode: 0o700 });
    return paths;
  }

  /**
   * Removes everything the session had on this host. Inputs and outputs are copies of what the
   * object store keeps (outputs uploaded, masked, before the report), so no unmasked secret an
   * agent wrote stays on the runner's disk. False when it could not (logged).
   */
  async discard(sessionId: string, log: HubLogger): Promise<boolean> {
    return removeTree(join(this.sessionsDir, sessionId)).then(
      () => true,
      (error) => {
        log.warn({ err: this.scrub((error as Error).message) }, 'could not remove the session directory');
        return false;
      },
    );
  }

  /** Removes the directories of sessions this runner no longer holds (left by a runner that crashed). */
  async sweep(keep: (sessionId: string) => boolean, log: HubLogger): Promise<number> {
    const entries = await readdir(this.sessionsDir).catch(() => [] as string[]);
    let removed = 0;
    for (const sessionId of entries) {
      if (keep(sessionId)) continue;
      await this.discard(sessionId, log);
      removed++;
    }
    return removed;
  }

  /**
   * Every session directory on this host, with when it or one of its attempt directories last
   * changed (entries made or removed in them): what the janitor judges by.
   */
  async sessionDirectories(): Promise<{ sessionId: string; modifiedAt: Date }[]> {
    const entries = await readdir(this.sessionsDir, { withFileTypes: true }).catch(() => []);
    const directories: { sessionId: string; modifiedAt: Date }[] = [];
    for (const entry of entries) {
      if (!entry.isDirectory()) continue;
      const dir = join(this.sessionsDir, entry.name);
      const inside = await readdir(dir).catch(() => [] as string[]);
      const times = await Promise.all([dir, ...inside.map((name) => join(dir, name))].map((path) => lstat(path).then((s) => s.mtimeMs, () => 0)));
      directories.push({ sessionId: entry.name, modifiedAt: new Date(Math.max(...times)) });
    }
    return directories;
  }

  /**
   * A message fit for users: an attempt's output and input directories named as the container sees
   * them (/hub/output, /hub/inputs), any other host path under the runner's data directory hidden.
   */
  scrub(message: string): string {
    const attemptDir = new RegExp(`${escapeRegExp(this.sessionsDir)}/[^/\\s'"]+/attempt-\\d+/(output|inputs)`, 'g');
    return withoutHostPaths(message.replace(attemptDir, (_match, dir: string) => `/hub/${dir}`), [this.settings.dataDir]);
  }

  private get sessionsDir(): string {
    return join(this.settings.dataDir, 'sessions');
  }
}

/** The agent's uid and gid from `uid:gid` (a lone uid is its own group). */
export function agentIdsOf(containerUser: string): [number, number] {
  const [uid, gid] = containerUser.split(':').map(Number);
  return [uid, gid ?? uid];
}
