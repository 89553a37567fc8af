import {
  egressDestinationCovers,
  egressDestinationMatches,
  formatEgressDestination,
  parseEgressDestination,
  repositoryEgressDestination,
  type EgressDestination,
} from './egress-destination';
import { DEFAULT_EGRESS, EgressPolicy } from './egress-policy';
import { EgressDestinationSchema } from './egress.schemas';

const destination = (text: string): EgressDestination => {
  const parsed = parseEgressDestination(text);
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.destination;
};
const written = (destinations: EgressDestination[]) => destinations.map(formatEgressDestination);

describe('egress destinations', () => {
  it('reads host, host:port and host:*, port 443 when none is given, in lower case without a trailing dot', () => {
    expect(destination('API.Anthropic.com')).toEqual({ host: 'api.anthropic.com', port: 443 });
    expect(destination('example.com.:80')).toEqual({ host: 'example.com', port: 80 });
    expect(destination('*.npmjs.org:*')).toEqual({ host: '*.npmjs.org', port: '*' });
    expect(destination('10.1.2.3:8443')).toEqual({ host: '10.1.2.3', port: 8443 });
  });

  it.each([
    ['', /empty/],
    ['https://api.example.com', /not a URL/],
    ['user@example.com', /not a URL/],
    ['example.com:0', /port "0"/],
    ['example.com:65536', /port/],
    ['example.com:http', /port/],
    ['*', /every host/],
    ['*.com', /top-level domain/],
    ['exa_mple.com', /not a host name/],
    ['-example.com', /not a host name/],
    ['a.*.example.com', /not a host name/],
    ['[::1]:443', /IPv6/],
    ['*.10.0.0.1', /wildcard before an address/],
  ])('refuses %j, saying why', (text, why) => {
    const parsed = parseEgressDestination(text);
    expect(parsed.ok).toBe(false);
    expect(parsed.ok ? '' : parsed.message).toMatch(why);
  });

  it('matches a connection by host (a wildcard: every name below it, not the domain itself) and port', () => {
    const npm = destination('*.npmjs.org');
    expect(egressDestinationMatches(npm, 'registry.npmjs.org', 443)).toBe(true);
    expect(egressDestinationMatches(npm, 'a.b.npmjs.org', 443)).toBe(true);
    expect(egressDestinationMatches(npm, 'npmjs.org', 443)).toBe(false);
    expect(egressDestinationMatches(npm, 'evilnpmjs.org', 443)).toBe(false);
    expect(egressDestinationMatches(npm, 'registry.npmjs.org', 80)).toBe(false);
    expect(egressDestinationMatches(destination('api.example.com'), 'API.example.com.', 443)).toBe(true);
    expect(egressDestinationMatches(destination('api.example.com:*'), 'api.example.com', 8080)).toBe(true);
    expect(egressDestinationMatches(destination('api.example.com:80'), 'api.example.com', 443)).toBe(false);
  });

  it('says whether one destination lies within another (a session within its image)', () => {
    const covers = (outer: string, inner: string) => egressDestinationCovers(destination(outer), destination(inner));
    expect(covers('*.npmjs.org', 'registry.npmjs.org')).toBe(true);
    expect(covers('*.npmjs.org', '*.registry.npmjs.org')).toBe(true);
    expect(covers('*.npmjs.org', '*.npmjs.org')).toBe(true);
    expect(covers('registry.npmjs.org', '*.npmjs.org')).toBe(false);
    expect(covers('*.npmjs.org', 'npmjs.org')).toBe(false);
    expect(covers('example.com:*', 'example.com:80')).toBe(true);
    expect(covers('example.com', 'example.com:*')).toBe(false);
    expect(covers('example.com', 'example.com:80')).toBe(false);
  });

  it("takes the git host of an https repository only", () => {
    expect(repositoryEgressDestination('https://github.com/acme/app.git')).toEqual({ host: 'github.com', port: 443 });
    expect(repositoryEgressDestination('https://git.example:8443/app')).toEqual({ host: 'git.example', port: 8443 });
    expect(repositoryEgressDestination('http://github.com/acme/app')).toBeNull();
    expect(repositoryEgressDestination('git@github.com:acme/app.git')).toBeNull();
    expect(repositoryEgressDestination('/srv/repos/app.git')).toBeNull();
    expect(repositoryEgressDestination(null)).toBeNull();
  });

  it('is kept as host:port in a session request', () => {
    expect(EgressDestinationSchema.parse('Registry.npmjs.org')).toBe('registry.npmjs.org:443');
    expect(EgressDestinationSchema.safeParse('https://x.example').success).toBe(false);
  });
});

