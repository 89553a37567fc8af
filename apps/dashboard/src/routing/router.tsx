import { useMemo, useSyncExternalStore, type AnchorHTMLAttributes, type MouseEvent } from 'react';

/** The dashboard's own navigation (pushState), told to whoever listens, like the browser's back and forward (popstate). */
const NAVIGATED = 'hub:navigated';
let navigations = 0;
if (typeof window !== 'undefined') window.addEventListener('popstate', () => navigations++);

function subscribe(onChange: () => void): () => void {
  window.addEventListener('popstate', onChange);
  window.addEventListener(NAVIGATED, onChange);
  return () => {
    window.removeEventListener('popstate', onChange);
    window.removeEventListener(NAVIGATED, onChange);
  };
}

const currentUrl = () => `${window.location.pathname}${window.location.search}`;

/** The page's path and query, updated on every navigation. */
export function useLocation(): { pathname: string; search: string } {
  const url = useSyncExternalStore(subscribe, currentUrl);
  return useMemo(() => {
    const at = url.indexOf('?');
    return at < 0 ? { pathname: url, search: '' } : { pathname: url.slice(0, at), search: url.slice(at) };
  }, [url]);
}

/**
 * Goes to `to` within the dashboard (a new history entry, or in place with `replace`), with `state`
 * kept in that entry (historyState reads it back, after Back and Forward too).
 */
export function navigate(to: string, options: { replace?: boolean; state?: unknown } = {}): void {
  if (to === currentUrl()) return;
  if (options.replace) window.history.replaceState(options.state ?? null, '', to);
  else window.history.pushState(options.state ?? null, '', to);
  navigations++;
  window.dispatchEvent(new Event(NAVIGATED));
  if (!options.replace) window.scrollTo(0, 0);
}

/** What navigate() kept in the current history entry (read when the location changes: they change together). */
export const historyState = <T,>(): Partial<T> => (window.history.state ?? {}) as Partial<T>;

/** Whether the user went from page to page (then a new page takes the focus; on the first load, it stays where the browser puts it). */
export const hasNavigated = (): boolean => navigations > 0;

/** A link within the dashboard: followed without reloading the page; opened as usual in a new tab or window. */
export function Link({ href, onClick, ...rest }: AnchorHTMLAttributes<HTMLAnchorElement> & { href: string }) {
  const follow = (event: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(event);
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey || rest.target) return;
    event.preventDefault();
    navigate(href);
  };
  return <a href={href} onClick={follow} {...rest} />;
}
