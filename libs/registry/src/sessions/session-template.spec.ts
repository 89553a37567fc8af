import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_EGRESS, DEFAULT_SESSION_TEMPLATES, EgressPolicy, HubError } from '@hub/contracts';
import { RegistrySettings } from '../registry.tokens';
import { checkEgressAllowed, defaultImageFor, loadSessionTemplates, preambleFor } from './session-template';

describe('session types and templates', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hub-templates-'));
  const write = (name: string, content: string) => {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  };

  it('seeds the five types with a preamble each', () => {
    const templates = loadSessionTemplates(undefined);
    expect(Object.keys(templates).sort()).toEqual(['analysis', 'coordination', 'implementation', 'review', 'testing']);
    for (const template of Object.values(templates)) expect(template.preamble.length).toBeGreaterThan(50);
  });

  it('overrides types from a file and keeps the others', () => {
    const templates = loadSessionTemplates(
      write('ok.json', JSON.stringify({ review: { image: 'hub/claude-code:latest', preamble: 'Be strict.' }, docs: {} })),
    );
    const settings = { defaultImage: 'hub/test-agent:latest', templates } as RegistrySettings;
    expect(defaultImageFor(settings, 'review')).toBe('hub/claude-code:latest');
    expect(preambleFor(settings, 'review')).toBe('Be strict.');
    expect(defaultImageFor(settings, 'docs')).toBe('hub/test-agent:latest');
    expect(preambleFor(settings, 'analysis')).toBe(DEFAULT_SESSION_TEMPLATES['analysis'].preamble);
    expect(preambleFor(settings, 'any-label')).toBe('');
  });

  it('refuses a file that is not valid, naming the problem', () => {
    expect(() => loadSessionTemplates(write('bad.json', '{ "review": { "image": "not an image" } }'))).toThrow(/review\.image/);
    expect(() => loadSessionTemplates(write('broken.json', '{'))).toThrow(/cannot be read as JSON/);
    expect(() => loadSessionTemplates(join(dir, 'missing.json'))).toThrow(/missing\.json/);
  });
});

describe('egress asked for at creation', () => {
  const settings = { egressPolicy: new EgressPolicy(DEFAULT_EGRESS) } as RegistrySettings;
  const claude = { name: 'review', image: 'hub/claude-code:latest', repository: 'https://github.com/acme/app' };

  it("lets a session narrow its image's allowance, and not asking at all", () => {
    expect(() => checkEgressAllowed(settings, [{ ...claude, egress: ['api.anthropic.com:443'] }, { ...claude, egress: ['github.com'] }])).not.toThrow();
    expect(() => checkEgressAllowed(settings, [{ ...claude, egress: null }, { ...claude, image: 'hub/test-agent:latest', egress: [] }])).not.toThrow();
  });

  it('refuses (bad_request: 400) a session asking for more than its image may reach, naming the destination and the allowance', () => {
    const refused = (() => {
      try {
        checkEgressAllowed(settings, [
          { ...claude, egress: ['api.anthropic.com:443', 'evil.example:443'] },
          { name: null, image: 'hub/test-agent:latest', repository: null, egress: ['registry.npmjs.org:443'] },
        ]);
      } catch (error) {
        return error as HubError;
      }
      throw new Error('not refused');
    })();
    expect(refused.code).toBe('bad_request');
    expect(refused.message).toBe(
      'egress: destination not allowed (HUB_EGRESS): evil.example:443 for review (hub/claude-code:latest), which may reach api.anthropic.com:443, github.com:443; ' +
        'registry.npmjs.org:443 for hub/test-agent:latest, which may reach nothing',
    );
  });
});
