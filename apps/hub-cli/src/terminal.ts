import { once } from 'node:events';
import type { Readable } from 'node:stream';
import { createColors } from 'picocolors';
import type { Colors } from 'picocolors/types';

export type { Colors };

/** Where a command writes, and what that place can show. */
export interface Terminal {
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
  /** stdout is a terminal: the watch redraws in place; otherwise it prints one line per change. */
  live: boolean;
  /** Colours on stdout: only on a terminal, and never with NO_COLOR or TERM=dumb. */
  colours: Colors;
  /** Its width (Infinity when not a terminal: nothing is cut). */
  columns(): number;
  rows(): number;
}

export function processTerminal(): Terminal {
  const live = Boolean(process.stdout.isTTY) && process.env['TERM'] !== 'dumb';
  return {
    out: process.stdout,
    err: process.stderr,
    live,
    colours: createColors(live && !process.env['NO_COLOR']),
    columns: () => process.stdout.columns || Infinity,
    rows: () => process.stdout.rows || Infinity,
  };
}

/** Copies a stream to `out` without ending it (stdout must stay open). */
export async function copyTo(out: NodeJS.WritableStream, content: Readable): Promise<void> {
  for await (const chunk of content) {
    if (!out.write(chunk)) await once(out, 'drain');
  }
}

/**
 * Ctrl-C (SIGINT) and SIGTERM abort `signal` instead of ending the process, so that a command that
 * follows something stops cleanly; `release` gives them back.
 */
export function interruption(): { signal: AbortSignal; release(): void } {
  const interrupted = new AbortController();
  const interrupt = () => interrupted.abort();
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  return {
    signal: interrupted.signal,
    release: () => {
      process.off('SIGINT', interrupt);
      process.off('SIGTERM', interrupt);
    },
  };
}
