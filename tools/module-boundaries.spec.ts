// What may import what, from the Nx tags in each project.json: the boundaries the style guide asks
// for, checked on every import of every source file (there is no ESLint here to do it). Each import
// is resolved as TypeScript resolves it (relative paths, the tsconfig path aliases, baseUrl paths,
// `export … from`, `import()`, `require()`) and jest's module mocks, so a rule cannot be dodged by
// spelling an import another way.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import ts from 'typescript';

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
  'type:testing': ['type:contracts', 'type:util', 'type:data-access', 'type:feature', 'type:testing'],
};

function projects(): Project[] {
  return ['apps', 'libs', 'tools'].flatMap((dir) => {
    const candidates = dir === 'tools' ? [''] : readdirSync(join(ROOT, dir));
    return candidates.flatMap((name) => {
      const root = join(dir, name);
      try {
        const tags: string[] = JSON.parse(readFileSync(join(ROOT, root, 'project.json'), 'utf8')).tags ?? [];
        return [{ name: name || dir, root, type: tags.find((t) => t.startsWith('type:'))!, scope: tags.find((t) => t.startsWith('scope:'))! }];
      } catch {
        return [];
      }
    });
  });
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return entry === 'node_modules' ? [] : sourceFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

function compilerOptions(): ts.CompilerOptions {
  const config = ts.readConfigFile(join(ROOT, 'tsconfig.base.json'), ts.sys.readFile);
  return ts.parseJsonConfigFileContent(config.config, ts.sys, ROOT).options;
}

const JEST_MODULE_CALLS = new Set(['mock', 'doMock', 'unmock', 'requireActual', 'requireMock']);

/** Every module a source text names: imports, re-exports, import(), require(), and jest.mock()-style calls. */
function specifiersIn(text: string): string[] {
  const imported = ts.preProcessFile(text, true, true).importedFiles.map((f) => f.fileName);
  const mocked: string[] = [];
  const visit = (node: ts.Node): void => {
    if (
      ts.isCallExpression(node) &&
      ts.isPropertyAccessExpression(node.expression) &&
      ts.isIdentifier(node.expression.expression) &&
      node.expression.expression.text === 'jest' &&
      JEST_MODULE_CALLS.has(node.expression.name.text) &&
      node.arguments[0] &&
      ts.isStringLiteralLike(node.arguments[0])
    ) {
      mocked.push(node.arguments[0].text);
    }
    ts.forEachChild(node, visit);
  };
  if (text.includes('jest.')) visit(ts.createSourceFile('file.ts', text, ts.ScriptTarget.ES2022));
  return [...imported, ...mocked];
}

interface Import {
  specifier: string;
  /** The project the import lands in, or null for a package or a file outside every project. */
  target: Project | null;
  /** Whether it names the project by its alias (its public entry point). */
  viaAlias: boolean;
}

/** Resolves what a file imports, as TypeScript would, to the projects the imports land in. */
export function importsOf(file: string, text: string, all: readonly Project[], options: ts.CompilerOptions): Import[] {
  const roots = [...all].sort((a, b) => b.root.length - a.root.length);
  const projectOf = (path: string) => {
    const inRoot = relative(ROOT, path);
    return roots.find((p) => inRoot === p.root || inRoot.startsWith(p.root + sep)) ?? null;
  };
  return specifiersIn(text).map((specifier) => {
    const resolved = ts.resolveModuleName(specifier, file, options, ts.sys).resolvedModule;
    if (!resolved) {
      // A name TypeScript cannot resolve: one of ours spelled wrong is a problem, a package is not ours to judge.
      const ours = specifier.startsWith('.') || specifier.startsWith('@hub/') || /^(apps|libs|tools)\//.test(specifier);
      return { specifier, target: ours ? { name: '?', root: '?', type: 'unresolved', scope: '?' } : null, viaAlias: false };
    }
    if (resolved.isExternalLibraryImport) return { specifier, target: null, viaAlias: false };
    return { specifier, target: projectOf(resolved.resolvedFileName), viaAlias: Object.hasOwn(options.paths ?? {}, specifier) };
  });
}

/** Whether `from` may import `to`; a reason when not. */
function violation(from: Project, to: Project, file: string): string | null {
  const isSpec = file.endsWith('.spec.ts');
  if (to.type === 'unresolved') return 'does not resolve to a file';
  if (to.type === 'type:app' || to.type === 'type:e2e') return `apps never import each other: ${to.root} is an app`;
  if (to.root === 'tools') return 'tools are checks of the repository, not code to import';
  if (to.type === 'type:testing') {
    // Fixtures and in-memory fakes are for tests: no service may run on them.
    return isSpec || from.type === 'type:e2e' || from.type === 'type:testing' ? null : 'only tests may use the testing lib';
  }
  if (to.scope === 'scope:tooling') {
    // Starting PostgreSQL, NATS and services is for tests, scripts and the e2e suite, never for services
    // (a testing lib, such as a spec harness, is itself only for tests).
    return isSpec || from.type === 'type:e2e' || from.type === 'type:testing' || from.scope === 'scope:tooling'
      ? null
      : 'only tests may use the tooling lib';
  }
  if (!MAY_IMPORT[from.type]?.includes(to.type)) return `${from.type} may not import ${to.type}`;
  if (from.type === 'type:feature' && to.type === 'type:feature') {
    return 'features do not import each other';
  }
  if (from.type === 'type:app' && to.type === 'type:feature' && to.scope !== from.scope) {
    return `an app uses the features of its own scope (${from.scope}), not ${to.scope}`;
  }
  if (to.type === 'type:data-access' && to.scope !== 'scope:shared' && from.scope !== to.scope && from.type !== 'type:e2e' && !isSpec) {
    return `${to.name} belongs to ${to.scope}`;
  }
  return null;
}

/** Every broken rule in one file's imports. */
function problemsIn(from: Project, file: string, text: string, all: readonly Project[], options: ts.CompilerOptions): string[] {
  return importsOf(file, text, all, options).flatMap(({ specifier, target, viaAlias }) => {
    if (!target || target === from) return [];
    const why = violation(from, target, file) ?? (viaAlias ? null : `another project is imported by its alias, not by a path into it`);
    return why ? [`${relative(ROOT, file)} imports '${specifier}': ${why}`] : [];
  });
}

describe('module boundaries', () => {
  const all = projects();
  const options = compilerOptions();
  const byName = (name: string) => all.find((p) => p.name === name)!;

  it('tags every project with a type and a scope', () => {
    expect(all.map((p) => p.name)).toEqual(expect.arrayContaining(['gateway', 'container-runner', 'hub-e2e', 'contracts', 'mcp', 'testing', 'tools']));
    for (const project of all) expect({ project: project.name, type: !!project.type, scope: !!project.scope }).toEqual({ project: project.name, type: true, scope: true });
  });

  it('keeps every import within the rules', () => {
    const problems: string[] = [];
    let checked = 0;
    for (const project of all) {
      const files = project.root === 'tools' ? sourceFiles(join(ROOT, 'tools')) : sourceFiles(join(ROOT, project.root));
      for (const file of files) {
        checked++;
        problems.push(...problemsIn(project, file, readFileSync(file, 'utf8'), all, options));
      }
    }
    expect(checked).toBeGreaterThan(100);
    expect(problems).toEqual([]);
  });

  // The rule itself, on imports written into a file of the gateway app: every way of reaching
  // another app is refused, and the ordinary imports are not.
  describe('refuses an app importing another app, however it is spelled', () => {
    const gatewayFile = join(ROOT, 'apps/gateway/src/some-file.ts');
    const withAppAlias = { ...options, paths: { ...options.paths, '@hub/container-runner-app': ['apps/container-runner/src/main.ts'] } };
    const check = (text: string, opts = options) => problemsIn(byName('gateway'), gatewayFile, text, all, opts);

    it.each([
      ['a relative path', "import { x } from '../../container-runner/src/main';"],
      ['a relative path into the e2e suite', "import { x } from '../../hub-e2e/src/support/hub-api';"],
      ['a baseUrl path', "import { x } from 'apps/container-runner/src/main';"],
      ['a re-export', "export * from '../../session-registry/src/main';"],
      ['a dynamic import', "const m = await import('../../dependency-resolver/src/main');"],
      ['a require', "const m = require('../../container-runner/src/main');"],
      ['a jest module mock', "jest.mock('../../container-runner/src/main');"],
    ])('%s', (_how, text) => {
      expect(check(text)).toEqual([expect.stringMatching(/apps never import each other/)]);
    });

    it('a tsconfig path alias that names an app', () => {
      expect(check("import { x } from '@hub/container-runner-app';", withAppAlias)).toEqual([expect.stringMatching(/apps never import each other/)]);
    });

    it('and lets the gateway import its own files, its libs by alias, and packages', () => {
      expect(check("import { a } from './gateway.module';\nimport { b } from '@hub/gateway-http';\nimport { c } from '@nestjs/common';")).toEqual([]);
    });

    it('and refuses a lib reached by a path instead of its alias', () => {
      expect(check("import { a } from '../../../libs/gateway-http/src/index';")).toEqual([expect.stringMatching(/by its alias/)]);
    });
  });
});
