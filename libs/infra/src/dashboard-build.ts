import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { build, version as esbuildVersion } from 'esbuild';
import { writeFileAtomically } from './atomic-file';

/**
 * The dashboard's build: apps/dashboard/src bundled by esbuild (minified, with source maps) into
 * `<workspaceRoot>/dist/dashboard/`: `assets/main-<hash>.js` and `.css`, and the chunks the app loads
 * when it needs them (names that change with their content, so the gateway lets browsers keep them),
 * and an `index.html` that loads the entry — no inline
 * script or style, so the page runs under a policy of `script-src 'self'; style-src 'self'`. The
 * gateway serves that directory (dashboardRouter, @hub/gateway-http).
 *
 * Incremental: the manifest (`.dashboard-build.json`) holds a hash of every input — each file under
 * apps/dashboard, the versions of esbuild and of the packages bundled, and this file — so nothing is
 * built when none changed and every output is still there.
 */
export const DASHBOARD_SOURCE_DIR = join('apps', 'dashboard');
export const DASHBOARD_BUILD_DIR = join('dist', 'dashboard');
const MANIFEST = '.dashboard-build.json';
const ENTRY = join(DASHBOARD_SOURCE_DIR, 'src', 'main.tsx');
/** Packages whose code lands in the bundle: a new version is a new build. */
const BUNDLED_PACKAGES = ['react', 'react-dom', 'scheduler', '@xyflow/react', '@xyflow/system', '@dagrejs/dagre', '@dagrejs/graphlib'];
/** What is not an input: tests, and what editors and tools leave beside the sources. */
const NOT_INPUT = /(\.spec\.tsx?$)|(^|\/)(node_modules|\.[^/]*)(\/|$)/;

export interface DashboardBuild {
  outDir: string;
  /** False when the build on disk was already that of the sources. */
  rebuilt: boolean;
}

export interface DashboardBuildOptions {
  /** Where to write it (default `<workspaceRoot>/dist/dashboard`). */
  outDir?: string;
}

interface Manifest {
  /** A hash of every input hash: same inputs, same key. */
  key: string;
  inputs: Record<string, string>;
  /** Every file written, relative to the out dir. */
  outputs: string[];
}

/** Builds the dashboard unless what is on disk is already the build of its sources; see the file's comment. */
export async function buildDashboard(workspaceRoot: string, options: DashboardBuildOptions = {}): Promise<DashboardBuild> {
  const root = resolve(workspaceRoot);
  const outDir = resolve(options.outDir ?? join(root, DASHBOARD_BUILD_DIR));
  const inputs = dashboardInputs(root);
  const key = hashOf(Object.entries(inputs).map(([file, hash]) => `${file} ${hash}`).join('\n'));
  const previous = readManifest(outDir);
  if (previous?.key === key && previous.outputs.every((file) => existsSync(join(outDir, file)))) return { outDir, rebuilt: false };

  const assetsDir = join(outDir, 'assets');
  mkdirSync(assetsDir, { recursive: true });
  const result = await build({
    absWorkingDir: root,
    entryPoints: [join(root, ENTRY)],
    tsconfig: join(root, DASHBOARD_SOURCE_DIR, 'tsconfig.json'),
    bundle: true,
    minify: true,
    sourcemap: 'linked',
    format: 'esm',
    // The graph (React Flow, dagre) is loaded with the orchestration page only: the sessions list starts without it.
    splitting: true,
    target: ['es2022', 'chrome110', 'firefox115', 'safari16'],
    jsx: 'automatic',
    define: { 'process.env.NODE_ENV': '"production"' },
    outdir: assetsDir,
    entryNames: '[name]-[hash]',
    assetNames: '[name]-[hash]',
    chunkNames: '[name]-[hash]',
    metafile: true,
    legalComments: 'linked',
    logLevel: 'silent',
    write: true,
  });
  const written = Object.keys(result.metafile.outputs).map((file) => relative(outDir, resolve(root, file)));
  const entry = (extension: string) => written.find((file) => file.startsWith('assets/main-') && file.endsWith(extension));
  const script = entry('.js');
  if (!script) throw new Error(`the dashboard's build wrote no script (${written.join(', ')})`);
  // The chunks the entry imports outright are fetched with it, not after it was read.
  const entryOutput = Object.entries(result.metafile.outputs).find(([file]) => relative(outDir, resolve(root, file)) === script)![1];
  const preloaded = entryOutput.imports.filter((imported) => imported.kind === 'import-statement').map((imported) => relative(outDir, resolve(root, imported.path)));
  // The page goes last, whole or not at all: a page never names an asset not yet written.
  writeFileAtomically(join(outDir, 'index.html'), indexPage(script, entry('.css'), preloaded));
  const outputs = [...written, 'index.html'];
  // The previous build's assets stay for a page already open (it may still load a chunk of it); older ones go.
  const kept = [...written, ...(previous?.outputs ?? [])].filter((file) => file.startsWith('assets/'));
  removeStaleAssets(assetsDir, new Set(kept.map((file) => basename(file))));
  writeFileAtomically(join(outDir, MANIFEST), JSON.stringify({ key, inputs, outputs } satisfies Manifest, null, 1));
  return { outDir, rebuilt: true };
}

