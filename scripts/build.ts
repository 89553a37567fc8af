// `npm run build` (and `nx build <service>`): the production build, compiled where it changed since the
// last one (libs/infra's buildServices): the four services, or those named, and the stack's supervisor,
// as JavaScript under dist/ that plain `node` runs; and the dashboard the gateway serves (buildDashboard,
// dist/dashboard). `npm run hub` and the tests build before they start.
import { join, resolve } from 'node:path';
import { buildDashboard, buildServices, HUB_SERVICES, type HubServiceName } from '@hub/infra';

const workspaceRoot = resolve(__dirname, '..');
const named = process.argv.slice(2);
const unknown = named.filter((name) => !(HUB_SERVICES as readonly string[]).includes(name));
if (unknown.length) {
  console.error(`[hub] build: no such service: ${unknown.join(', ')} (the services: ${HUB_SERVICES.join(', ')})`);
  process.exit(2);
}
const services = named.length ? (named as HubServiceName[]) : HUB_SERVICES;
const build = buildServices(workspaceRoot, services, [join('scripts', 'hub-stack.ts')]);
console.log(
  `[hub] build ${build.buildId} in ${build.outDir}: ${build.compiled} of ${build.sources} files compiled, ${build.removed} removed, ${build.ms} ms`,
);
buildDashboard(workspaceRoot).then(
  (dashboard) => console.log(`[hub] dashboard in ${dashboard.outDir}: ${dashboard.rebuilt ? 'built' : 'up to date'}`),
  (error: Error) => {
    console.error(`[hub] build: the dashboard did not build: ${error.message}`);
    process.exit(1);
  },
);
