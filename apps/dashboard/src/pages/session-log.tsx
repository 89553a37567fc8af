import { useEffect, useRef, useState } from 'react';
import type { LiveLogLine, SessionView } from '@hub/contracts';
import { HubRequestError } from '../api/hub-client';
import { followLog } from '../api/log-follow';
import { useHub } from '../auth/auth';
import { DownloadButton } from '../components/download-button';
import { LogLines } from '../components/log-lines';
import { Problem } from '../components/problem';
import { streamController, usePageGeneration } from '../live/page-lifecycle';
import { useResource } from '../live/use-resource';
import { sessionLabel } from '../model/format';
import { isEnded, mayPrintLog } from '../model/statuses';

/** A log shown in the page keeps its last lines only (downloading gives all of it). */
const MAX_LINES_SHOWN = 10_000;
const MAX_STORED_CHARS_SHOWN = 2 * 1024 * 1024;

type LogMode = 'none' | 'follow' | 'stored';

/**
 * A session's log, any attempt's: the latest one followed live while it may print (its lines as
 * they come, until it ends), an ended one read from the stored log; each downloadable whole.
 */
export function SessionLog({ session, onAttemptEnded }: { session: SessionView; onAttemptEnded: () => void }) {
  const client = useHub();
  const [chosen, setChosen] = useState<number>();
  const latest = session.attempt;
  const attempt = chosen ?? latest;
  const key = `${session.id}:${attempt}`;
  const wanted: LogMode = attempt < 1 || session.status === 'created' ? 'none' : attempt === latest && mayPrintLog(session.status) ? 'follow' : 'stored';
  // How an attempt's log is read is decided when it is shown, and kept while it is (a followed log that ends stays on screen).
  const [mode, setMode] = useState<{ key: string; mode: LogMode }>({ key, mode: wanted });
  if (mode.key !== key || (mode.mode === 'none' && wanted !== 'none')) setMode({ key, mode: wanted });
  const attempts = Array.from({ length: Math.max(latest, 0) }, (_, index) => index + 1);
  const label = `Log of ${sessionLabel(session)}, attempt ${attempt}`;

  return (
    <section aria-labelledby="log-heading">
      <div className="section-head">
        <h2 id="log-heading">Log</h2>
        {attempts.length > 1 && (
          <span className="field inline">
            <label htmlFor="log-attempt">Attempt</label>
            <select id="log-attempt" value={attempt} onChange={(event) => setChosen(Number(event.target.value))}>
              {attempts.map((n) => (
                <option key={n} value={n}>
                  {n}
                  {n === latest ? ' (latest)' : ''}
                </option>
              ))}
            </select>
          </span>
        )}
        {attempt >= 1 && (isEnded(session.status) || attempt < latest) && (
          <DownloadButton label="Download log" filename={`${sessionLabel(session)}-attempt-${attempt}.log`} fetchBlob={() => client.sessionLogFile(session.id, attempt)} />
        )}
      </div>
      {mode.mode === 'none' && <p className="muted">No log yet: the session has not started.</p>}
      {mode.mode === 'follow' && <FollowedLog key={key} sessionId={session.id} attempt={attempt} label={label} onEnded={onAttemptEnded} />}
      {mode.mode === 'stored' && <StoredLog key={key} sessionId={session.id} attempt={attempt} label={label} />}
    </section>
  );
}

function FollowedLog({ sessionId, attempt, label, onEnded }: { sessionId: string; attempt: number; label: string; onEnded: () => void }) {
  const client = useHub();
  const [lines, setLines] = useState<{ shown: LiveLogLine[]; omitted: number }>({ shown: [], omitted: 0 });
  const [state, setState] = useState<'following' | 'ended' | 'failed'>('following');
  const [error, setError] = useState<Error>();
  const ended = useRef(onEnded);
  ended.current = onEnded;
  const generation = usePageGeneration();

  useEffect(() => {
    const { controller, release } = streamController();
    // From its first line again (a page shown again from the back/forward cache follows anew).
    setLines({ shown: [], omitted: 0 });
    setState('following');
    setError(undefined);
    void (async () => {
      try {
        for await (const batch of followLog(client, sessionId, attempt, controller.signal)) {
          setLines((current) => {
            const all = current.shown.concat(batch);
            const over = Math.max(0, all.length - MAX_LINES_SHOWN);
            return { shown: over ? all.slice(over) : all, omitted: current.omitted + over };
          });
        }
        if (controller.signal.aborted) return;
        setState('ended');
        ended.current();
      } catch (failure) {
        if (controller.signal.aborted) return;
        setError(failure as Error);
        setState('failed');
      } finally {
        release();
      }
    })();
    return () => {
      controller.abort();
      release();
    };
  }, [client, sessionId, attempt, generation]);

  return (
    <>
      <p className="muted" role="status">
        {state === 'following' ? 'Following the log as it is printed.' : state === 'ended' ? 'The attempt ended.' : ''}
      </p>
      {error && <Problem error={error} what="Following the log failed" />}
      <LogLines lines={lines.shown} omitted={lines.omitted} label={label} following={state === 'following'} />
    </>
  );
}

function StoredLog({ sessionId, attempt, label }: { sessionId: string; attempt: number; label: string }) {
  const client = useHub();
  const log = useResource(`${sessionId}:${attempt}`, () => client.sessionLog(sessionId, attempt, MAX_STORED_CHARS_SHOWN));
  if (log.error) {
    return log.error instanceof HubRequestError && log.error.status === 404 ? <p className="muted">{log.error.message}</p> : <Problem error={log.error} what="The log could not be read" />;
  }
  if (!log.data) return <p className="muted">Loading the log…</p>;
  const text = log.data.text.endsWith('\n') ? log.data.text.slice(0, -1) : log.data.text;
  const lines: LiveLogLine[] = text === '' ? [] : text.split('\n').map((line) => ({ t: '', stream: 'log', line }));
  return (
    <>
      {log.data.truncated && <p className="notice">Only the beginning of the log is shown: download it for all of it.</p>}
      <LogLines lines={lines} omitted={0} label={label} following={false} />
    </>
  );
}