/** The hash of each input: the dashboard's files, the bundled packages' versions, esbuild's, and this build's own code. */
function dashboardInputs(root: string): Record<string, string> {
  const inputs: Record<string, string> = {};
  for (const file of filesUnder(root, DASHBOARD_SOURCE_DIR)) inputs[file] = hashOf(readFileSync(join(root, file)));
  for (const name of BUNDLED_PACKAGES) inputs[`package ${name}`] = packageVersion(root, name);
  inputs['esbuild'] = esbuildVersion;
  inputs['build'] = hashOf(readFileSync(__filename));
  return inputs;
}

function filesUnder(root: string, dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true })
    .flatMap((entry) => {
      const path = join(dir, entry.name);
      if (NOT_INPUT.test(path)) return [];
      return entry.isDirectory() ? filesUnder(root, path) : entry.isFile() ? [path] : [];
    })
    .sort();
}

function packageVersion(root: string, name: string): string {
  try {
    return (JSON.parse(readFileSync(require.resolve(`${name}/package.json`, { paths: [root] }), 'utf8')) as { version: string }).version;
  } catch {
    return 'absent';
  }
}

/** The page: the script as a module (deferred: it runs once the document is parsed) and the chunks it imports, the stylesheet, and where the app goes. */
function indexPage(script: string, stylesheet: string | undefined, preloaded: readonly string[]): string {
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="color-scheme" content="light">
  <title>Hub</title>
  <link rel="icon" href="data:,">
${stylesheet ? `  <link rel="stylesheet" href="/${stylesheet}">\n` : ''}${preloaded.map((chunk) => `  <link rel="modulepreload" href="/${chunk}">\n`).join('')}  <script type="module" src="/${script}"></script>
</head>
<body>
  <div id="root"><noscript>The Hub dashboard needs JavaScript. The API works without it: <a href="/api/docs">/api/docs</a>.</noscript></div>
</body>
</html>
`;
}

/** Assets of builds before the previous one: no open page of the dashboard asks for them any more. */
function removeStaleAssets(assetsDir: string, current: ReadonlySet<string>): void {
  for (const name of readdirSync(assetsDir)) {
    if (!current.has(name) && statSync(join(assetsDir, name)).isFile()) rmSync(join(assetsDir, name), { force: true });
  }
}

function readManifest(outDir: string): Manifest | undefined {
  try {
    const manifest = JSON.parse(readFileSync(join(outDir, MANIFEST), 'utf8')) as Manifest;
    return typeof manifest.key === 'string' && Array.isArray(manifest.outputs) ? manifest : undefined;
  } catch {
    return undefined;
  }
}

const hashOf = (content: string | Buffer) => createHash('sha256').update(content).digest('hex');
