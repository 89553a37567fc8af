import type { OrchestrationStatus, SessionStatus } from '@hub/contracts';
import type { Colors } from './terminal';

type Paint = keyof Pick<Colors, 'green' | 'red' | 'yellow' | 'cyan' | 'blue' | 'gray' | 'magenta'>;

/** How each status is shown: a symbol, a word and a colour. */
const SESSION_STYLE: Record<SessionStatus, { symbol: string; label: string; paint: Paint }> = {
  created: { symbol: '○', label: 'created', paint: 'gray' },
  waiting: { symbol: '○', label: 'waiting', paint: 'gray' },
  ready: { symbol: '◌', label: 'ready', paint: 'blue' },
  starting: { symbol: '◐', label: 'starting', paint: 'cyan' },
  running: { symbol: '●', label: 'running', paint: 'cyan' },
  completed: { symbol: '✔', label: 'completed', paint: 'green' },
  failed: { symbol: '✖', label: 'failed', paint: 'red' },
  cancelled: { symbol: '⊘', label: 'cancelled', paint: 'yellow' },
  timed_out: { symbol: '⏱', label: 'timed out', paint: 'red' },
  skipped: { symbol: '↷', label: 'skipped', paint: 'gray' },
};

const ORCHESTRATION_PAINT: Record<OrchestrationStatus, Paint> = {
  pending: 'gray',
  running: 'cyan',
  completed: 'green',
  failed: 'red',
  cancelled: 'yellow',
};

export const statusSymbol = (status: SessionStatus): string => SESSION_STYLE[status].symbol;
export const statusLabel = (status: SessionStatus): string => SESSION_STYLE[status].label;
export const paintStatus = (colours: Colors, status: SessionStatus, text: string): string => colours[SESSION_STYLE[status].paint](text);
export const paintOrchestrationStatus = (colours: Colors, status: OrchestrationStatus, text: string = status): string =>
  colours[ORCHESTRATION_PAINT[status]](text);
