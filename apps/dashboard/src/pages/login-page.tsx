import { useEffect, useRef, useState, type FormEvent } from 'react';
import { HubClient, HubRequestError } from '../api/hub-client';

/** Asks for the API token and checks it (a request any key may make) before keeping it. */
export function LoginPage({ notice, onSignedIn }: { notice?: string; onSignedIn: (token: string) => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const input = useRef<HTMLInputElement>(null);

  useEffect(() => {
    document.title = 'Sign in · Hub';
    input.current?.focus();
  }, []);

  async function submit(event: FormEvent) {
    event.preventDefault();
    const value = token.trim();
    if (!value) {
      setError('Enter the API token.');
      input.current?.focus();
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      await new HubClient(value).listSessions({ limit: 1 });
      onSignedIn(value);
    } catch (failure) {
      const refused = failure instanceof HubRequestError && failure.status === 401;
      setError(refused ? 'Hub refused this token (401 Unauthorized). Check it and try again.' : `Could not sign in: ${(failure as Error).message}`);
      setBusy(false);
      input.current?.focus();
    }
  }

  return (
    <main id="main" className="login">
      <h1>Hub dashboard</h1>
      {notice && (
        <p role="status" className="notice">
          {notice}
        </p>
      )}
      <form onSubmit={submit} noValidate>
        <label htmlFor="token">API token</label>
        <input
          ref={input}
          id="token"
          name="token"
          type="password"
          autoComplete="off"
          spellCheck={false}
          value={token}
          onChange={(event) => setToken(event.target.value)}
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? 'token-error token-help' : 'token-help'}
        />
        <p id="token-help" className="hint">
          The token <code>npm run hub</code> printed (also in <code>.hub/api-token</code>), or an API key (<code>hub keys create</code>). It stays in
          this tab&apos;s session storage until you sign out or close the tab, and goes only in the Authorization header of the dashboard&apos;s API
          calls.
        </p>
        {error && (
          <p id="token-error" role="alert" className="error">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
