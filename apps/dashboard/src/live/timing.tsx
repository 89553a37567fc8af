import { useCallback, useEffect, useRef, useState } from 'react';

/** `run`, at most once every `intervalMs`: a call within the interval is run once at its end (later calls folded into it). */
export function useThrottled(run: () => void, intervalMs: number): () => void {
  const latest = useRef(run);
  latest.current = run;
  const last = useRef(0);
  const timer = useRef<ReturnType<typeof setTimeout>>(undefined);
  useEffect(() => () => clearTimeout(timer.current), []);
  return useCallback(() => {
    if (timer.current) return;
    const wait = Math.max(0, last.current + intervalMs - Date.now());
    timer.current = setTimeout(() => {
      timer.current = undefined;
      last.current = Date.now();
      latest.current();
    }, wait);
  }, [intervalMs]);
}

/** The time now, again every `intervalMs` while `ticking` (the durations of what runs go on). */
export function useNow(ticking: boolean, intervalMs = 1_000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!ticking) return;
    setNow(Date.now());
    const timer = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(timer);
  }, [ticking, intervalMs]);
  return now;
}
