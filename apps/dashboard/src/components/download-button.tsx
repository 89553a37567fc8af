import { useState } from 'react';

/**
 * Downloads what `fetchBlob` reads with the token (a link to the API would need the token in its
 * URL): the blob is saved under `filename` through an object URL, let go of right after.
 */
export function DownloadButton({ label, filename, fetchBlob, describedBy }: { label: string; filename: string; fetchBlob: () => Promise<Blob>; describedBy?: string }) {
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string>();
  async function download() {
    setBusy(true);
    setProblem(undefined);
    try {
      saveBlob(await fetchBlob(), filename);
    } catch (error) {
      setProblem(`Download failed: ${(error as Error).message}`);
    } finally {
      setBusy(false);
    }
  }
  return (
    <>
      <button type="button" className="secondary" onClick={() => void download()} disabled={busy} aria-describedby={describedBy}>
        {busy ? 'Downloading…' : label}
      </button>
      {problem && (
        <span role="alert" className="error inline">
          {problem}
        </span>
      )}
    </>
  );
}

export function saveBlob(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
