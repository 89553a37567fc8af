import { setTimeout as sleep } from 'node:timers/promises';
import { type EventSubject, HubError, isOrchestrationEnded, type OrchestrationView } from '@hub/contracts';
import { type HubApi, type HubEventStream, type HubStreamEvent, HttpProblem } from '@hub/hub-api';
import { isNotFound } from './cli-error';

/** Without the events route (an older gateway), the orchestration is read this often. */
export const ORCHESTRATION_POLL_MS = 500;
/** The view is read again at most this often, however many events came meanwhile. */
export const REFRESH_MS = 250;
/** With nothing new, the view is given again this often, so that a live tree's clocks (how long each session has run) move on. */
const CLOCK_TICK_MS = 500;
/** Once it ended, how long its result is waited for (a runner combines the sessions' changes then). */
export const RESULT_WAIT_SECONDS = 10;
/** More sessions changed than this since the last refresh (a replay, a wide fan-out): the whole orchestration is read, not each session. */
const SESSION_READS_PER_REFRESH = 16;
/** Reads that may fail in a row (the gateway restarting) before the watch gives up. */
const FAILED_READS_TOLERATED = 20;
/** What the watch follows: a session's move changes its row, the orchestration's end its header. */
const WATCHED_EVENTS: readonly EventSubject[] = ['session.status-changed', 'orchestration.finished'];

export interface UpdateOptions {
  /** Between reads when polling, and after a read that failed. */
  intervalMs?: number;
  resultWaitSeconds?: number;
  signal?: AbortSignal;
}

const isTransient = (error: unknown) => error instanceof HubError && error.code === 'unavailable';
/** The gateway has no events route (older than it): its 404 names no route, or is not the house error at all. */
const eventsUnavailable = (error: unknown) => isNotFound(error) || (error instanceof HttpProblem && error.status === 404);
const isEnded = (view: OrchestrationView) => isOrchestrationEnded(view.status);

/** The orchestration with every one of its sessions: the pages after the first (read here unless given) read on with `nextCursor`. */
export async function readOrchestration(hub: HubApi, orchestrationId: string, first?: OrchestrationView): Promise<OrchestrationView> {
  const view = first ?? (await hub.getOrchestration(orchestrationId));
  const sessions = [...view.sessions];
  for (let cursor = view.nextCursor; cursor; ) {
    const page = await hub.getOrchestration(orchestrationId, { cursor });
    sessions.push(...page.sessions);
    cursor = page.nextCursor;
  }
  return { ...view, sessions, nextCursor: null };
}

/**
 * The orchestration as it changes, whole, until it has ended: the last view is read once its result
 * is in (`?wait=result`, up to `resultWaitSeconds`). Each change is told by the orchestration's events
 * (`GET /api/v1/events`): the sessions that moved are read again, at most every REFRESH_MS; a gateway
 * without that route is polled every `intervalMs` instead. A gateway that does not answer for a while
 * (restarting) is waited for; an answer that refuses (not found, unauthorized) ends it, as does
 * `signal` (then without the last view) or the consumer leaving.
 */
export async function* orchestrationUpdates(
  hub: HubApi & HubEventStream,
  orchestrationId: string,
  { intervalMs = ORCHESTRATION_POLL_MS, resultWaitSeconds = RESULT_WAIT_SECONDS, signal }: UpdateOptions = {},
): AsyncGenerator<OrchestrationView> {
  let view = await readOrchestration(hub, orchestrationId);
  yield view;
  if (!isEnded(view)) {
    try {
      view = yield* viewsOnEvents(hub, view, { intervalMs, signal });
    } catch (error) {
      if (!eventsUnavailable(error)) throw error;
      view = yield* polledViews(hub, view, { intervalMs, signal });
    }
  }
  if (!isEnded(view) || signal?.aborted) return;
  const waited = await untilAborted(hub.waitForOrchestration(orchestrationId, 'result', resultWaitSeconds), signal);
  if (waited) yield await readOrchestration(hub, orchestrationId, waited.view);
}

