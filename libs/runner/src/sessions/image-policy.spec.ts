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
});
