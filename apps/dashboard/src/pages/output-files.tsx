import type { SessionView } from '@hub/contracts';
import { HubRequestError } from '../api/hub-client';
import { useHub } from '../auth/auth';
import { DownloadButton } from '../components/download-button';
import { Problem } from '../components/problem';
import { useResource } from '../live/use-resource';
import { formatBytes } from '../model/format';
import { isEnded } from '../model/statuses';

/** What the agent left in /hub/output, listed once the session ended: each file with its size, downloadable (fetched with the token). */
export function OutputFiles({ session }: { session: SessionView }) {
  const client = useHub();
  const ended = isEnded(session.status);
  const output = useResource(`${session.id}:${session.attempt}:${ended}`, () =>
    ended ? client.sessionOutput(session.id) : Promise.resolve(undefined),
  );
  return (
    <section aria-labelledby="output-heading">
      <h2 id="output-heading">Output files</h2>
      {!ended && <p className="muted">Listed once the session has ended.</p>}
      {output.error &&
        (output.error instanceof HubRequestError && output.error.status === 404 ? (
          <p className="muted">{output.error.message}</p>
        ) : (
          <Problem error={output.error} what="The output could not be read" />
        ))}
      {output.data && output.data.files.length === 0 && <p className="muted">It wrote no files to /hub/output.</p>}
      {output.data && output.data.files.length > 0 && (
        <div className="table-wrap">
          <table className="files">
            <caption className="visually-hidden">Output files</caption>
            <thead>
              <tr>
                <th scope="col">File</th>
                <th scope="col" className="number">
                  Size
                </th>
                <th scope="col">SHA-256</th>
                <th scope="col">
                  <span className="visually-hidden">Download</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {output.data.files.map((file, index) => (
                <tr key={file.path}>
                  <td>
                    <code id={`output-file-${index}`}>{file.path}</code>
                  </td>
                  <td className="number">{formatBytes(file.size)}</td>
                  <td>
                    <code title={file.sha256}>{file.sha256.slice(0, 12)}…</code>
                  </td>
                  <td>
                    <DownloadButton
                      label="Download"
                      describedBy={`output-file-${index}`}
                      filename={file.path.split('/').pop() ?? 'output'}
                      fetchBlob={() => client.outputFile(session.id, file.path)}
                    />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {output.data && output.data.skipped.length > 0 && (
        <>
          <h3>Not kept</h3>
          <ul>
            {output.data.skipped.map((skipped) => (
              <li key={skipped.path}>
                <code>{skipped.path}</code>: {skipped.reason}
              </li>
            ))}
            {output.data.skippedCount > output.data.skipped.length && <li>and {output.data.skippedCount - output.data.skipped.length} more</li>}
          </ul>
        </>
      )}
    </section>
  );
}
