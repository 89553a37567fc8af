import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { transformSync, version as swcVersion, type Options } from '@swc/core';
import type { HubServiceName } from './hub-service';
import { writeFileAtomically } from './atomic-file';

/**
 * The production build: the four services compiled to CommonJS JavaScript under `dist/`, in the
 * layout of the sources (`dist/apps/gateway/src/main.js`, `dist/libs/config/src/index.js`), run
 * with plain `node`. Only what the services import is compiled: the build follows each service's
 * requires from its main.ts (after swc has rewritten the `@hub/*` aliases to relative paths and
 * dropped type-only imports), so no test or tooling code lands in it. Packages come from the
 * repository's node_modules, found from dist/ by Node's usual lookup.
 *
 * Incremental: a file is compiled again only when its text (or the compiler, or its options)
 * changed; outputs of deleted sources are removed. The build id is a hash of every
 * compiled source, so a stack can tell whether it runs the code on disk.
 */
export const BUILD_DIR = 'dist';
const MANIFEST = '.hub-build.json';

export interface ServiceBuild {
  /** Identifies the compiled code: same sources and compiler, same id. */
  buildId: string;
  outDir: string;
  /** Files compiled this time (0 when everything was up to date). */
  compiled: number;
  /** Outputs removed because their source was deleted. */
  removed: number;
  /** Every source file in the build, relative to the workspace. */
  sources: number;
  ms: number;
}

interface ManifestEntry {
  /** sha256 of the source text. */
  hash: string;
  /** The workspace-relative sources this one requires (already resolved). */
  requires: string[];
}

interface Manifest {
  compiler: string;
  files: Record<string, ManifestEntry>;
  buildId?: string;
}

/** Where a service's compiled entry point is. */
export function serviceEntryPoint(workspaceRoot: string, service: HubServiceName): string {
  return compiledPath(workspaceRoot, join('apps', service, 'src', 'main.ts'));
}

/** Where the build puts a source's JavaScript (`scripts/hub-stack.ts` → `dist/scripts/hub-stack.js`). */
export function compiledPath(workspaceRoot: string, source: string): string {
  return join(workspaceRoot, BUILD_DIR, outputOf(source));
}

/** The id of what `dist/` holds now, or undefined when nothing was built. */
export function builtServicesId(workspaceRoot: string): string | undefined {
  return readManifest(join(workspaceRoot, BUILD_DIR))?.buildId;
}

/**
 * Compiles what changed since the last build (everything the first time); see the file's comment.
 * `programs`: other entry points to build with the services (workspace-relative .ts files), such as
 * the stack's own supervisor, so that the build id covers them too.
 */
export function buildServices(workspaceRoot: string, services: readonly HubServiceName[], programs: readonly string[] = []): ServiceBuild {
  const started = Date.now();
  const root = resolve(workspaceRoot);
  const outDir = join(root, BUILD_DIR);
  const options = compilerOptions(root);
  const compiler = hashOf(`${swcVersion}\n${JSON.stringify(options)}\n${readFileSync(__filename, 'utf8')}`);
  const previous = readManifest(outDir);
  const known = previous?.compiler === compiler ? previous.files : {};
  const files: Record<string, ManifestEntry> = {};
  let compiled = 0;

  // What an earlier build compiled stays built (and up to date): building one service keeps the others'.
  const pending = [
    ...Object.keys(previous?.files ?? {}).filter((source) => existsSync(join(root, source))),
    ...services.map((service) => join('apps', service, 'src', 'main.ts')),
    ...programs,
  ];
  while (pending.length) {
    const source = pending.pop()!;
    if (files[source]) continue;
    const text = readFileSync(join(root, source), 'utf8');
    const hash = hashOf(text);
    const output = join(outDir, outputOf(source));
    let entry = known[source];
    if (!entry || entry.hash !== hash || !existsSync(output)) {
      entry = { hash, requires: compile(root, source, text, output, options) };
      compiled++;
    }
    files[source] = entry;
    pending.push(...entry.requires.filter((next) => !files[next]));
  }

  let removed = 0;
  for (const source of Object.keys(previous?.files ?? {})) {
    if (files[source]) continue;
    for (const file of [outputOf(source), `${outputOf(source)}.map`]) {
      if (existsSync(join(outDir, file))) {
        rmSync(join(outDir, file), { force: true });
        removed++;
      }
    }
  }

  const sources = Object.keys(files).sort();
  const buildId = hashOf(`${compiler}\n${sources.map((source) => `${source} ${files[source].hash}`).join('\n')}`).slice(0, 16);
  writeFileAtomically(join(outDir, MANIFEST), JSON.stringify({ compiler, buildId, files } satisfies Manifest));
  return { buildId, outDir, compiled, removed, sources: sources.length, ms: Date.now() - started };
}

/** Compiles one source to `output` (with its source map) and returns the sources it requires. */
function compile(root: string, source: string, text: string, output: string, options: Options): string[] {
  const { code, map } = transformSync(text, {
    ...options,
    filename: join(root, source),
    sourceFileName: relative(dirname(output), join(root, source)),
  });
  writeFileAtomically(output, `${code}\n//# sourceMappingURL=${output.split('/').pop()}.map\n`);
  if (map) writeFileAtomically(`${output}.map`, map);
  return localRequires(code).map((specifier) => resolveSource(root, source, specifier));
}

/** The relative modules compiled code requires: swc has turned every local import into one. */
function localRequires(code: string): string[] {
  const found = new Set<string>();
  for (const match of code.matchAll(/\brequire\((["'])(\.{1,2}\/[^"']*)\1\)/g)) found.add(match[2]);
  return [...found];
}

/** `../../libs/config/src` from apps/x/src/main.ts → libs/config/src/index.ts (as TypeScript resolves it). */
function resolveSource(root: string, from: string, specifier: string): string {
  const base = join(dirname(from), specifier);
  if (base.startsWith('..')) throw new Error(`${from} requires ${specifier}, outside the workspace ${root}`);
  for (const candidate of [`${base}.ts`, join(base, 'index.ts')]) {
    if (existsSync(join(root, candidate))) return candidate;
  }
  throw new Error(`${from} requires ${specifier}, which is no TypeScript source (${base}.ts or ${base}/index.ts)`);
}

const outputOf = (source: string) => source.replace(/\.ts$/, '.js');

/** tsconfig.base.json's settings, as swc options: decorators with their metadata (Nest's injection needs it), the path aliases. */
function compilerOptions(root: string): Options {
  const tsconfig = JSON.parse(readFileSync(join(root, 'tsconfig.base.json'), 'utf8')) as {
    compilerOptions: { paths: Record<string, string[]> };
  };
  return {
    swcrc: false,
    configFile: false,
    sourceMaps: true,
    module: { type: 'commonjs' },
    jsc: {
      target: 'es2022',
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
      keepClassNames: true,
      baseUrl: root,
      paths: tsconfig.compilerOptions.paths,
    },
  };
}

function readManifest(outDir: string): Manifest | undefined {
  try {
    return JSON.parse(readFileSync(join(outDir, MANIFEST), 'utf8')) as Manifest;
  } catch {
    return undefined;
  }
}

const hashOf = (text: string) => createHash('sha256').update(text).digest('hex');
