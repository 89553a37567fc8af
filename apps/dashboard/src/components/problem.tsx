import { HubRequestError } from '../api/hub-client';

/** A failed read or action, in the API's words. */
export function Problem({ error, what }: { error: Error; what?: string }) {
  const status = error instanceof HubRequestError && error.status ? ` (HTTP ${error.status})` : '';
  return (
    <p role="alert" className="error">
      {what ? `${what}: ` : ''}
      {error.message}
      {status}
    </p>
  );
}
