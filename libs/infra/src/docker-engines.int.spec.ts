// Extra Docker engines (startDockerEngine) beside the machine's own: their own dockerd and containerd
// in a temporary directory, an image copied in, killed and started again, then removed without a trace.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { copyImage, engineRequest, startDockerEngine, tagImage, type ExtraDockerEngine } from './docker-engines';
import { makeTempDir } from './temp-dir';

const WORKSPACE_ROOT = resolve(__dirname, '../../..');
const IMAGE = 'hub/test-agent:latest';

/** The processes whose command line names `dir`. */
function processesIn(dir: string): string[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .flatMap((pid) => {
      try {
        const command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
        return command.includes(`${dir}/`) ? [command] : [];
      } catch {
        return [];
      }
    });
}

describe('startDockerEngine', () => {
  let dir: string;
  let engine: ExtraDockerEngine | undefined;

  beforeAll(async () => {
    execFileSync('bash', [join(WORKSPACE_ROOT, 'images/test-agent/build.sh')], { stdio: 'ignore' });
    dir = await makeTempDir('hub-engine');
  });

  afterAll(async () => {
    await engine?.remove();
    await rm(dir, { recursive: true, force: true });
  }, 60_000);

  it('runs an engine of its own, takes a copied image, comes back after a kill with it, and leaves nothing once removed', async () => {
    engine = await startDockerEngine({ dir: join(dir, 'b') });
    const endpoint = { socketPath: engine.socketPath };
    expect(engine.dockerHost).toBe(`unix://${join(dir, 'b', 'docker.sock')}`);
    const info = await engineRequest<{ DockerRootDir: string }>(endpoint, 'GET', '/info');
    expect(info.DockerRootDir).toBe(join(dir, 'b', 'data'));
    expect(await engineRequest<unknown[]>(endpoint, 'GET', '/images/json')).toEqual([]);

    await copyImage(IMAGE, undefined, engine.dockerHost);
    await tagImage(engine.dockerHost, IMAGE, 'hub/test-agent:only-b');
    const tags = (await engineRequest<{ RepoTags: string[] }[]>(endpoint, 'GET', '/images/json')).flatMap((image) => image.RepoTags);
    expect(tags.sort()).toEqual(['hub/test-agent:latest', 'hub/test-agent:only-b']);
    await expect(copyImage('hub/no-such-image:latest', undefined, engine.dockerHost)).rejects.toThrow(/could not be saved/);

    // A container running (loopback only) when the engine is killed: its shim outlives dockerd and containerd.
    const created = await engineRequest<{ Id: string }>(endpoint, 'POST', '/containers/create', {
      Image: IMAGE,
      Entrypoint: ['sleep'],
      Cmd: ['300'],
      Labels: { 'hub.test': 'docker-engines' },
      HostConfig: { NetworkMode: 'none' },
    });
    await engineRequest(endpoint, 'POST', `/containers/${created.Id}/start`);
    await engine.kill();
    expect(engine.pid).toBeUndefined();
    await expect(engineRequest(endpoint, 'GET', '/_ping')).rejects.toThrow();
    const left = processesIn(join(dir, 'b'));
    expect(left.filter((command) => !command.includes('containerd-shim'))).toEqual([]);
    expect(left.filter((command) => command.includes('containerd-shim'))).toHaveLength(1);

    await engine.start();
    expect((await engineRequest<unknown[]>(endpoint, 'GET', '/images/json')).length).toBe(1);
    expect((await engineRequest<{ Id: string }[]>(endpoint, 'GET', '/containers/json?all=1')).map((c) => c.Id)).toEqual([created.Id]);

    await engine.remove();
    engine = undefined;
    expect(existsSync(join(dir, 'b'))).toBe(false);
    expect(processesIn(join(dir, 'b'))).toEqual([]);
  }, 120_000);
});
