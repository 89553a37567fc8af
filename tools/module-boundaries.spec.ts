// What may import what, from the Nx tags in each project.json: the boundaries the style guide asks
// for, checked on every import of every source file (there is no ESLint here to do it).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const ROOT = join(__dirname, '..');

interface Project {
  name: string;
  root: string;
  type: string;
  scope: string;
}

/** For each type, the types it may import. */
const MAY_IMPORT: Record<string, string[]> = {
  'type:contracts': [],
  'type:util': ['type:contracts', 'type:util'],
  'type:data-access': ['type:contracts', 'type:util'],
  'type:feature': ['type:contracts', 'type:util', 'type:data-access', 'type:feature'],
  'type:app': ['type:contracts', 'type:util', 'type:data-access', 'type:feature'],
  'type:e2e': ['type:contracts', 'type:util', 'type:data-access', 'type:feature'],
};

function projects(): Project[] {
  return ['apps', 'libs'].flatMap((dir) =>
    readdirSync(join(ROOT, dir)).flatMap((name) => {
      const file = join(ROOT, dir, name, 'project.json');
      try {
        const tags: string[] = JSON.parse(readFileSync(file, 'utf8')).tags ?? [];
        return [{ name, root: join(dir, name), type: tags.find((t) => t.startsWith('type:'))!, scope: tags.find((t) => t.startsWith('scope:'))! }];
      } catch {
        return [];
      }
    }),
  );
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return entry === 'node_modules' ? [] : sourceFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

const importsOf = (file: string) => [...readFileSync(file, 'utf8').matchAll(/from '@hub\/([a-z-]+)'/g)].map((m) => m[1]);

/** Whether `from` may import `to`; a reason when not. */
function violation(from: Project, to: Project, file: string): string | null {
  const isSpec = file.endsWith('.spec.ts');
  if (to.scope === 'scope:tooling') {
    // Starting PostgreSQL, NATS and services is for tests, scripts and the e2e suite, never for services.
    return isSpec || from.type === 'type:e2e' || from.scope === 'scope:tooling' ? null : 'only tests may use the tooling lib';
  }
  if (!MAY_IMPORT[from.type]?.includes(to.type)) return `${from.type} may not import ${to.type}`;
  if (from.type === 'type:feature' && to.type === 'type:feature' && !(from.scope === 'scope:mcp' && to.scope === 'scope:gateway')) {
    return 'features do not import each other (only mcp uses the gateway feature)';
  }
  if (from.type === 'type:app' && to.type === 'type:feature' && to.scope !== from.scope && !(from.scope === 'scope:gateway' && to.scope === 'scope:mcp')) {
    return `an app uses the features of its own scope (${from.scope}), not ${to.scope}`;
  }
  if (to.type === 'type:data-access' && to.scope !== 'scope:shared' && from.scope !== to.scope && from.type !== 'type:e2e' && !isSpec) {
    return `${to.name} belongs to ${to.scope}`;
  }
  return null;
}

describe('module boundaries', () => {
  const all = projects();
  const byAlias = new Map(all.filter((p) => p.root.startsWith('libs')).map((p) => [p.name, p]));

  it('tags every project with a type and a scope', () => {
    for (const project of all) expect({ project: project.name, type: !!project.type, scope: !!project.scope }).toEqual({ project: project.name, type: true, scope: true });
  });

  it('keeps every import within the rules', () => {
    const problems: string[] = [];
    for (const project of all) {
      for (const file of sourceFiles(join(ROOT, project.root))) {
        for (const alias of importsOf(file)) {
          const target = byAlias.get(alias);
          if (!target) {
            problems.push(`${relative(ROOT, file)}: @hub/${alias} is not a lib`);
            continue;
          }
          if (target === project) continue;
          const why = violation(project, target, file);
          if (why) problems.push(`${relative(ROOT, file)} imports @hub/${alias}: ${why}`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('never lets an app import another app', () => {
    const problems = all.flatMap((project) =>
      sourceFiles(join(ROOT, project.root)).filter((file) => /from '\.\.\/\.\.\/(apps)\//.test(readFileSync(file, 'utf8'))).map((f) => relative(ROOT, f)),
    );
    expect(problems).toEqual([]);
  });
});
