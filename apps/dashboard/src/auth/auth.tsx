import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from 'react';
import { HubClient } from '../api/hub-client';
import { LoginPage } from '../pages/login-page';

/** Where the token is kept: this tab's session storage (gone when the tab closes), never a URL or a cookie. */
const TOKEN_KEY = 'hub.apiToken';

interface Auth {
  client: HubClient;
  signOut: (notice?: string) => void;
}

const AuthContext = createContext<Auth | null>(null);

function storedToken(): string | null {
  try {
    return window.sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

function storeToken(token: string | null): void {
  try {
    if (token === null) window.sessionStorage.removeItem(TOKEN_KEY);
    else window.sessionStorage.setItem(TOKEN_KEY, token);
  } catch {
    // Storage refused (a private window's policy): the token lives as long as the page.
  }
}

/** The API client, with the signed-in token. */
export function useHub(): HubClient {
  return useAuth().client;
}

export function useAuth(): Auth {
  const auth = useContext(AuthContext);
  if (!auth) throw new Error('useAuth outside AuthGate');
  return auth;
}

/**
 * Asks for the token once (the login page checks it against the API), keeps it for the tab's
 * session, and shows `children` with a client that sends it. Any 401 later (a revoked key) signs out.
 */
export function AuthGate({ children }: { children: ReactNode }) {
  const [token, setToken] = useState<string | null>(storedToken);
  const [notice, setNotice] = useState<string>();
  const signOut = useCallback((message?: string) => {
    storeToken(null);
    setNotice(message);
    setToken(null);
  }, []);
  const auth = useMemo<Auth | null>(
    () => (token ? { client: new HubClient(token, { onUnauthorized: () => signOut('Hub refused the token (401 Unauthorized): it may have been revoked. Sign in again.') }), signOut } : null),
    [token, signOut],
  );
  if (!auth) {
    const signedIn = (value: string) => {
      storeToken(value);
      setNotice(undefined);
      setToken(value);
    };
    return <LoginPage notice={notice} onSignedIn={signedIn} />;
  }
  return <AuthContext.Provider value={auth}>{children}</AuthContext.Provider>;
}
