// The production build on a scratch workspace: what it compiles, that the result runs on plain node
// (aliases resolved, decorator metadata kept), and that a second build only redoes what changed.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { builtServicesId, buildServices, serviceEntryPoint } from './service-build';
import { makeTempDir } from './temp-dir';

const WORKSPACE_ROOT = resolve(__dirname, '../../..');

const SOURCES: Record<string, string> = {
  'tsconfig.base.json': JSON.stringify({ compilerOptions: { paths: { '@x/lib': ['libs/lib/src/index.ts'] } } }),
  'apps/gateway/src/main.ts': [
    "import 'reflect-metadata';",
    "import { Greeter } from '@x/lib';",
    "import type { Shape } from './shape';",
    "import { exclaim } from './exclaim';",
    'const shape: Shape = { size: 1 };',
    "const types = Reflect.getMetadata('design:paramtypes', Greeter).map((t: { name: string }) => t.name);",
    'console.log(exclaim(new Greeter(String(shape.size)).greet()), types.join(","));',
  ].join('\n'),
  'apps/gateway/src/shape.ts': 'export interface Shape { size: number }',
  'apps/gateway/src/exclaim.ts': "export const exclaim = (text: string) => text + '!';",
  'apps/gateway/src/main.spec.ts': "it('is not built', () => undefined);",
  'libs/lib/src/index.ts': "export * from './greeter';",
  'libs/lib/src/greeter.ts': [
    'const Injectable = (): ClassDecorator => () => undefined;',
    '@Injectable()',
    'export class Greeter {',
    '  constructor(private readonly name: string) {}',
    "  greet() { return 'hello ' + this.name; }",
    '}',
  ].join('\n'),
};

describe('buildServices', () => {
  let root: string;
  const write = async (path: string, text: string) => {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), text);
  };
  const run = () => execFileSync(process.execPath, [serviceEntryPoint(root, 'gateway')], { encoding: 'utf8' }).trim();

  beforeAll(async () => {
    root = await makeTempDir('hub-build');
    await symlink(join(WORKSPACE_ROOT, 'node_modules'), join(root, 'node_modules'));
    for (const [path, text] of Object.entries(SOURCES)) await write(path, text);
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  it('compiles what the service imports, into JavaScript plain node runs', () => {
    const build = buildServices(root, ['gateway']);

    expect(build).toMatchObject({ compiled: 4, sources: 4, removed: 0 });
    expect(run()).toBe('hello 1! String');
    expect(existsSync(join(root, 'dist/apps/gateway/src/main.spec.js'))).toBe(false);
    expect(existsSync(join(root, 'dist/apps/gateway/src/shape.js'))).toBe(false);
    expect(builtServicesId(root)).toBe(build.buildId);
  });

  it('compiles nothing again when nothing changed, and only what changed otherwise', async () => {
    const first = buildServices(root, ['gateway']);
    expect(first.compiled).toBe(0);

    await write('apps/gateway/src/exclaim.ts', "export const exclaim = (text: string) => text + '?';");
    const second = buildServices(root, ['gateway']);

    expect(second.compiled).toBe(1);
    expect(second.buildId).not.toBe(first.buildId);
    expect(run()).toBe('hello 1? String');
  });

  it('removes the output of a source that is gone', async () => {
    await write('apps/gateway/src/main.ts', SOURCES['apps/gateway/src/main.ts'].replace("import { exclaim } from './exclaim';", "const exclaim = (t: string) => t;"));
    await rm(join(root, 'apps/gateway/src/exclaim.ts'));

    const build = buildServices(root, ['gateway']);

    expect(build.removed).toBe(2);
    expect(existsSync(join(root, 'dist/apps/gateway/src/exclaim.js'))).toBe(false);
    expect(run()).toBe('hello 1 String');
  });

  it('names the import it cannot find', async () => {
    await write('apps/gateway/src/main.ts', "import { gone } from './nowhere';\nconsole.log(gone);");
    expect(() => buildServices(root, ['gateway'])).toThrow(/main\.ts requires \.\/nowhere, which is no TypeScript source/);
  });
});
