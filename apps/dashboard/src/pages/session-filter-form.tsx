import { useState, type FormEvent } from 'react';
import { statusLabel, STATUSES } from '../model/statuses';
import { DEFAULT_PAGE_SIZE, MAX_SEARCH_LENGTH, PAGE_SIZES, type SessionFilters } from '../routing/session-filters';

/**
 * The sessions list's filters: applied (to the URL, from the first page) on submit, so changing a
 * field never reloads the list under the user's hands. Made anew when the URL changes (back, forward).
 */
export function SessionFilterForm({ filters, onApply }: { filters: SessionFilters; onApply: (filters: SessionFilters) => void }) {
  const [status, setStatus] = useState<string>(filters.status ?? '');
  const [type, setType] = useState(filters.type ?? '');
  const [orchestrationId, setOrchestrationId] = useState(filters.orchestrationId ?? '');
  const [q, setQ] = useState(filters.q ?? '');
  const [limit, setLimit] = useState(filters.limit);

  function submit(event: FormEvent) {
    event.preventDefault();
    onApply({
      status: (STATUSES as readonly string[]).includes(status) ? (status as SessionFilters['status']) : undefined,
      type: type.trim() || undefined,
      orchestrationId: orchestrationId.trim().toLowerCase() || undefined,
      q: q.trim() || undefined,
      limit,
    });
  }

  function clear() {
    onApply({ limit: DEFAULT_PAGE_SIZE });
  }

  return (
    <form className="filters" onSubmit={submit} role="search" aria-label="Filter sessions">
      <div className="field">
        <label htmlFor="filter-q">Text</label>
        <input
          id="filter-q"
          type="search"
          value={q}
          maxLength={MAX_SEARCH_LENGTH}
          onChange={(event) => setQ(event.target.value)}
          placeholder="name, id or reason"
        />
      </div>
      <div className="field">
        <label htmlFor="filter-status">Status</label>
        <select id="filter-status" value={status} onChange={(event) => setStatus(event.target.value)}>
          <option value="">any</option>
          {STATUSES.map((value) => (
            <option key={value} value={value}>
              {statusLabel(value)}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor="filter-type">Type</label>
        <input id="filter-type" value={type} onChange={(event) => setType(event.target.value)} pattern="[a-z][a-z0-9_\-]*" maxLength={64} placeholder="e.g. analysis" />
      </div>
      <div className="field wide">
        <label htmlFor="filter-orchestration">Orchestration id</label>
        <input id="filter-orchestration" value={orchestrationId} onChange={(event) => setOrchestrationId(event.target.value)} maxLength={36} spellCheck={false} />
      </div>
      <div className="field">
        <label htmlFor="filter-limit">Per page</label>
        <select id="filter-limit" value={limit} onChange={(event) => setLimit(Number(event.target.value))}>
          {PAGE_SIZES.map((size) => (
            <option key={size} value={size}>
              {size}
            </option>
          ))}
        </select>
      </div>
      <div className="field buttons">
        <button type="submit">Apply</button>
        <button type="button" className="secondary" onClick={clear}>
          Clear
        </button>
      </div>
    </form>
  );
}
