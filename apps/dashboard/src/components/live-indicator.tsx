import type { LiveStatus } from '../live/use-live-events';

const TEXT = { connecting: 'Connecting…', live: 'Live', retrying: 'Reconnecting…', failed: 'Not live' } as const;

/** Whether the page updates itself, said politely to screen readers when it changes. */
export function LiveIndicator({ live }: { live: LiveStatus }) {
  return (
    <p className={`live live-${live.state}`} role="status" title={live.detail}>
      <span className="live-dot" aria-hidden="true" />
      {TEXT[live.state]}
      {live.state === 'failed' && live.detail ? `: ${live.detail}` : ''}
    </p>
  );
}
