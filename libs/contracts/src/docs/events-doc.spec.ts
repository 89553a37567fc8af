import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { EVENT_SUBJECTS } from '../events/event-catalog';
import { RPC_CATALOG } from '../rpc/rpc-catalog';
import { renderEventsDoc } from './events-doc';

describe('docs/events.md', () => {
  const doc = readFileSync(resolve(__dirname, '../../../../docs/events.md'), 'utf8');

  it('is what the contracts say (run `npm run docs:events` after changing them)', () => {
    expect(doc).toBe(renderEventsDoc());
  });

  it('lists every event subject and every request/reply subject', () => {
    for (const subject of [...EVENT_SUBJECTS, ...Object.keys(RPC_CATALOG)]) expect(doc).toContain(`\`${subject}\``);
  });
});
