import { useEffect } from 'react';
import { HubRequestError } from '../api/hub-client';
import { useHub } from '../auth/auth';
import { Page } from '../components/page';
import { Problem } from '../components/problem';
import { useResource } from '../live/use-resource';
import { formatTime } from '../model/format';
import { groupChecks, runnersFromList, runnerSlots, type RunnerSlots } from '../health/readiness-view';

const REFRESH_MS = 10_000;
const GROUP_TITLES: Record<string, string> = {
  nats: 'NATS and the event stream',
  gateway: 'Gateway',
  'session-registry': 'Session registry (and PostgreSQL)',
  'dependency-resolver': 'Dependency resolver',
  'container-runner': 'Container runner (Docker, images, egress)',
};

/**
 * Hub's readiness (`/health/ready`): every check with what is wrong and how to fix it; and the
 * runners with their slots in use (`GET /api/v1/runners`, or, from a gateway without that route,
 * the one runner that answered the readiness check). Read again every 10 s while the page shows.
 */
export function HealthPage() {
  const client = useHub();
  const report = useResource('readiness', async () => ({ report: await client.readiness(), at: new Date().toISOString() }));
  const listed = useResource('runners', () =>
    client.listRunners().then(runnersFromList, (error: Error) => {
      if (error instanceof HubRequestError && error.status === 404) return undefined;
      throw error;
    }),
  );
  const { reload } = report;
  const reloadRunners = listed.reload;
  useEffect(() => {
    const timer = setInterval(() => {
      if (document.visibilityState !== 'visible') return;
      reload();
      reloadRunners();
    }, REFRESH_MS);
    return () => clearInterval(timer);
  }, [reload, reloadRunners]);
  const checks = report.data?.report.checks ?? [];
  const runners: RunnerSlots[] = listed.data ?? runnerSlots(checks);
  const fromReadiness = !listed.loading && !listed.error && listed.data === undefined;
  const failing = checks.filter((check) => !check.ok).length;

  return (
    <Page
      title="Health"
      actions={
        <button type="button" className="secondary" onClick={reload} disabled={report.loading}>
          {report.loading ? 'Checking…' : 'Check again'}
        </button>
      }
    >
      {report.error && <Problem error={report.error} what="The readiness checks could not be read" />}
      {report.data && (
        <p className={report.data.report.status === 'ok' ? 'summary ok' : 'summary error'} role="status">
          {report.data.report.status === 'ok' ? `Ready: all ${checks.length} checks passed` : `Not ready: ${failing} of ${checks.length} checks failed`} (checked{' '}
          {formatTime(report.data.at)}).
        </p>
      )}
      <section aria-labelledby="runners-heading">
        <h2 id="runners-heading">Runners</h2>
        {listed.error && <Problem error={listed.error} what="The runners could not be read" />}
        {runners.length === 0 ? (
          <p className="muted">{report.data || listed.data ? 'No runner answered.' : '…'}</p>
        ) : (
          <div className="table-wrap">
            <table className="runners">
              <caption className="visually-hidden">Runners and their slots</caption>
              <thead>
                <tr>
                  <th scope="col">Runner</th>
                  <th scope="col">State</th>
                  <th scope="col">Slots in use</th>
                  <th scope="col">Sessions held</th>
                  <th scope="col">Labels</th>
                  <th scope="col">Last seen</th>
                </tr>
              </thead>
              <tbody>
                {runners.map((runner) => (
                  <tr key={runner.runner}>
                    <td className="runner-name">{runner.runner}</td>
                    <td>{runner.status ? <span className={runner.status === 'alive' ? 'check-ok' : 'check-failed'}>{runner.status}</span> : 'answering'}</td>
                    <td>
                      <span className="slots">
                        <meter min={0} max={Math.max(runner.capacity, 1)} value={runner.used} aria-label={`Slots in use on ${runner.runner}`} />
                        {runner.used} of {runner.capacity} slots in use
                      </span>
                    </td>
                    <td>{runner.holds ?? '—'}</td>
                    <td>{runner.labels?.length ? runner.labels.join(', ') : '—'}</td>
                    <td>{runner.lastSeenAt ? formatTime(runner.lastSeenAt) : '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {fromReadiness && (
          <p className="hint">
            This gateway does not list runners (<code>GET /api/v1/runners</code>): shown is the runner that answered the readiness check (one of them, when
            there are several).
          </p>
        )}
      </section>
      {groupChecks(checks).map((group) => (
        <section key={group.name} aria-labelledby={`checks-${group.name}`}>
          <h2 id={`checks-${group.name}`}>
            {GROUP_TITLES[group.name] ?? group.name} <span className={group.ok ? 'check-ok' : 'check-failed'}>{group.ok ? 'ok' : 'problem'}</span>
          </h2>
          <div className="table-wrap">
            <table className="checks">
              <caption className="visually-hidden">{GROUP_TITLES[group.name] ?? group.name}: checks</caption>
              <thead>
                <tr>
                  <th scope="col">Check</th>
                  <th scope="col">Result</th>
                  <th scope="col">Detail</th>
                  <th scope="col">How to fix it</th>
                </tr>
              </thead>
              <tbody>
                {group.checks.map((check) => (
                  <tr key={check.name} data-ok={check.ok}>
                    <td>{check.name}</td>
                    <td>
                      <span className={check.ok ? 'check-ok' : 'check-failed'}>{check.ok ? 'ok' : 'failed'}</span>
                    </td>
                    <td>{check.detail}</td>
                    <td>{check.fix ?? (check.ok ? '—' : 'no fix known')}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </section>
      ))}
    </Page>
  );
}
