import { useEffect, useRef, useState } from 'react';
import type { AnyEvent } from '@hub/contracts';
import type { EventsQuery } from '../api/hub-client';
import { followEvents, type LiveState } from '../api/live-events';
import { useHub } from '../auth/auth';
import { streamController, usePageGeneration } from './page-lifecycle';

export interface LiveStatus {
  state: LiveState;
  detail?: string;
}

/**
 * Follows Hub's events matching `query` while the page shows (null: none), each to `onEvent` (the
 * latest one given: it may close over the page's state). Reconnects by itself; says where it is.
 */
export function useLiveEvents(query: EventsQuery | null, onEvent: (event: AnyEvent) => void): LiveStatus {
  const client = useHub();
  const [status, setStatus] = useState<LiveStatus>({ state: 'connecting' });
  const handler = useRef(onEvent);
  handler.current = onEvent;
  const key = query ? JSON.stringify(query) : null;
  const generation = usePageGeneration();

  useEffect(() => {
    if (key === null) return;
    const { controller, release } = streamController();
    void followEvents(client, {
      query: JSON.parse(key) as EventsQuery,
      signal: controller.signal,
      onEvent: (event) => handler.current(event),
      onState: (state, detail) => setStatus({ state, detail }),
    }).finally(release);
    return () => {
      controller.abort();
      release();
    };
  }, [client, key, generation]);

  return status;
}
