import { ImagePolicy, NetworkPolicy } from './image-policy';

describe('ImagePolicy', () => {
  const policy = new ImagePolicy('hub/*, ghcr.io/acme/agent:1.*');

  it('allows images matching a pattern', () => {
    expect(policy.allows('hub/test-agent:latest')).toBe(true);
    expect(policy.allows('ghcr.io/acme/agent:1.4')).toBe(true);
  });

  it('refuses everything else, including look-alikes', () => {
    expect(policy.allows('alpine:latest')).toBe(false);
    expect(policy.allows('ghcr.io/acme/agent:2.0')).toBe(false);
    expect(policy.allows('evil.io/hub/x')).toBe(false);
    expect(policy.allows('localhost/hub/x')).toBe(false);
  });

  it('compares images in their familiar form, whatever the spelling', () => {
    expect(policy.allows('hub/test-agent')).toBe(true);
    expect(policy.allows('docker.io/hub/test-agent:latest')).toBe(true);
    expect(policy.allows('index.docker.io/hub/test-agent')).toBe(true);
    expect(policy.allows(`hub/test-agent@sha256:${'a'.repeat(64)}`)).toBe(true);
    expect(new ImagePolicy('busybox').allows('docker.io/library/busybox:latest')).toBe(true);
    expect(new ImagePolicy('busybox:latest').allows('busybox')).toBe(true);
    expect(new ImagePolicy('busybox').allows('busybox:1.36')).toBe(false);
  });

  it('refuses what Docker would not take for an image reference, even where a pattern matches the text', () => {
    for (const image of ['hub/../busybox', 'hub//x', 'HUB/x', 'hub/X', 'hub/x:', 'hub/x@sha256:short', ' hub/x', 'hub/x ', 'hub/x?y', 'hub/-x', '']) {
      expect({ image, allowed: new ImagePolicy('hub/*, *').allows(image) }).toEqual({ image, allowed: false });
    }
  });

  it('refuses at start a pattern that could never match, or that is no image reference', () => {
    expect(() => new ImagePolicy('docker.io/hub/*')).toThrow(/HUB_ALLOWED_IMAGES: pattern "docker.io\/hub\/\*" could never match/);
    expect(() => new ImagePolicy('hub/*, index.docker.io/library/*')).toThrow(/without "index.docker.io\/"/);
    expect(() => new ImagePolicy('hub/../busybox')).toThrow(/HUB_ALLOWED_IMAGES: "hub\/..\/busybox" must be a Docker image reference .* has an empty or '..' path component/);
  });
});

describe('NetworkPolicy', () => {
  it('gives no network unless a rule matches the image, and never the host network', () => {
    const policy = new NetworkPolicy('hub/claude-code*=bridge; ghcr.io/acme/*=agents');
    expect(policy.networkFor('hub/test-agent:latest')).toBe('none');
    expect(policy.networkFor('hub/claude-code:latest')).toBe('bridge');
    expect(policy.networkFor('ghcr.io/acme/agent:1')).toBe('agents');
    expect(() => new NetworkPolicy('hub/*=host')).toThrow(/not host/);
    expect(() => new NetworkPolicy('hub/*')).toThrow(/image-pattern=network/);
  });

  it('matches familiar forms, and gives an image that does not parse no network', () => {
    const policy = new NetworkPolicy('hub/claude-code=bridge; hub/*=agents');
    expect(policy.networkFor('docker.io/hub/claude-code')).toBe('bridge');
    expect(policy.networkFor('hub/claude-code:latest')).toBe('bridge');
    expect(policy.networkFor('hub/../claude-code')).toBe('none');
    expect(() => new NetworkPolicy('docker.io/hub/*=bridge')).toThrow(/HUB_IMAGE_NETWORKS: pattern .* could never match/);
  });
});
