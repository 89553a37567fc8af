/** Durations, sizes, times and ids as the dashboard shows them. */

/** `850 ms`, `4.2 s`, `3 min 07 s`, `2 h 05 min`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(ms < 10_000 ? 1 : 0)} s`;
  const seconds = Math.floor(ms / 1_000);
  if (seconds < 3_600) return `${Math.floor(seconds / 60)} min ${String(seconds % 60).padStart(2, '0')} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 48 * 60) return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
  return `${Math.floor(minutes / 1_440)} d ${Math.floor((minutes % 1_440) / 60)} h`;
}

/** How long a session ran: from its start to its end, or to `now` while it runs; undefined before it started. */
export function sessionDurationMs(session: { startedAt: string | null; finishedAt: string | null }, now: number): number | undefined {
  if (!session.startedAt) return undefined;
  const end = session.finishedAt ? Date.parse(session.finishedAt) : now;
  return Math.max(0, end - Date.parse(session.startedAt));
}

/** `512 B`, `1.5 KiB`, `12 MiB`. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '—';
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** `2026-11-29 14:03:07`, in the browser's time zone; `—` for none. */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '—';
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

/** The first block of a UUID: enough to tell sessions apart on a page. */
export const shortId = (id: string): string => id.slice(0, 8);

/** A session's name, else its short id. */
export const sessionLabel = (session: { id: string; name: string | null }): string => session.name ?? shortId(session.id);
