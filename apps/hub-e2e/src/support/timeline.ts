import type { SessionView } from '@hub/contracts';

export const started = (s: SessionView) => Date.parse(s.startedAt!);
export const finished = (s: SessionView) => Date.parse(s.finishedAt!);

/** The most sessions whose containers ran at the same moment, from their start and finish times. */
export function maxOverlap(sessions: SessionView[]): number {
  const points = sessions.flatMap((s) => [
    { at: started(s), delta: 1 },
    { at: finished(s), delta: -1 },
  ]);
  points.sort((a, b) => a.at - b.at || a.delta - b.delta);
  let running = 0;
  let most = 0;
  for (const point of points) most = Math.max(most, (running += point.delta));
  return most;
}

export const byName = (sessions: SessionView[]) => Object.fromEntries(sessions.map((s) => [s.name!, s]));
