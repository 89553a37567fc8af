import { createDockerClient } from './docker-client';
import { DockerContainerEngine } from './docker-container-engine';

// Integration test on the real Docker engine (no image needed). The reference goes into the URL
// path (/images/<ref>/json): `hub/../busybox` used to be answered with a redirect that dockerode
// followed into an uncaught exception, which ended the runner.
const engine = new DockerContainerEngine(createDockerClient(process.env['DOCKER_HOST']));

describe('DockerContainerEngine.imageStatus on references Docker would not take', () => {
  const uncaught: unknown[] = [];
  const collect = (error: unknown) => uncaught.push(error);

  beforeAll(async () => {
    await engine.ping();
    process.on('uncaughtException', collect);
  });

  afterAll(() => {
    process.off('uncaughtException', collect);
  });

  it.each([
    ['hub/../busybox', "'hub/../busybox' has an empty or '..' path component"],
    ['hub//x', "'hub//x' has an empty or '..' path component"],
    ['../../etc', "'../../etc' has an invalid registry host '..'"],
    ['hub%2f..%2fbusybox', "contains '%'"],
    ['hub/x?all=1', "contains '?'"],
    ['HUB/x', 'upper-case'],
  ])('refuses %j before asking the engine, naming why', async (image, why) => {
    await expect(engine.imageStatus(image)).rejects.toThrow(why);
  });

  it('still tells a missing image, in any spelling, and nothing escaped uncaught', async () => {
    await expect(engine.imageStatus('hub/does-not-exist:never')).resolves.toBe('missing');
    await expect(engine.imageStatus('docker.io/hub/does-not-exist')).resolves.toBe('missing');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(uncaught).toEqual([]);
  });
});
