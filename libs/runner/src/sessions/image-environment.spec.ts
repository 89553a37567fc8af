import { ImageEnvironment } from './image-environment';

describe('ImageEnvironment (HUB_IMAGE_ENV)', () => {
  it('gives each image the variables of the rules that name it, the first rule winning a name', () => {
    const env = new ImageEnvironment(
      'hub/claude-code*=ANTHROPIC_BASE_URL=http://api.anthropic.com:80; hub/*=LANG=C.UTF-8 ;hub/*=ANTHROPIC_BASE_URL=http://other:80;ghcr.io/acme/agent:1.0=OPTS=a=b,c',
    );

    expect(env.forImage('hub/claude-code:latest')).toEqual({ ANTHROPIC_BASE_URL: 'http://api.anthropic.com:80', LANG: 'C.UTF-8' });
    expect(env.forImage('docker.io/hub/test-agent')).toEqual({ LANG: 'C.UTF-8', ANTHROPIC_BASE_URL: 'http://other:80' });
    expect(env.forImage('ghcr.io/acme/agent:1.0')).toEqual({ OPTS: 'a=b,c' });
    expect(env.forImage('busybox')).toEqual({});
    expect(new ImageEnvironment('').forImage('hub/claude-code:latest')).toEqual({});
  });

  it('refuses at start a rule that is not image-pattern=NAME=value', () => {
    for (const spec of ['hub/*', 'hub/*=NAME', '=NAME=value', 'hub/*=1NAME=value', 'hub/*=NA-ME=value']) {
      expect(() => new ImageEnvironment(spec)).toThrow(/HUB_IMAGE_ENV: ".*" must look like image-pattern=NAME=value/);
    }
    expect(() => new ImageEnvironment('docker.io/hub/*=A=b')).toThrow(/HUB_IMAGE_ENV: pattern "docker.io\/hub\/\*" could never match/);
  });

  it('never carries a secret nor the runner’s own variables', () => {
    expect(() => new ImageEnvironment('hub/*=ANTHROPIC_API_KEY=sk-ant-x')).toThrow(
      'HUB_IMAGE_ENV: ANTHROPIC_API_KEY looks like a secret: give it with HUB_SECRET_ANTHROPIC_API_KEY and HUB_IMAGE_SECRETS, which mask it',
    );
    for (const name of ['GITHUB_TOKEN', 'ANTHROPIC_AUTH_TOKEN', 'DB_PASSWORD', 'client_secret', 'AWS_CREDENTIALS']) {
      expect(() => new ImageEnvironment(`hub/*=${name}=x`)).toThrow(/looks like a secret/);
    }
    for (const name of ['HUB_SESSION_ID', 'HTTPS_PROXY', 'http_proxy', 'NO_PROXY', 'ALL_PROXY']) {
      expect(() => new ImageEnvironment(`hub/*=${name}=x`)).toThrow(`HUB_IMAGE_ENV: ${name} is set by the runner, not by configuration`);
    }
    expect(() => new ImageEnvironment('hub/*=MIRROR=https://user:hunter2@mirror.example/npm')).toThrow(/MIRROR holds a URL with a password/);
    expect(new ImageEnvironment('hub/*=MIRROR=https://mirror.example/a@b').forImage('hub/x')).toEqual({ MIRROR: 'https://mirror.example/a@b' });
  });
});
