import type { HelperLaunch } from '../ports/container-engine.port';
import { helperContainerOptions, LABEL_HELPER, LABEL_RUNNER, LABEL_SESSION } from './docker-container-engine';

const launch: HelperLaunch = {
  purpose: 'capture',
  image: 'hub/test-agent:latest',
  command: ['/bin/sh', '-c', 'exit 0'],
  env: { HUB_BASE: 'abc' },
  mounts: [
    { hostPath: '/data/sessions/s1/workspace', containerPath: '/workspace', readOnly: false },
    { hostPath: '/data/sessions/s1/capture/out', containerPath: '/hub/out', readOnly: true },
  ],
  user: '1000:1000',
  limits: { memoryBytes: 512 * 1024 * 1024, nanoCpus: 1_000_000_000, pids: 128 },
  fileSizeLimitBytes: 1024 * 1024,
  timeoutMs: 10_000,
  runnerId: 'runner-1',
};

describe('helperContainerOptions', () => {
  it('isolates the helper as a session: no network, no capabilities, no new privileges, limits, read-only root', () => {
    const options = helperContainerOptions(launch);
    expect(options.name).toMatch(/^hub-helper-capture-[0-9a-f]{8}$/);
    expect(options).toMatchObject({
      Image: launch.image,
      User: '1000:1000',
      Entrypoint: launch.command,
      Env: ['HUB_BASE=abc'],
      NetworkDisabled: true,
      Labels: { [LABEL_HELPER]: 'capture', [LABEL_RUNNER]: 'runner-1' },
      HostConfig: {
        NetworkMode: 'none',
        Privileged: false,
        CapDrop: ['ALL'],
        SecurityOpt: ['no-new-privileges'],
        PidsLimit: 128,
        Memory: 512 * 1024 * 1024,
        MemorySwap: 512 * 1024 * 1024,
        ReadonlyRootfs: true,
        Tmpfs: { '/tmp': 'rw,nosuid,nodev,mode=1777,size=67108864' },
        Ulimits: [{ Name: 'fsize', Soft: 1024 * 1024, Hard: 1024 * 1024 }],
        Binds: ['/data/sessions/s1/workspace:/workspace:rw', '/data/sessions/s1/capture/out:/hub/out:ro'],
      },
    });
    // Never taken for a session's container by reconciliation.
    expect(options.Labels).not.toHaveProperty(LABEL_SESSION);
  });

  it('refuses root, odd purposes, relative or odd mounts', () => {
    expect(() => helperContainerOptions({ ...launch, user: '0:0' })).toThrow(/non-root/);
    expect(() => helperContainerOptions({ ...launch, purpose: 'Capture/../x' })).toThrow(/purpose/);
    expect(() => helperContainerOptions({ ...launch, mounts: [{ hostPath: 'rel', containerPath: '/w', readOnly: true }] })).toThrow(
      /absolute host path/,
    );
    expect(() => helperContainerOptions({ ...launch, mounts: [{ hostPath: '/a', containerPath: '/', readOnly: true }] })).toThrow(
      /container path other than \//,
    );
    expect(() => helperContainerOptions({ ...launch, command: [] })).toThrow(/needs a command/);
  });
});
