import type { SessionView } from '@hub/contracts';

export const plural = (n: number, noun: string): string => `${n} ${noun}${n === 1 ? '' : 's'}`;

const KIB = 1024;
/** 124 B, 3.2 KiB, 1.5 MiB. */
export const formatSize = (bytes: number): string =>
  bytes < KIB ? `${bytes} B` : bytes < KIB * KIB ? `${(bytes / KIB).toFixed(1)} KiB` : `${(bytes / KIB / KIB).toFixed(1)} MiB`;

/** 0.8s, 12s, 1m05s, 2h03m. */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, ms) / 1000;
  if (seconds < 10) return `${seconds.toFixed(1)}s`;
  if (seconds < 60) return `${Math.floor(seconds)}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${String(Math.floor(seconds % 60)).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}

/** How long ago: 12s, 3m, 2h, 4d. */
export function formatAge(iso: string, now: number): string {
  const seconds = Math.max(0, Math.floor((now - Date.parse(iso)) / 1000));
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86_400)}d`;
}

/** Running: how long it has run so far; ended: finishedAt − startedAt; never started: ''. */
export function sessionDuration(session: Pick<SessionView, 'startedAt' | 'finishedAt'>, now: number): string {
  if (!session.startedAt) return '';
  const end = session.finishedAt ? Date.parse(session.finishedAt) : now;
  return formatDuration(end - Date.parse(session.startedAt));
}

/** 12:00:01, in local time. */
export function clockTime(at: Date): string {
  return [at.getHours(), at.getMinutes(), at.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}