/** Views read as the events say sessions moved, until one shows it ended (or `signal` aborts); answers the last. */
async function* viewsOnEvents(
  hub: HubApi & HubEventStream,
  first: OrchestrationView,
  { intervalMs, signal }: { intervalMs: number; signal?: AbortSignal },
): AsyncGenerator<OrchestrationView, OrchestrationView> {
  const hangUp = new AbortController();
  const stream = signal ? AbortSignal.any([signal, hangUp.signal]) : hangUp.signal;
  const events = hub.events({ orchestrationId: first.id, types: WATCHED_EVENTS }, { signal: stream })[Symbol.asyncIterator]();
  let view = first;
  let readAt = Date.now();
  let failedInARow = 0;
  // The sessions that moved since the view was read; any event at all (orchestration.finished too) asks for a read.
  const moved = new Set<string>();
  let told = false;
  const note = ({ event }: HubStreamEvent) => {
    told = true;
    if (event.subject === 'session.status-changed') moved.add(event.data.sessionId);
  };
  let next = events.next();
  try {
    // An ended status is believed from a read, not from an event: a retried orchestration's stream replays its earlier end.
    while (!isEnded(view) && !signal?.aborted) {
      if (!told) {
        const got = await within(next, CLOCK_TICK_MS);
        if (got === TIMED_OUT) {
          yield view;
          continue;
        }
        if (got.done) return view;
        note(got.value);
        next = events.next();
      }
      for (let wait = readAt + REFRESH_MS - Date.now(); wait > 0; wait = readAt + REFRESH_MS - Date.now()) {
        const got = await within(next, wait);
        if (got === TIMED_OUT) break;
        if (got.done) return view;
        note(got.value);
        next = events.next();
      }
      try {
        view = await refreshed(hub, view, moved);
        failedInARow = 0;
      } catch (error) {
        if (!isTransient(error) || ++failedInARow > FAILED_READS_TOLERATED) throw error;
        await sleep(intervalMs, undefined, { signal }).catch(() => undefined);
        continue;
      }
      readAt = Date.now();
      moved.clear();
      told = false;
      yield view;
    }
    return view;
  } finally {
    hangUp.abort();
    await next.catch(() => undefined);
  }
}

/** The view with the sessions that moved read again, and its header (status, counts, result); read whole when that is cheaper, or it gained sessions. */
async function refreshed(hub: HubApi, view: OrchestrationView, moved: ReadonlySet<string>): Promise<OrchestrationView> {
  if (moved.size > SESSION_READS_PER_REFRESH) return readOrchestration(hub, view.id);
  const [header, ...sessions] = await Promise.all([hub.getOrchestration(view.id, { limit: 1 }), ...[...moved].map((id) => hub.getSession(id))]);
  const read = new Map(sessions.map((session) => [session.id, session]));
  const merged = view.sessions.map((session) => read.get(session.id) ?? session);
  if (header.sessionCount !== merged.length) return readOrchestration(hub, view.id);
  return { ...header, sessions: merged, nextCursor: null };
}

/** Views read every `intervalMs` after `first` until one shows it ended (or `signal` aborts); answers the last. */
async function* polledViews(
  hub: HubApi,
  first: OrchestrationView,
  { intervalMs, signal }: { intervalMs: number; signal?: AbortSignal },
): AsyncGenerator<OrchestrationView, OrchestrationView> {
  let view = first;
  let failedInARow = 0;
  while (!isEnded(view)) {
    await sleep(intervalMs, undefined, { signal }).catch(() => undefined);
    if (signal?.aborted) break;
    try {
      view = await readOrchestration(hub, first.id);
      failedInARow = 0;
    } catch (error) {
      if (!isTransient(error) || ++failedInARow > FAILED_READS_TOLERATED) throw error;
      continue;
    }
    yield view;
  }
  return view;
}

const TIMED_OUT = Symbol('timed out');

/** What `promise` resolves to, unless `ms` pass first (it is left running). */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<typeof TIMED_OUT>((resolve) => (timer = setTimeout(resolve, ms, TIMED_OUT)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** What `promise` resolves to, or undefined as soon as `signal` aborts. */
async function untilAborted<T>(promise: Promise<T>, signal?: AbortSignal): Promise<T | undefined> {
  if (!signal) return promise;
  if (signal.aborted) return undefined;
  let stop!: () => void;
  const aborted = new Promise<undefined>((resolve) => signal.addEventListener('abort', (stop = () => resolve(undefined)), { once: true }));
  try {
    return await Promise.race([promise, aborted]);
  } finally {
    signal.removeEventListener('abort', stop);
  }
}
