import type { OrchestrationStatus, SessionStatus } from '@hub/contracts';

/** Every session status, in lifecycle order (the contracts' SESSION_STATUSES: a status added there fails to compile here). */
export const STATUSES = ['created', 'waiting', 'ready', 'starting', 'running', 'completed', 'failed', 'cancelled', 'timed_out', 'skipped'] as const satisfies readonly SessionStatus[];
type Unlisted = Exclude<SessionStatus, (typeof STATUSES)[number]>;
const everyStatusListed: [Unlisted] extends [never] ? true : never = true;
void everyStatusListed;

export const ORCHESTRATION_STATUSES = ['pending', 'running', 'completed', 'failed', 'cancelled'] as const satisfies readonly OrchestrationStatus[];

const ENDED: readonly SessionStatus[] = ['completed', 'failed', 'cancelled', 'timed_out', 'skipped'];
/** Ended any way but completed: what an orchestration's retry runs again. */
const NOT_COMPLETED: readonly SessionStatus[] = ['failed', 'cancelled', 'timed_out', 'skipped'];

export const isEnded = (status: SessionStatus): boolean => ENDED.includes(status);
export const isNotCompleted = (status: SessionStatus): boolean => NOT_COMPLETED.includes(status);
/** A follow of its log has something to wait for: it will run, or runs. */
export const mayPrintLog = (status: SessionStatus): boolean => status === 'waiting' || status === 'ready' || status === 'starting' || status === 'running';

/** How a status reads to people. */
export const statusLabel = (status: SessionStatus | OrchestrationStatus): string => status.replace('_', ' ');

export const isSessionStatus = (value: string): value is SessionStatus => (STATUSES as readonly string[]).includes(value);
export const isOrchestrationStatus = (value: string): value is OrchestrationStatus => (ORCHESTRATION_STATUSES as readonly string[]).includes(value);
