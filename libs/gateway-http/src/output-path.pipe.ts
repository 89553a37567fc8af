import { PipeTransform } from '@nestjs/common';
import { badRequest } from '@hub/contracts';

const MAX_PATH_LENGTH = 4096;

/**
 * The relative path of an output file, from a `*path` route parameter (express gives its segments,
 * already %-decoded). Refuses what could reach outside a session's output: `..`, an absolute path,
 * NUL, backslashes. The file is then served only if the session's output listing has that path.
 */
export function parseOutputPath(raw: unknown): string {
  const path = Array.isArray(raw) ? raw.join('/') : String(raw ?? '');
  const refuse = (why: string) => badRequest(`path: ${why}`, [{ path: 'path', message: why }]);
  if (!path) throw refuse('is required');
  if (path.length > MAX_PATH_LENGTH) throw refuse(`must be at most ${MAX_PATH_LENGTH} characters`);
  if (path.includes('\0')) throw refuse('must not contain NUL');
  if (path.includes('\\')) throw refuse('must use / as separator, not \\');
  if (path.startsWith('/')) throw refuse('must be relative to the output directory, not absolute');
  if (path.split('/').some((segment) => segment === '..')) throw refuse('must not contain ".." segments');
  return path;
}

export const OutputPathPipe: PipeTransform<unknown, string> = { transform: parseOutputPath };
