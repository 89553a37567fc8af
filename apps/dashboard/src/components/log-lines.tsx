import { useEffect, useId, useRef, useState } from 'react';
import type { LiveLogLine } from '@hub/contracts';

/**
 * Log lines, stderr and Hub's notes told apart; focusable (it scrolls) and named. While `following`,
 * the end stays in view unless the reader turns that off (to read back without being pulled down).
 */
export function LogLines({ lines, label, following, omitted }: { lines: readonly LiveLogLine[]; label: string; following: boolean; omitted: number }) {
  const view = useRef<HTMLPreElement>(null);
  const [keepEnd, setKeepEnd] = useState(true);
  const checkbox = useId();
  useEffect(() => {
    if (keepEnd && view.current) view.current.scrollTop = view.current.scrollHeight;
  }, [lines, keepEnd]);
  return (
    <>
      {following && (
        <p className="log-controls">
          <input id={checkbox} type="checkbox" checked={keepEnd} onChange={(event) => setKeepEnd(event.target.checked)} />
          <label htmlFor={checkbox}>Keep the end in view</label>
        </p>
      )}
      {omitted > 0 && <p className="notice">{omitted} earlier lines are not shown here: download the log for all of it.</p>}
      <pre ref={view} className="text-view log" tabIndex={0} aria-label={label} aria-busy={following}>
        {lines.length === 0 ? <span className="muted">{following ? 'Waiting for its first line…' : 'The log is empty.'}</span> : null}
        {lines.map((line, index) => (
          <span key={index} className={`log-line log-${line.stream}`} title={line.t}>
            {line.line}
            {'\n'}
          </span>
        ))}
      </pre>
    </>
  );
}
