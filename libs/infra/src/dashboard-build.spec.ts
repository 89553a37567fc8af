// The dashboard's build on a scratch workspace: a page that loads only its own files (nothing inline,
// for the gateway's policy), assets named by their content, and a second build only when an input changed.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { buildDashboard } from './dashboard-build';
import { makeTempDir } from './temp-dir';

const WORKSPACE_ROOT = resolve(__dirname, '../../..');

describe('buildDashboard', () => {
  let root: string;
  let outDir: string;
  const write = async (path: string, text: string) => {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), text);
  };
  const assets = () => readdirSync(join(outDir, 'assets')).sort();
  const page = () => readFileSync(join(outDir, 'index.html'), 'utf8');

  beforeAll(async () => {
    root = await makeTempDir('hub-dashboard-build');
    outDir = join(root, 'dist', 'dashboard');
    await symlink(join(WORKSPACE_ROOT, 'node_modules'), join(root, 'node_modules'));
    await write('apps/dashboard/tsconfig.json', JSON.stringify({ compilerOptions: { jsx: 'react-jsx', strict: true } }));
    await write('apps/dashboard/src/styles.css', 'body { color: #1f2328; }');
    await write('apps/dashboard/src/greeting.ts', "export const greeting = (name: string): string => `hello ${name}`;");
    await write(
      'apps/dashboard/src/main.tsx',
      [
        "import { createRoot } from 'react-dom/client';",
        "import './styles.css';",
        "import { greeting } from './greeting';",
        "createRoot(document.getElementById('root')!).render(<p>{greeting('hub')}</p>);",
      ].join('\n'),
    );
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  it('bundles the app into assets named by their content, and a page that loads them and nothing inline', async () => {
    expect(await buildDashboard(root)).toEqual({ outDir, rebuilt: true });
    const files = assets();
    const script = files.find((file) => /^main-[A-Z0-9]+\.js$/.test(file))!;
    expect(files.filter((file) => file.endsWith('.js'))).toEqual([script]);
    const stylesheet = files.find((file) => /^main-[A-Z0-9]+\.css$/.test(file))!;
    expect(files).toEqual(expect.arrayContaining([script, `${script}.map`, stylesheet]));
    expect(page()).toContain(`<script type="module" src="/assets/${script}"></script>`);
    expect(page()).toContain(`<link rel="stylesheet" href="/assets/${stylesheet}">`);
    expect(page()).not.toMatch(/<script>|<style|style="/);
    const code = readFileSync(join(outDir, 'assets', script), 'utf8');
    expect(code).toContain('hello ');
    expect(code).not.toContain('react-dom.development');
    expect(code.length).toBeLessThan(400_000);
  });

  it('builds nothing when no input changed, tests and editor files included', async () => {
    const before = assets();
    await write('apps/dashboard/src/greeting.spec.ts', "it('is no input', () => undefined);");
    await write('apps/dashboard/src/.greeting.ts.swp', 'editor state');
    expect(await buildDashboard(root)).toEqual({ outDir, rebuilt: false });
    expect(assets()).toEqual(before);
  });

  it("builds again when a source changed, under new names, keeping the previous build's assets (open pages) and no older", async () => {
    const scriptOf = () => assets().find((file) => /^main-[A-Z0-9]+\.js$/.test(file) && page().includes(file))!;
    const first = scriptOf();
    await write('apps/dashboard/src/greeting.ts', "export const greeting = (name: string): string => `welcome ${name}`;");
    expect(await buildDashboard(root)).toEqual({ outDir, rebuilt: true });
    const second = scriptOf();
    expect(second).not.toBe(first);
    expect(readFileSync(join(outDir, 'assets', second), 'utf8')).toContain('welcome ');
    expect(assets()).toEqual(expect.arrayContaining([first, second]));

    await write('apps/dashboard/src/greeting.ts', "export const greeting = (name: string): string => `hi ${name}`;");
    expect(await buildDashboard(root)).toEqual({ outDir, rebuilt: true });
    const third = scriptOf();
    expect(assets()).toEqual(expect.arrayContaining([second, third]));
    expect(assets()).not.toContain(first);
  });

  it('builds again when an output went missing', async () => {
    const script = assets().find((file) => file.endsWith('.js') && page().includes(file))!;
    await unlink(join(outDir, 'assets', script));
    expect(await buildDashboard(root)).toEqual({ outDir, rebuilt: true });
    expect(existsSync(join(outDir, 'assets', script))).toBe(true);
  });

  it('writes where it is told', async () => {
    const elsewhere = join(root, 'elsewhere');
    expect(await buildDashboard(root, { outDir: elsewhere })).toEqual({ outDir: elsewhere, rebuilt: true });
    expect(existsSync(join(elsewhere, 'index.html'))).toBe(true);
  });
});
