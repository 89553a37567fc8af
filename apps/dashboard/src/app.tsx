import { lazy, Suspense } from 'react';
import { AuthGate, useAuth } from './auth/auth';
import { HealthPage } from './pages/health-page';
import { NotFoundPage } from './pages/not-found-page';
import { OrchestrationsPage } from './pages/orchestrations-page';
import { SessionPage } from './pages/session-page';
import { SessionsPage } from './pages/sessions-page';
import { href, routeOf, type Route } from './routing/routes';
import { Link, useLocation } from './routing/router';

/** The graph's page, with React Flow and dagre: loaded when first shown, so the other pages start without them. */
const OrchestrationPage = lazy(() => import('./pages/orchestration-page').then((module) => ({ default: module.OrchestrationPage })));

/** The dashboard: sign in once, then the page the URL names, under a header with the site's navigation. */
export function App() {
  return (
    <AuthGate>
      <Layout />
    </AuthGate>
  );
}

function Layout() {
  const { signOut } = useAuth();
  const { pathname } = useLocation();
  const route = routeOf(pathname);
  const section = route.page === 'session' ? 'sessions' : route.page === 'orchestration' ? 'orchestrations' : route.page;
  const navItem = (page: string, target: string, text: string) => (
    <li>
      <Link href={target} aria-current={section === page ? 'page' : undefined}>
        {text}
      </Link>
    </li>
  );
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="site-header">
        <span className="brand">Hub</span>
        <nav aria-label="Dashboard">
          <ul>
            {navItem('sessions', href.sessions(), 'Sessions')}
            {navItem('orchestrations', href.orchestrations(), 'Orchestrations')}
            {navItem('health', href.health(), 'Health')}
          </ul>
        </nav>
        <button type="button" className="sign-out" onClick={() => signOut('Signed out.')}>
          Sign out
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        <Content route={route} />
      </main>
    </>
  );
}

function Content({ route }: { route: Route }) {
  switch (route.page) {
    case 'sessions':
      return <SessionsPage />;
    case 'orchestrations':
      return <OrchestrationsPage />;
    case 'orchestration':
      return (
        <Suspense fallback={<p className="summary">Loading…</p>}>
          <OrchestrationPage key={route.id} id={route.id} />
        </Suspense>
      );
    case 'session':
      return <SessionPage key={route.id} id={route.id} />;
    case 'health':
      return <HealthPage />;
    case 'not-found':
      return <NotFoundPage />;
  }
}
