import { ImagePolicy } from './image-policy';

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
