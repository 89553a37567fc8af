import { HTTP_STATUS_OF, HubError } from '@hub/contracts';
import { HttpProblem } from '@hub/hub-api';

/** What the CLI says on stderr when it stops, and its exit code (1: it failed). */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** The command was called wrongly (a missing setting, a bad option value): exit code 2. */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, 2);
    this.name = 'UsageError';
  }
}

/**
 * HttpHubApi's own words when no HTTP answer came at all (refused, timed out): such an error is
 * an `unavailable` HubError too, but it has no HTTP status to show.
 */
const UNREACHABLE = /^(cannot reach the Hub gateway|the Hub gateway at \S+ did not answer)/;

/** One line for stderr and the exit code, for anything a command threw. */
export function describeFailure(error: unknown): { line: string; exitCode: number } {
  const oneLine = (text: string) => text.replace(/\s*\n\s*/g, '; ').trim();
  if (error instanceof CliError) return { line: oneLine(error.message), exitCode: error.exitCode };
  if (error instanceof HubError) {
    const answer = UNREACHABLE.test(error.message) ? '' : ` (HTTP ${HTTP_STATUS_OF[error.code]} ${error.code})`;
    return { line: `${oneLine(error.message)}${answer}`, exitCode: 1 };
  }
  if (error instanceof HttpProblem) return { line: `${oneLine(error.message)} (HTTP ${error.status} ${error.code})`, exitCode: 1 };
  return { line: oneLine((error as Error)?.message ?? String(error)), exitCode: 1 };
}

/** Whether the API answered that the thing asked for does not exist. */
export const isNotFound = (error: unknown): boolean => error instanceof HubError && error.code === 'not_found';
