import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_SESSION_TEMPLATES } from '@hub/contracts';
import { RegistrySettings } from '../registry.tokens';
import { defaultImageFor, loadSessionTemplates, preambleFor } from './session-template';

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
