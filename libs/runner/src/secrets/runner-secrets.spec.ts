import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSecretGrants, RunnerSecrets } from './runner-secrets';

describe('RunnerSecrets', () => {
  const grants = parseSecretGrants('hub/claude-code*=ANTHROPIC_API_KEY,GITHUB_TOKEN; hub/test-agent:*=CANARY');

  it('gives each image only the secrets granted to it, and only those the runner has', () => {
    const secrets = new RunnerSecrets({ ANTHROPIC_API_KEY: 'sk-ant-123456', CANARY: 'canary-value' }, grants);
    expect(secrets.forImage('hub/claude-code:latest')).toEqual({ ANTHROPIC_API_KEY: 'sk-ant-123456' });
    expect(secrets.forImage('hub/test-agent:latest')).toEqual({ CANARY: 'canary-value' });
    expect(secrets.forImage('hub/other:1')).toEqual({});
  });

  it('masks every occurrence of every secret, in text and in bytes', () => {
    const secrets = new RunnerSecrets({ CANARY: 'canary-value', GITHUB_TOKEN: 'ghp_abcdef' }, grants);
    expect(secrets.maskText('a canary-value b canary-valuecanary-value ghp_abcdef')).toBe(
      'a [masked:CANARY] b [masked:CANARY][masked:CANARY] [masked:GITHUB_TOKEN]',
    );
    const binary = Buffer.concat([Buffer.from([0, 255]), Buffer.from('canary-value'), Buffer.from([7])]);
    expect(secrets.mask(binary)).toEqual(Buffer.concat([Buffer.from([0, 255]), Buffer.from('[masked:CANARY]'), Buffer.from([7])]));
  });

  it('loads secrets from HUB_SECRET_* variables and from a file, the environment winning', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'hub-secrets-')), 'secrets.env');
    writeFileSync(file, '# runner secrets\nANTHROPIC_API_KEY=from-file\n\nGITHUB_TOKEN = ghp_file\n');
    const secrets = RunnerSecrets.load({ HUB_SECRET_ANTHROPIC_API_KEY: 'from-env', OTHER: 'x' }, file, grants);
    expect(secrets.names.sort()).toEqual(['ANTHROPIC_API_KEY', 'GITHUB_TOKEN']);
    expect(secrets.forImage('hub/claude-code:1')).toEqual({ ANTHROPIC_API_KEY: 'from-env', GITHUB_TOKEN: 'ghp_file' });
  });

  it('refuses a malformed grant or secrets file line', () => {
    expect(() => parseSecretGrants('hub/*')).toThrow(/image-pattern=NAME/);
    const file = join(mkdtempSync(join(tmpdir(), 'hub-secrets-')), 'bad.env');
    writeFileSync(file, 'JUST_A_NAME\n');
    expect(() => RunnerSecrets.load({}, file, [])).toThrow(/bad.env:1: expected NAME=value/);
  });
});
