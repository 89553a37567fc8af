import { chmodSync, closeSync, mkdirSync, openSync, readSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { logRotationFromEnv, rotateLogFile, type LogRotationPolicy } from './log-rotation';

/** A server's log file: opened for appending, handed to the child as stdout/stderr. */
export interface LogFile {
  path: string;
  /** The file descriptor to pass to spawn(); close it (closeLogFd) once the child is spawned. */
  fd: number;
  /** Size of the file when opened: what the current run wrote starts here. */
  startOffset: number;
}

/**
 * Opens (creating it and its directory) a log file to append to; past the rotation's size it is
 * rotated first (renamed to `<path>.1`: nobody writes it at that moment; see log-rotation.ts). Only its
 * owner reads it (0600, in a 0700 directory when it creates one): a log may name what a session ran.
 */
export function openLogFile(path: string, rotation: LogRotationPolicy = logRotationFromEnv()): LogFile {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  rotateLogFile(path, rotation, 'rename');
  const fd = openSync(path, 'a', 0o600);
  chmodSync(path, 0o600);
  let startOffset = 0;
  try {
    startOffset = statSync(path).size;
  } catch {
    startOffset = 0;
  }
  return { path, fd, startOffset };
}

export function closeLogFd(log: LogFile): void {
  try {
    closeSync(log.fd);
  } catch {
    // already closed
  }
}

/** What was written to the log since `fromOffset`, at most the last `maxBytes` of it. */
export function readLogSince(path: string, fromOffset = 0, maxBytes = 64 * 1024): string {
  let fd: number | undefined;
  try {
    const size = statSync(path).size;
    const start = Math.max(fromOffset, size - maxBytes, 0);
    const length = Math.max(size - start, 0);
    if (length === 0) return '';
    fd = openSync(path, 'r');
    const buffer = Buffer.alloc(length);
    const read = readSync(fd, buffer, 0, length, start);
    return buffer.subarray(0, read).toString('utf8');
  } catch {
    return '';
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** The last `lines` lines written since `fromOffset`, indented, for error messages. */
export function logTail(path: string, fromOffset = 0, lines = 30): string {
  const text = readLogSince(path, fromOffset, 16 * 1024).trimEnd();
  if (text === '') return `  (${path} is empty)`;
  return text
    .split('\n')
    .slice(-lines)
    .map((line) => `  | ${line}`)
    .join('\n');
}
