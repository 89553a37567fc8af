import { Page } from '../components/page';
import { href } from '../routing/routes';
import { Link } from '../routing/router';

export function NotFoundPage() {
  return (
    <Page title="Not found">
      <p>
        The dashboard has no such page. <Link href={href.sessions()}>See the sessions</Link>.
      </p>
    </Page>
  );
}
