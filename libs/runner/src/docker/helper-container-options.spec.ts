import type { ContainerLaunch, HelperLaunch } from '../ports/container-engine.port';
import {
  containerOptions,
  helperContainerOptions,
  LABEL_ATTEMPT,
  LABEL_HELPER,
  LABEL_RUNNER,
  LABEL_SESSION,
  sessionHelperOptions,
  writableHome,
} from './docker-container-engine';

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

describe("a session's helper (its egress bridge)", () => {
  const { timeoutMs: _, ...rest } = launch;
  const bridge = { ...rest, purpose: 'egress-bridge', sessionId: 's1', labels: { 'hub.egress': 'api.anthropic.com:443' } };

  it('is a helper as hardened as any, labelled with its session and what it serves', () => {
    const options = sessionHelperOptions(bridge);
    expect(options).toMatchObject({
      NetworkDisabled: true,
      Labels: { [LABEL_HELPER]: 'egress-bridge', [LABEL_RUNNER]: 'runner-1', [LABEL_SESSION]: 's1', 'hub.egress': 'api.anthropic.com:443' },
      HostConfig: { NetworkMode: 'none', ReadonlyRootfs: true, CapDrop: ['ALL'], SecurityOpt: ['no-new-privileges'] },
    });
    expect(() => sessionHelperOptions({ ...bridge, labels: { [LABEL_SESSION]: 'other' } })).toThrow(/may not set hub.session/);
  });
});

describe("a session's container", () => {
  const agent: ContainerLaunch = {
    sessionId: 's1',
    attempt: 1,
    image: 'hub/test-agent:latest',
    env: {},
    outputDir: '/data/sessions/s1/attempt-1/output',
    promptFile: '/data/sessions/s1/attempt-1/prompt',
    workspaceDir: '/data/sessions/s1/attempt-1/workspace',
    inputs: [],
    network: 'none',
    limits: launch.limits,
    user: '1000:1000',
    runnerId: 'runner-1',
    logCapBytes: 1024 * 1024,
    fileSizeLimitBytes: 1024 * 1024,
    tmpBytes: 512 * 1024 * 1024,
  };

  it('is hardened: read-only root, a bounded executable /tmp, no capabilities, no new privileges, Docker’s default seccomp, limits, non-root', () => {
    const options = containerOptions('n', agent, '/tmp');
    expect(options).toMatchObject({
      User: '1000:1000',
      HostConfig: {
        ReadonlyRootfs: true,
        Tmpfs: { '/tmp': 'rw,exec,nosuid,nodev,mode=1777,size=536870912' },
        Privileged: false,
        CapDrop: ['ALL'],
        SecurityOpt: ['no-new-privileges'],
        PidsLimit: 128,
        Memory: 512 * 1024 * 1024,
        MemorySwap: 512 * 1024 * 1024,
        IpcMode: 'private',
        Binds: [
          '/data/sessions/s1/attempt-1/output:/hub/output:rw',
          '/data/sessions/s1/attempt-1/prompt:/hub/prompt:ro',
          '/data/sessions/s1/attempt-1/workspace:/workspace:rw',
        ],
      },
    });
    // No seccomp= (nor apparmor=) option: Docker's default profile applies.
    expect(options.HostConfig?.SecurityOpt?.some((option: string) => /seccomp|apparmor/.test(option))).toBe(false);
    expect(options.HostConfig?.CapAdd).toBeUndefined();
    expect(() => containerOptions('n', { ...agent, tmpBytes: 0 })).toThrow(/tmpBytes must be a positive whole number/);
  });

  it('gives the agent a HOME it can write: the image’s when it is /tmp, /workspace or /hub/output, else /tmp', () => {
    const envOf = (imageHome: string | null, env: Record<string, string> = {}) => containerOptions('n', { ...agent, env }, imageHome).Env;
    expect(envOf('/tmp')).toEqual([]);
    expect(envOf('/workspace/')).toEqual([]);
    expect(envOf('/home/agent')).toEqual(['HOME=/tmp']);
    expect(envOf('/tmp/home')).toEqual(['HOME=/tmp']); // the tmpfs starts empty: it would not exist
    expect(envOf(null)).toEqual(['HOME=/tmp']); // Docker would take it from /etc/passwd, on the read-only root
    expect(envOf('/root', { HOME: '/hub/output/home' })).toEqual(['HOME=/hub/output/home']); // the runner's settings say so
    expect(writableHome({ A: '1' }, '/')).toEqual({ A: '1', HOME: '/tmp' });
  });

  it("has networking disabled on network none, and enabled only to join its bridge's namespace (loopback only)", () => {
    expect(containerOptions('n', agent)).toMatchObject({ NetworkDisabled: true, HostConfig: { NetworkMode: 'none' }, Labels: { [LABEL_ATTEMPT]: '1' } });
    expect(containerOptions('n', { ...agent, network: 'container:abc' })).toMatchObject({
      NetworkDisabled: false,
      HostConfig: { NetworkMode: 'container:abc' },
    });
  });
});
