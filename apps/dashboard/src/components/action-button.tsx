import { useRef, useState } from 'react';
import { HubRequestError } from '../api/hub-client';

/**
 * A button that asks Hub to do something (cancel, re-run, retry): asked to confirm first when
 * `confirm` says what it will do, busy while it runs, and the outcome said in a status line.
 */
export function ActionButton({
  label,
  confirm,
  run,
  done,
  disabled,
  danger,
}: {
  label: string;
  /** The question to confirm, e.g. "Cancel this session?"; none: run at once. */
  confirm?: string;
  run: () => Promise<unknown>;
  /** What to say once it ran. */
  done: string;
  disabled?: boolean;
  danger?: boolean;
}) {
  const [phase, setPhase] = useState<'idle' | 'confirming' | 'running'>('idle');
  const [outcome, setOutcome] = useState<{ ok: boolean; text: string }>();
  const button = useRef<HTMLButtonElement>(null);
  /** Back to the button once the question is gone (it replaced the button, which had the focus). */
  const refocus = () => requestAnimationFrame(() => button.current?.focus());

  async function execute() {
    setPhase('running');
    setOutcome(undefined);
    try {
      await run();
      setOutcome({ ok: true, text: done });
    } catch (error) {
      const status = error instanceof HubRequestError && error.status ? ` (HTTP ${error.status})` : '';
      setOutcome({ ok: false, text: `${label} failed: ${(error as Error).message}${status}` });
    } finally {
      setPhase('idle');
      refocus();
    }
  }

  return (
    <span className="action">
      {phase === 'confirming' ? (
        <span className="confirm" role="group" aria-label={confirm}>
          <span className="confirm-question">{confirm}</span>
          <button type="button" className={danger ? 'danger' : undefined} onClick={() => void execute()} autoFocus>
            Yes, {label.toLowerCase()}
          </button>
          <button
            type="button"
            className="secondary"
            onClick={() => {
              setPhase('idle');
              refocus();
            }}
          >
            No
          </button>
        </span>
      ) : (
        <button ref={button} type="button" className={danger ? 'danger' : undefined} disabled={disabled || phase === 'running'} onClick={() => (confirm ? setPhase('confirming') : void execute())}>
          {phase === 'running' ? `${label}…` : label}
        </button>
      )}
      <span role="status" className={outcome ? (outcome.ok ? 'outcome ok' : 'outcome error') : 'outcome'}>
        {outcome?.text}
      </span>
    </span>
  );
}
