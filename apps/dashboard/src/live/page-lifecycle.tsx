import { useSyncExternalStore } from 'react';

/**
 * Streams must not outlive the page they serve. A page the browser keeps for Back and Forward (its
 * back/forward cache) would otherwise keep its streams open, and a browser holds only six
 * connections to a host: after a few pages, the dashboard's next request would wait for ever. So
 * every stream is aborted as the page is hidden (pagehide, at once, not at React's next render),
 * and streams start again when such a page is shown again (pageshow, `persisted`).
 */
const open = new Set<AbortController>();
let generation = 0;
const listeners = new Set<() => void>();

if (typeof window !== 'undefined') {
  window.addEventListener('pagehide', () => {
    for (const controller of open) controller.abort();
    open.clear();
  });
  window.addEventListener('pageshow', (event) => {
    if (!event.persisted) return;
    generation++;
    for (const listener of listeners) listener();
  });
}

/** A controller for a stream: aborted with the others when the page is hidden; `release` once the stream ended. */
export function streamController(): { controller: AbortController; release: () => void } {
  const controller = new AbortController();
  open.add(controller);
  return { controller, release: () => open.delete(controller) };
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Changes when the page is shown again from the back/forward cache: a dependency of the effects that open streams. */
export function usePageGeneration(): number {
  return useSyncExternalStore(subscribe, () => generation);
}
