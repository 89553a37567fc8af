import type { ContainerTimes, InstalledContainer } from '../ports/installation-containers.port';

/** A container of this installation, with its times when they were read (only those of absent runners are). */
export interface JanitorContainer extends InstalledContainer {
  times?: ContainerTimes;
}

/** A session's directory under `<dataDir>/sessions/`, and when it (or one of its attempt directories) last changed. */
export interface SessionDirectory {
  sessionId: string;
  modifiedAt: Date;
}

/** What one janitor pass sees. */
export interface JanitorView {
  now: Date;
  /** This runner: its own containers are never the janitor's (it adopts them). */
  runnerId: string;
  graceMs: number;
  /** Runners with a heartbeat entry now (this one included). */
  presentRunners: ReadonlySet<string>;
  /**
   * When this janitor first saw each absent runner without a heartbeat (its own memory: a restarted
   * runner starts again from its first pass).
   */
  absentSince: ReadonlyMap<string, Date>;
  /** The containers labelled with this installation. */
  containers: readonly JanitorContainer[];
  /** Sessions with a container on the engine, whatever its installation (before this pass removes any). */
  sessionsWithContainers: readonly { sessionId: string; containerId: string }[];
  directories: readonly SessionDirectory[];
  /** Sessions this runner holds: their directories are its own. */
  holds: (sessionId: string) => boolean;
}

export interface ContainerRemoval {
  container: JanitorContainer;
  why: string;
}

export interface DirectoryRemoval {
  sessionId: string;
  why: string;
}

export interface JanitorDecision {
  containers: ContainerRemoval[];
  directories: DirectoryRemoval[];
}

/** Docker states in which a container is still running something. */
const RUNNING_STATES = new Set(['running', 'paused', 'restarting']);

/**
 * What the janitor removes, given what it sees.
 *
 * A container is removed when it is labelled with this installation, its runner is another one, that
 * runner has no heartbeat, and it has been left alone longer than the grace. When that began cannot
 * be read from the heartbeat (an expired entry says nothing), so it is read from the container:
 * - exited or dead: since it finished. Its runner, had it been there, would have collected it within
 *   seconds (or at its next reconciliation) and removed it;
 * - created and never started: since it was created (its runner would have started or removed it);
 * - running: since the later of its start and the moment this janitor first saw its runner absent.
 *   A running container says nothing of when its runner went, so the janitor's own observation is
 *   the clock; a runner that is only restarting (an upgrade) is back long before, and adopts it.
 * Containers of present runners, of this runner, without a runner label, or being removed, stay.
 *
 * A session's directory is removed when no container of that session remains on the engine (any
 * installation's; those removed in this pass do not count), this runner does not hold the session,
 * and nothing in it has changed for longer than the grace. That is what a gone runner leaves (its
 * containers are removed first), and it keeps the directories of live runners sharing the data
 * directory: a container exists while its attempt runs, and a directory being prepared is new.
 */
export function decideCleanup(view: JanitorView): JanitorDecision {
  const containers: ContainerRemoval[] = [];
  for (const container of view.containers) {
    const why = whyRemove(container, view);
    if (why) containers.push({ container, why });
  }

  const removed = new Set(containers.map((r) => r.container.containerId));
  const remaining = new Set(view.sessionsWithContainers.filter((c) => !removed.has(c.containerId)).map((c) => c.sessionId));
  // A removed helper of a session whose own container stays (or the other way round) keeps its directory.
  for (const c of view.containers) if (c.sessionId && !removed.has(c.containerId)) remaining.add(c.sessionId);

  const directories: DirectoryRemoval[] = [];
  for (const dir of view.directories) {
    if (view.holds(dir.sessionId) || remaining.has(dir.sessionId)) continue;
    const idleMs = view.now.getTime() - dir.modifiedAt.getTime();
    if (idleMs < view.graceMs) continue;
    directories.push({ sessionId: dir.sessionId, why: `no container of its session is left, and it has not changed for ${duration(idleMs)}` });
  }
  return { containers, directories };
}

/** Why the container goes, or null when it stays. */
function whyRemove(container: JanitorContainer, view: JanitorView): string | null {
  const { runnerId } = container;
  if (!runnerId || runnerId === view.runnerId || view.presentRunners.has(runnerId)) return null;
  const since = leftSince(container, view.absentSince.get(runnerId) ?? view.now);
  if (!since) return null;
  const leftMs = view.now.getTime() - since.at.getTime();
  if (leftMs < view.graceMs) return null;
  return `runner ${runnerId} has no heartbeat; the container ${since.what(duration(leftMs))} (grace ${duration(view.graceMs)})`;
}

/**
 * Since when the container has been without its runner, as far as can be told, and how to say it;
 * null: it stays (being removed, or its times unknown).
 */
function leftSince(container: JanitorContainer, absentSince: Date): { at: Date; what: (ago: string) => string } | null {
  const { state, times, createdAt } = container;
  if (state === 'removing' || !times) return null;
  if (state === 'created') return { at: createdAt, what: (ago) => `was created ${ago} ago and never started` };
  if (RUNNING_STATES.has(state)) {
    const started = times.startedAt ?? createdAt;
    return started > absentSince
      ? { at: started, what: (ago) => `started ${ago} ago, its runner already absent` }
      : { at: absentSince, what: (ago) => `is still running, its runner absent since this janitor first looked ${ago} ago` };
  }
  // exited, dead
  return { at: times.finishedAt ?? times.startedAt ?? createdAt, what: (ago) => `finished ${ago} ago` };
}

function duration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}
