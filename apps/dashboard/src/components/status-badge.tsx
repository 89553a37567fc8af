import type { OrchestrationStatus, SessionStatus } from '@hub/contracts';
import { statusLabel } from '../model/statuses';

/** A status in words, coloured by it (the words carry it; the colour only helps). */
export function StatusBadge({ status }: { status: SessionStatus | OrchestrationStatus }) {
  return (
    <span className={`status status-${status}`} data-status={status}>
      {statusLabel(status)}
    </span>
  );
}