describe('EgressPolicy', () => {
  it('by default lets Claude Code reach the Anthropic API and its git host, and every other image nothing', () => {
    const policy = new EgressPolicy(DEFAULT_EGRESS);
    expect(written(policy.imageAllows('hub/claude-code:latest', 'https://github.com/acme/app'))).toEqual(['api.anthropic.com:443', 'github.com:443']);
    expect(written(policy.imageAllows('hub/claude-code:latest', null))).toEqual(['api.anthropic.com:443']);
    expect(written(policy.imageAllows('hub/test-agent:latest', 'https://github.com/acme/app'))).toEqual([]);
    expect(policy.allowsAny).toBe(true);
  });

  it('gives an image the destinations of every rule that matches it, patterns read as images are', () => {
    const policy = new EgressPolicy('hub/*=registry.npmjs.org; hub/claude-code=api.anthropic.com,registry.npmjs.org ;ghcr.io/acme/*=*.acme.dev:*');
    expect(written(policy.imageAllows('docker.io/hub/claude-code', null))).toEqual(['registry.npmjs.org:443', 'api.anthropic.com:443']);
    expect(written(policy.imageAllows('hub/test-agent:latest', null))).toEqual(['registry.npmjs.org:443']);
    expect(written(policy.imageAllows('ghcr.io/acme/agent:1', null))).toEqual(['*.acme.dev:*']);
    expect(written(policy.imageAllows('busybox', null))).toEqual([]);
  });

  it("narrows to what a session asks for, within its image's allowance, and names what is beyond it", () => {
    const policy = new EgressPolicy('hub/*=*.npmjs.org,api.example.com:*,@repository');
    const repository = 'https://git.example/app';
    expect(policy.sessionAllows('hub/x', repository, ['registry.npmjs.org', 'api.example.com:80', 'git.example'])).toEqual({
      allowed: [destination('registry.npmjs.org'), destination('api.example.com:80'), destination('git.example')],
      refused: [],
    });
    expect(policy.sessionAllows('hub/x', repository, ['evil.example', 'registry.npmjs.org:80', 'git.example:22', '*.org'])).toEqual({
      allowed: [],
      refused: ['evil.example', 'registry.npmjs.org:80', 'git.example:22', '*.org'],
    });
    // Asking for nothing is nothing; not asking is the image's allowance.
    expect(policy.sessionAllows('hub/x', null, [])).toEqual({ allowed: [], refused: [] });
    expect(written(policy.sessionAllows('hub/x', null, undefined).allowed)).toEqual(['*.npmjs.org:443', 'api.example.com:*']);
  });

  it('reads none (or nothing) as no destination for any image', () => {
    for (const spec of ['none', '', ' ; ']) {
      const policy = new EgressPolicy(spec);
      expect(policy.imageAllows('hub/claude-code:latest', 'https://github.com/a/b')).toEqual([]);
      expect(policy.allowsAny).toBe(false);
    }
  });

  it('refuses a rule it cannot read, naming it', () => {
    expect(() => new EgressPolicy('hub/*')).toThrow(/HUB_EGRESS: rule "hub\/\*" must look like image-pattern=destination/);
    expect(() => new EgressPolicy('hub/*=https://x.example')).toThrow(/HUB_EGRESS: rule "hub\/\*=https:\/\/x.example": destination .* not a URL/);
    expect(() => new EgressPolicy('docker.io/hub/*=x.example')).toThrow(/could never match/);
  });

  it('describes itself for /health/ready', () => {
    expect(new EgressPolicy(DEFAULT_EGRESS).describe()).toBe(
      "hub/claude-code*: api.anthropic.com:443, the git host of the session's https repository (:443); every other image: nothing",
    );
    expect(new EgressPolicy('none').describe()).toBe('no image may reach any destination');
  });
});
