import { useCallback, useEffect, useRef, useState } from 'react';

export interface Resource<T> {
  data: T | undefined;
  error: Error | undefined;
  /** A read is under way (the first, or a reload: the data shown meanwhile is the last read's). */
  loading: boolean;
  /** Reads it again, keeping what is shown until the answer comes. */
  reload: () => void;
}

/**
 * Something read from the API for a page: read again when `key` changes (from nothing: another
 * session's data is never shown meanwhile) or on `reload()`; a read that is overtaken is aborted
 * and its answer dropped.
 */
export function useResource<T>(key: string, load: (signal: AbortSignal) => Promise<T>): Resource<T> {
  const [state, setState] = useState<{ key: string; data?: T; error?: Error; loading: boolean }>({ key, loading: true });
  const [version, setVersion] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;

  useEffect(() => {
    const controller = new AbortController();
    setState((previous) => (previous.key === key ? { ...previous, loading: true } : { key, loading: true }));
    loadRef.current(controller.signal).then(
      (data) => !controller.signal.aborted && setState({ key, data, loading: false }),
      (error: Error) => !controller.signal.aborted && setState((previous) => ({ key, data: previous.key === key ? previous.data : undefined, error, loading: false })),
    );
    return () => controller.abort();
  }, [key, version]);

  const reload = useCallback(() => setVersion((v) => v + 1), []);
  const current = state.key === key;
  return { data: current ? state.data : undefined, error: current ? state.error : undefined, loading: !current || state.loading, reload };
}
