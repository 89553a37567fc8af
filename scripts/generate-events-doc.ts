// `npm run docs:events`: writes docs/events.md from the contracts (libs/contracts is the source).
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { renderEventsDoc } from '@hub/contracts';

const target = resolve(__dirname, '..', 'docs', 'events.md');
writeFileSync(target, renderEventsDoc());
console.log(`wrote ${target}`);
