import type { SessionCounts } from '@hub/contracts';
import { STATUSES } from '../model/statuses';
import { StatusBadge } from './status-badge';

/** How many sessions are in each status (those with none left out). */
export function StatusCounts({ counts, label }: { counts: SessionCounts; label: string }) {
  const present = STATUSES.filter((status) => counts[status] > 0);
  if (!present.length) return <p className="muted">No sessions.</p>;
  return (
    <ul className="counts" aria-label={label}>
      {present.map((status) => (
        <li key={status} data-status={status}>
          <StatusBadge status={status} /> <span className="count">{counts[status]}</span>
        </li>
      ))}
    </ul>
  );
}
