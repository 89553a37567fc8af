import { Fragment } from 'react';

/**
 * A diff as text, each line marked by what it is (added, removed, a file or hunk header); focusable
 * (it scrolls) and named, so it can be read with the keyboard.
 */
export function DiffView({ text, label, truncated }: { text: string; label: string; truncated: boolean }) {
  const lines = text.split('\n');
  return (
    <>
      <pre className="text-view diff" tabIndex={0} aria-label={label}>
        {lines.map((line, index) => (
          <Fragment key={index}>
            <span className={diffClass(line)}>{line}</span>
            {'\n'}
          </Fragment>
        ))}
      </pre>
      {truncated && <p className="muted">Only the beginning is shown: the diff is longer.</p>}
    </>
  );
}

function diffClass(line: string): string | undefined {
  if (line.startsWith('+++') || line.startsWith('---') || line.startsWith('diff ') || line.startsWith('index ')) return 'diff-file';
  if (line.startsWith('@@')) return 'diff-hunk';
  if (line.startsWith('+')) return 'diff-add';
  if (line.startsWith('-')) return 'diff-del';
  return undefined;
}
